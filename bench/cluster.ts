// npm run bench:cluster: what admission costs a real kube-apiserver. One
// control plane (test/e2e's), the built server registered as deploy/ does,
// and bursts of pods created by a client playing a controller (N pods, C at a
// time) into namespaces that meet: no webhook, a canned webhook (decode, fixed
// allow, no I/O), a canned webhook answering with the sidecar webhook's own
// patch, the canned webhook sent the pod as that patch leaves it, the sidecar
// webhook with a custom Sidecar, and the same canned rows and the sidecar
// webhook for the default Sidecar's pod. Prints pods/s, p50/p99 of the create,
// the requests the webhook made per pod (apiserver_request_total), CPU per pod
// and peak RSS of each process, and the ratios against the canned webhooks
// measured in the same run.
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { issueCa, issueServing } from '../src/certs/issue.js';
import { delta, perPod, requestTotals } from '../test/e2e/api-cost.js';
import { configPath, createObject, startE2E, waitUntil, type E2E } from '../test/e2e/env.js';
import { loadWorkloadFixture } from '../test/e2e/fixture-workloads.js';
import { KubeStatusError, resourcePath, type KubeObject } from '../test/e2e/kube-client.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { deployedNodeOptions } from './deployed-node-options.js';
import type { PatchOperation } from '../src/admission/mutator.js';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1000' },
  },
});
const N = Number(values.pods);
const C = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const WARMUP = Math.max(1, Number(values.warmup));

// The canned webhook answers allow with `patch` (none by default): given the sidecar
// webhook's own patch it shows what the API server pays for the injection itself.
async function startCannedWebhook(patch?: unknown): Promise<{ url: string; ca: string; close(): void }> {
  const patchField = patch
    ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }
    : {};
  const ca = await issueCa('bench-canned-ca', { validityMs: 3_600_000 });
  const tls = await issueServing(ca, { commonName: 'canned', sans: ['127.0.0.1'], validityMs: 3_600_000 });
  const srv = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 120_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        apiVersion: string;
        request: { uid: string };
      };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: review.apiVersion,
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: true, ...patchField },
        }),
      );
    });
  });
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(srv.address() as { port: number }).port}`,
    ca: ca.cert,
    close: () => {
      srv.closeAllConnections();
      srv.close();
    },
  };
}

/** The sidecar webhook's patch for `pod`, asked directly as a dry run (nothing written). */
function sidecarPatch(env: E2E, pod: KubeObject): Promise<unknown> {
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'bench',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: pod.metadata?.namespace,
      object: pod,
      userInfo: { username: 'bench' },
      dryRun: true,
    },
  };
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${env.server.url}/mutate-v1-pod-sidecar`,
      { method: 'POST', ca: env.secretCa, headers: { 'content-type': 'application/json' } },
      res => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => {
          const patch = (JSON.parse(body) as { response?: { patch?: string } }).response?.patch;
          if (!patch) return reject(new Error(`the sidecar webhook returned no patch: ${body.slice(0, 300)}`));
          resolve(JSON.parse(Buffer.from(patch, 'base64').toString('utf8')));
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(review));
  });
}

interface Result {
  name: string;
  podsPerSecond: number;
  p50: number;
  p99: number;
  perPod: ReturnType<typeof perPod>;
  cpu: Map<string, number>;
}

// The processes of this bench's control plane, measured from /proc (Linux only;
// this process and its children, never another run's): a burst saturates the
// machine's cores, so pods/s follows the CPU each pod costs.
const PROCESSES: Array<[string, RegExp]> = [
  ['kube-apiserver', /kube-apiserver/],
  ['etcd', /(^|\/)etcd /],
  ['webhook', /dist\/cli\.js serve/],
  ['bench', /bench\/cluster\.ts/],
];
/**
 * A figure of each of this run's processes (this one and its children), summed
 * by name. `measure` gets the pid and the fields of /proc/<pid>/stat after the
 * command name; a process that ended meanwhile is left out.
 */
function perProcess(measure: (pid: string, stat: string[]) => number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter(d => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const name = PROCESSES.find(([, re]) => re.test(cmd))?.[0];
      if (!name) continue;
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const stat = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) !== process.pid && Number(stat[1]) !== process.pid) continue;
      const v = measure(pid, stat);
      if (v !== undefined) out.set(name, (out.get(name) ?? 0) + v);
    } catch {
      /* the process ended */
    }
  }
  return out;
}

/** CPU seconds (user + system). */
const cpuSeconds = () => perProcess((_, stat) => (Number(stat[11]) + Number(stat[12])) / 100);

/** Peak resident memory (VmHWM), in MB. */
const peakRssMb = () =>
  perProcess(pid => {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * Creates a pod as a controller does: when the name generated from generateName
 * was taken already (1,000 pods of one namespace share 27^5 suffixes), the API
 * server answers 500 ServerTimeout and the controller tries again. Returns the
 * number of retries (each one a POST of its own).
 */
async function createPod(env: E2E, pod: KubeObject): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await createObject(env.admin, pod);
      return attempt - 1;
    } catch (e) {
      if (!(e instanceof KubeStatusError && e.status === 500 && e.body.includes('"ServerTimeout"')) || attempt === 5)
        throw e;
    }
  }
}

/** Waits for what a burst leaves behind; returns the requests it made itself (left out of the webhook's). */
type Settle = () => Promise<Map<string, number>>;

async function burst(env: E2E, name: string, namespace: string, object: KubeObject, settle?: Settle): Promise<Result> {
  const pod = { ...object, metadata: { ...object.metadata, namespace } };
  const before = await requestTotals(env.admin);
  let retries = 0;
  const cpuBefore = cpuSeconds();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        next++;
        const t0 = performance.now();
        retries += await createPod(env, pod);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds();
  const cpu = new Map([...cpuAfter].map(([k, v]) => [k, ((v - (cpuBefore.get(k) ?? 0)) * 1000) / N]));
  const own = new Map([['POST pods', N + retries], ...((await settle?.()) ?? [])]);
  const after = await requestTotals(env.admin);
  latencies.sort((a, b) => a - b);
  return {
    name,
    podsPerSecond: N / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perPod: perPod(delta(before, after), N, own),
    cpu,
  };
}

async function warm(env: E2E, pod: KubeObject, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(C, count) }, async () => {
      while (next++ < count) await createPod(env, pod);
    }),
  );
}

async function clean(env: E2E, namespace: string): Promise<void> {
  await env.admin.raw('DELETE', resourcePath('v1', 'pods', namespace), {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    gracePeriodSeconds: 0,
  });
}

// The server runs with the flags it is deployed with, so that its CPU and RSS are the Deployment's.
process.env.E2E_SERVER_NODE_ARGS ??= deployedNodeOptions();
const started = await startE2E();
if ('skipped' in started) {
  console.log(`bench:cluster skipped: ${started.skipped}`);
  process.exit(0);
}
const env = started;
const canned = await startCannedWebhook();
const servers: Array<{ close(): void }> = [canned];
try {
  const ns = (name: string, labels: Record<string, string> = {}) =>
    createObject(env.admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  await ns('bench-none');
  await ns('bench-canned', { 'bench-canned': 'true' });
  await ns('bench-custom', { 'sidecar-injection': 'enabled' });
  await ns('bench-default', { 'sidecar-injection': 'enabled' });
  const register = (name: string, hook: { url: string; ca: string }, label: string) =>
    env.admin.create(configPath('MutatingWebhookConfiguration'), {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name },
      webhooks: [
        {
          name: `${name.replace('bench-', '')}.bench.v6d.io`,
          clientConfig: { url: `${hook.url}/mutate`, caBundle: Buffer.from(hook.ca).toString('base64') },
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' },
          ],
          namespaceSelector: { matchLabels: { [label]: 'true' } },
          sideEffects: 'None',
          failurePolicy: 'Fail',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 10,
        },
      ],
    });
  await register('bench-canned', canned, 'bench-canned');
  /** A namespace met by a canned webhook answering with the sidecar webhook's patch for `pod` in `from`. */
  const cannedWithPatchOf = async (namespace: string, pod: KubeObject, from: string) => {
    const patch = (await sidecarPatch(env, {
      ...pod,
      metadata: { ...pod.metadata, namespace: from },
    })) as PatchOperation[];
    const hook = await startCannedWebhook(patch);
    servers.push(hook);
    await ns(namespace, { [namespace]: 'true' });
    await register(namespace, hook, namespace);
    return patch;
  };
  const custom = loadWorkloadFixture('sidecar/custom-sidecar-sample');
  await createObject(env.admin, {
    ...custom.resources[0]!,
    metadata: { ...custom.resources[0]!.metadata, namespace: 'bench-custom' },
  });
  // What the operator creates for each Sidecar: without it every pod is answered with a warning.
  await createObject(env.admin, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${custom.resources[0]!.metadata!.name}-etcd-service`, namespace: 'bench-custom' },
    spec: { ports: [{ port: 2379 }] },
  });
  const customPatch = await cannedWithPatchOf('bench-canned-patch', custom.object, 'bench-custom');
  // The pod as our patch leaves it, sent as is to the no-op webhook: what the bigger pod
  // costs the API server without a patch to apply.
  const injected = patchedCopy(custom.object, customPatch) as KubeObject;
  const def = loadWorkloadFixture('sidecar/default-deployment');
  // The default Sidecar exists before its patch is asked for, so that the patch carries its uid.
  await createObject(env.admin, { ...def.object, metadata: { ...def.object.metadata, namespace: 'bench-default' } });
  await cannedWithPatchOf('bench-canned-default-patch', def.object, 'bench-default');
  const sidecarPath = resourcePath(
    'k8s.v6d.io/v1alpha1',
    'sidecars',
    'bench-default',
    'app-job-deployment-default-sidecar',
  );
  const converged: Settle = async () => {
    let polls = 0;
    await waitUntil(
      'the default Sidecar count',
      async () => (polls++, (await env.admin.get(sidecarPath)).spec?.replicas === N || undefined),
      10_000,
    ).catch(() => undefined);
    await new Promise(r => setTimeout(r, 2500)); // aggregated events are flushed
    // kube-apiserver 1.20 counts a GET of one custom resource under LIST.
    return new Map([['LIST k8s.v6d.io/sidecars', polls]]);
  };

  const all: Result[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const results: Result[] = [];
    for (const [name, namespace, object, settle] of [
      ['no webhook', 'bench-none', custom.object],
      ['canned webhook', 'bench-canned', custom.object],
      ['canned, our patch', 'bench-canned-patch', custom.object],
      ['canned, injected pod', 'bench-canned', injected],
      ['custom Sidecar', 'bench-custom', custom.object],
      ['canned, default pod', 'bench-canned', def.object],
      ['canned, default patch', 'bench-canned-default-patch', def.object],
      ['default Sidecar', 'bench-default', def.object, converged],
    ] as Array<[string, string, KubeObject, Settle?]>) {
      await clean(env, namespace);
      // Warm-up, not measured: connections, caches, the default Sidecar's creation, and
      // the JIT. A webhook in a cluster has answered thousands of reviews before any
      // burst; measured cold, a Node server pays for compiling its own code.
      await warm(env, { ...object, metadata: { ...object.metadata, namespace } }, round === 0 ? WARMUP : 1);
      await clean(env, namespace);
      await new Promise(r => setTimeout(r, 1500));
      results.push(await burst(env, name, namespace, object, settle));
    }
    all.push(results);
  }
  // The better round of each: the machine is shared, noise only ever slows a run down.
  const best = all[0]!.map((_, i) => all.map(r => r[i]!).sort((a, b) => b.podsPerSecond - a.podsPerSecond)[0]!);
  console.log(
    `\n${N} pods, ${C} at a time, best of ${ROUNDS} rounds (kube-apiserver ${env.serverVersion.gitVersion}):\n`,
  );
  console.log(
    `${'namespace'.padEnd(22)} ${'pods/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  webhook's API requests per pod`,
  );
  for (const r of best) {
    const req = r.perPod.map(x => `${x.request} ${x.perPod}`).join(', ') || '-';
    console.log(
      `${r.name.padEnd(22)} ${r.podsPerSecond.toFixed(0).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}  ${req}`,
    );
  }
  console.log(`\nCPU ms per pod during the burst: ${PROCESSES.map(([p]) => p.padStart(15)).join('')}`);
  for (const r of best)
    console.log(`${r.name.padEnd(32)} ${PROCESSES.map(([p]) => (r.cpu.get(p) ?? 0).toFixed(2).padStart(15)).join('')}`);
  // Where the time goes: the API server's own measure of each webhook call, against the
  // webhook's measure of its answers (the difference is transport and the API server's side).
  const metrics = (await env.admin.raw('GET', '/metrics')).body;
  const avg = (metric: string, label: string) => {
    const sum = new Map<string, number>();
    const count = new Map<string, number>();
    for (const line of metrics.split('\n')) {
      const m = new RegExp(`^${metric}_(sum|count)\\{.*${label}="([^"]+)".*\\} (\\S+)$`).exec(line);
      if (m) (m[1] === 'sum' ? sum : count).set(m[2]!, ((m[1] === 'sum' ? sum : count).get(m[2]!) ?? 0) + Number(m[3]));
    }
    return [...sum].map(([k, v]) => `${k} ${((v / (count.get(k) || 1)) * 1000).toFixed(1)} ms`).join(', ');
  };
  console.log(
    `\nAPI server's time per webhook call (mean): ${avg('apiserver_admission_webhook_admission_duration_seconds', 'name')}`,
  );
  const ours = await new Promise<string>((resolve, reject) => {
    https
      .get(`${env.server.url}/metrics`, { ca: env.secretCa }, res => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  const ownAvg = (() => {
    const m = /^vineyard_webhook_request_duration_seconds_sum\{webhook="sidecar"\} (\S+)$/m.exec(ours);
    const c = /^vineyard_webhook_request_duration_seconds_count\{webhook="sidecar"\} (\S+)$/m.exec(ours);
    return m && c ? `${((Number(m[1]) / Number(c[1])) * 1000).toFixed(1)} ms` : 'n/a';
  })();
  console.log(`the sidecar webhook's own time per review (mean): ${ownAvg}`);
  console.log(
    `peak RSS: ${[...peakRssMb()].map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`).join(', ')} (the webhook's in cluster mode, its caches synced)`,
  );
  const byName = Object.fromEntries(best.map(r => [r.name, r]));
  const row = (name: string) => byName[name]!;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const writes = (r: Result, re: RegExp) => r.perPod.filter(x => re.test(x.request)).reduce((n, x) => n + x.perPod, 0);
  // Each Sidecar row against the canned webhook sent the same pod.
  const customBase = row('canned webhook');
  const defaultBase = row('canned, default pod');
  console.log(
    `\ncustom Sidecar:  pods/s ${ratio(row('custom Sidecar').podsPerSecond, customBase.podsPerSecond)}x the canned webhook's (target >= 0.9)`,
  );
  console.log(
    `default Sidecar: pods/s ${ratio(row('default Sidecar').podsPerSecond, defaultBase.podsPerSecond)}x (target >= 0.8), p99 ${ratio(row('default Sidecar').p99, defaultBase.p99)}x (target <= 1.5)`,
  );
  console.log(
    `default Sidecar: Sidecar writes ${writes(row('default Sidecar'), /^(POST|PUT|PATCH) k8s\.v6d\.io\/sidecars/).toFixed(2)}/pod, Event writes ${writes(row('default Sidecar'), /^(POST|PATCH) events/).toFixed(2)}/pod (targets <= 0.1)`,
  );
  // The same ratios against a webhook that returns the same patch and costs nothing to
  // compute: what is left is the webhook's own cost, the injection's being in both.
  console.log(
    `against the canned webhook answering with the same patch: custom Sidecar ${ratio(row('custom Sidecar').podsPerSecond, row('canned, our patch').podsPerSecond)}x pods/s, default Sidecar ${ratio(row('default Sidecar').podsPerSecond, row('canned, default patch').podsPerSecond)}x pods/s and ${ratio(row('default Sidecar').p99, row('canned, default patch').p99)}x its p99`,
  );
} finally {
  for (const s of servers) s.close();
  await env.stop();
}
