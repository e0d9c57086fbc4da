// The webhook against a real kube-apiserver and etcd (see env.ts): the seed
// workloads, reinvocation, dry run, a concurrent burst, certificates in
// secret mode, and what each admission costs the API server.
import t, { type Test } from 'tap';
import { issueCa, issueServing } from '../../src/certs/issue.js';
import { delta, formatCost, openWatches, perPod, requestTotals, webhookCalls } from './api-cost.js';
import { configPath, createObject, objectPath, e2eFor, waitUntil, type E2E, type WebhookConfig } from './env.js';
import { loadWorkloadFixture, notContained, type WorkloadFixture } from './fixture-workloads.js';
import { KubeStatusError, resourcePath, type KubeObject } from './kube-client.js';
import { startWrongPatchWebhook } from './wrong-patch-webhook.js';

t.setTimeout(300_000);

// The seeds' consumer pods (assembly job2...) are created without their required job's data in
// the cluster: admitted with a warning, as --scheduling-no-data allow does. Data-aware placement
// itself is checked where the data exists (scheduling/seed-workflow-job2) and by the fixtures.
const env: E2E = await e2eFor(t, { serverArgs: ['--scheduling-no-data', 'allow'] });
t.comment(
  `kube-apiserver ${env.serverVersion.gitVersion} at ${env.cluster.url}; vineyard-webhook at ${env.server.url}`,
);
const { admin } = env;

const JOB_NS = 'vineyard-job';
const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

/**
 * Each pod endpoint's fixtures run in a namespace of their own, labelled the
 * way docs/install.md tells a user to opt in to that webhook only: a pod there
 * meets every webhook that matches it, as in a cluster, and the fixture's
 * expected object is that endpoint's alone.
 */
const ENDPOINT_NAMESPACES: Record<string, { renames: Record<string, string>; labels: Record<string, string> }> = {
  sidecar: { renames: {}, labels: { 'sidecar-injection': 'enabled' } },
  operation: { renames: { [JOB_NS]: `${JOB_NS}-operation` }, labels: { 'operation-injection': 'enabled' } },
  scheduling: { renames: { [JOB_NS]: `${JOB_NS}-scheduling` }, labels: {} },
};
const fixtureNamespaces = new Set<string>();

/** Creates `name` with `labels`, or adds them to it. */
async function ensureNamespace(name: string, labels: Record<string, string>): Promise<void> {
  if (!fixtureNamespaces.has(name)) {
    // vineyard-system exists already: the environment made it for the server.
    await createObject(admin, ns(name, labels)).catch((e: unknown) => {
      if (!(e instanceof KubeStatusError && e.status === 409)) throw e;
    });
    fixtureNamespaces.add(name);
  } else if (Object.keys(labels).length > 0) {
    await admin.mergePatch(resourcePath('v1', 'namespaces', undefined, name), { metadata: { labels } });
  }
}

interface Loaded extends WorkloadFixture {
  labels: Record<string, string>;
}
function fixture(name: string): Loaded {
  const setup = ENDPOINT_NAMESPACES[name.split('/')[0]!] ?? { renames: {}, labels: {} };
  return { ...loadWorkloadFixture(name, setup.renames), labels: setup.labels };
}

const podsPath = (namespace: string) => resourcePath('v1', 'pods', namespace);
const sidecarsPath = (namespace: string, name?: string) =>
  resourcePath('k8s.v6d.io/v1alpha1', 'sidecars', namespace, name);

/** Deletes what a test left in the fixture namespaces, so each test starts from the same cluster. */
async function cleanNamespaces(): Promise<void> {
  for (const n of [...fixtureNamespaces, 'vineyard-system']) {
    await admin.raw('DELETE', `${podsPath(n)}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    for (const r of ['sidecars', 'vineyardds']) await admin.raw('DELETE', resourcePath('k8s.v6d.io/v1alpha1', r, n));
    await admin.raw('DELETE', resourcePath('v1', 'configmaps', n));
  }
}

/** Creates the fixture's resources and then its object, as a controller would; returns the stored object. */
async function replay(f: Loaded, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
  await ensureNamespace(f.namespace, f.labels);
  for (const r of f.resources) {
    if (r.metadata?.namespace) await ensureNamespace(r.metadata.namespace, {});
    const created = await createObject(admin, r);
    // A create ignores status; what a controller or the kubelet would report (a Ready vineyardd) goes in through /status.
    if (r.kind === 'Pod' && r.status)
      await admin.update(`${objectPath(created)}/status`, { ...created, status: r.status });
  }
  return createObject(admin, f.object, opts);
}

const containerNames = (pod: KubeObject): string[] => (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);

async function checkFixture(tt: Test, name: string): Promise<KubeObject | undefined> {
  const f = fixture(name);
  await cleanNamespaces();
  if (f.expectedDenial) {
    const err = await replay(f).then(
      () => undefined,
      (e: unknown) => e,
    );
    tt.type(err, KubeStatusError, `${name}: the API server refuses the object`);
    tt.match((err as KubeStatusError).message, f.expectedDenial, `${name}: the denial says why`);
    return undefined;
  }
  const stored = await replay(f);
  // An operation seed's pod also names a vineyardd, so the scheduling webhook adds its env too.
  const opts = { extraNamed: name.startsWith('operation/') };
  tt.same(
    notContained(stored, f.expected, '', opts),
    [],
    `${name}: the stored ${f.object.kind} holds what expected.yaml says`,
  );
  return stored;
}

t.test("certificates in secret mode: the CA the server keeps is the caBundle of deploy/'s configurations", async tt => {
  for (const config of Object.values(env.injected)) {
    for (const w of config.webhooks) {
      tt.equal(
        Buffer.from(w.clientConfig.caBundle!, 'base64').toString('utf8'),
        env.secretCa,
        `${config.kind} webhook ${w.name}: caBundle is the CA of Secret vineyard-webhook-ca`,
      );
      tt.ok(w.clientConfig.service, `${w.name} calls the Service as deploy/ says`);
    }
  }
  // The url twins carry that bundle: the API server trusting it is what every admission below proves.
  const live = await admin.get<WebhookConfig>(configPath('MutatingWebhookConfiguration', 'vineyard-webhook'));
  tt.ok(
    live.webhooks.every(w => w.clientConfig.url?.startsWith(env.server.url)),
    'the mutating configuration now calls the server by url',
  );
});

t.test('seed workloads are stored as the fixtures say', async tt => {
  const seeds = [
    'sidecar/default-deployment',
    'sidecar/custom-sidecar-sample',
    'sidecar/metrics-spill-pvc',
    'scheduling/seed-workflow-job1',
    'scheduling/seed-workflow-job2',
    'operation/seed-assembly-job2',
    'sidecar-default/seed-sidecar-sample-with-volumes',
    'sidecar-validate/spill-rate-out-of-range',
  ];
  for (const name of seeds)
    await tt.test(name, async t2 => {
      await checkFixture(t2, name);
    });
});

t.test('the default Sidecar is created by the first pod, with the name and uid the pod carries', async tt => {
  const pod = await checkFixture(tt, 'sidecar/default-deployment');
  const sidecar = await admin.get(sidecarsPath(JOB_NS, 'app-job-deployment-default-sidecar'));
  const vineyardd = pod!.spec.containers.find((c: { name: string }) => c.name === 'vineyard-sidecar');
  const uidEnv = vineyardd?.env?.find((e: { name: string }) => e.name === 'VINEYARDD_UID');
  tt.equal(uidEnv?.value, sidecar.metadata!.uid, 'VINEYARDD_UID is the uid the API server gave the Sidecar');
});

t.test(
  "assembly: the required job's pods in the pod's namespace are labelled, other namespaces untouched",
  async tt => {
    await checkFixture(tt, 'operation/seed-assembly-job2');
    const job1 = await admin.list(podsPath(`${JOB_NS}-operation`), 'app=assembly-job1');
    tt.equal(job1.items.length, 2);
    for (const p of job1.items)
      tt.equal(p.metadata!.labels!['need-injected-assembly'], 'true', `${p.metadata!.name} labelled`);
    const other = await admin.list(podsPath('other-team'), 'app=assembly-job1');
    tt.equal(
      other.items[0]?.metadata!.labels!['need-injected-assembly'],
      undefined,
      "other-team's pod of the same job name not labelled",
    );
  },
);

t.test('reinvocation: with a second copy of the sidecar webhook the stored pod has one vineyard-sidecar', async tt => {
  await cleanNamespaces();
  const mutating = env.urlTwin(env.injected.MutatingWebhookConfiguration, 'vineyard-webhook-copy');
  const COPY = 'sidecar-copy.vineyard-webhook.v6d.io';
  mutating.webhooks = mutating.webhooks.filter(w => w.name.startsWith('sidecar.')).map(w => ({ ...w, name: COPY }));
  await admin.create(configPath('MutatingWebhookConfiguration'), mutating);
  tt.teardown(() => admin.delete(configPath('MutatingWebhookConfiguration', 'vineyard-webhook-copy')));
  const f = fixture('sidecar/custom-sidecar-sample');
  // The API server sees a new configuration a moment later: dry runs until it calls the copy.
  await ensureNamespace(f.namespace, f.labels);
  for (const r of f.resources) await createObject(admin, r);
  await waitUntil('the copy of the sidecar webhook called', async () => {
    await createObject(admin, f.object, { dryRun: true });
    return (await webhookCalls(admin, COPY)) > 0;
  });
  const calls = await webhookCalls(admin, COPY);
  const stored = await createObject(admin, f.object);
  tt.ok((await webhookCalls(admin, COPY)) > calls, 'the API server called the copy for this pod');
  tt.same(
    containerNames(stored).filter(n => n === 'vineyard-sidecar'),
    ['vineyard-sidecar'],
    'exactly one vineyard-sidecar',
  );
  tt.same(notContained(stored, f.expected), [], 'and the pod is what the fixture expects');
});

t.test('dry run: the answer shows the injection, nothing is written', async tt => {
  await cleanNamespaces();
  const f = fixture('sidecar/default-deployment');
  await ensureNamespace(f.namespace, f.labels);
  const answer = await createObject(admin, f.object, { dryRun: true });
  tt.ok(containerNames(answer).includes('vineyard-sidecar'), 'the dry-run answer is injected');
  tt.same((await admin.list(podsPath(JOB_NS))).items, [], 'no pod stored');
  tt.equal(
    await admin.find(sidecarsPath(JOB_NS, 'app-job-deployment-default-sidecar')),
    null,
    'no default Sidecar created',
  );
});

t.test(
  'native sidecars need Kubernetes >= 1.29',
  {
    skip:
      env.serverVersion.minor < 29
        ? `the API server is ${env.serverVersion.gitVersion}: native sidecars (restartable init containers) need 1.29`
        : false,
  },
  async tt => {
    await cleanNamespaces();
    const f = fixture('sidecar/native-annotation');
    const stored = await replay(f);
    tt.same(notContained(stored, f.expected), []);
  },
);

t.test(
  'a burst of 50 default-Sidecar pods created concurrently: all admitted, the count right, the API cost printed',
  async tt => {
    await cleanNamespaces();
    const f = fixture('sidecar/default-deployment');
    await ensureNamespace(f.namespace, f.labels);
    const before = await requestTotals(admin);
    const N = 50;
    const results = await Promise.allSettled(Array.from({ length: N }, () => createObject(admin, f.object)));
    const failed = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason));
    tt.same(failed, [], 'every pod admitted');
    const pods = (await admin.list(podsPath(JOB_NS), 'app=job-deployment')).items;
    tt.equal(pods.length, N);
    tt.ok(
      pods.every(p => containerNames(p).filter(n => n === 'vineyard-sidecar').length === 1),
      'each injected once',
    );
    const sidecarPath = sidecarsPath(JOB_NS, 'app-job-deployment-default-sidecar');
    let ownReads = 0;
    const replicas = await waitUntil(
      'the default Sidecar counts every pod',
      async () => {
        ownReads++;
        const s = await admin.get(sidecarPath);
        return s.spec?.replicas === N ? N : undefined;
      },
      5_000,
    ).catch(async () => (ownReads++, (await admin.get(sidecarPath)).spec?.replicas));
    tt.equal(replicas, N, 'spec.replicas of the default Sidecar is the number of pods within 5 s');
    // Aggregated events are written within the recorder's flush interval.
    await new Promise(r => setTimeout(r, 2500));
    const after = await requestTotals(admin);
    // The suite's own requests: the pod creates, the pod list and the Sidecar reads above (1.20
    // counts a GET of one custom resource under verb LIST).
    const own = new Map([
      ['POST pods', N],
      ['LIST pods', 1],
      ['LIST k8s.v6d.io/sidecars', ownReads],
    ]);
    const rows = perPod(delta(before, after), N, own);
    tt.comment(
      `API requests per admitted pod (burst of ${N} default-Sidecar pods at once, until the count settled):\n${formatCost(rows)}`,
    );
    const total = (re: RegExp) => rows.filter(r => re.test(r.request)).reduce((n, r) => n + r.total, 0);
    tt.ok(total(/^(POST|PUT|PATCH) k8s\.v6d\.io\/sidecars/) <= N / 10 + 1, 'Sidecar writes: at most one per ten pods');
    tt.ok(total(/^(POST|PATCH) events/) <= N / 10 + 1, 'Event writes: at most one per ten pods');
    tt.ok(
      total(/^(POST|PATCH) events/) >= 1,
      'and the injections are recorded (a new Event, or the count of the one an earlier test left)',
    );

    // Scale down: the count follows the pods that are left.
    for (const p of pods.slice(0, 20)) await admin.delete(`${podsPath(JOB_NS)}/${p.metadata!.name}`);
    const left = await waitUntil(
      'the count follows a scale-down',
      async () => {
        const s = await admin.get(sidecarPath);
        return s.spec?.replicas === N - 20 ? N - 20 : undefined;
      },
      5_000,
    ).catch(async () => (await admin.get(sidecarPath)).spec?.replicas);
    tt.equal(left, N - 20, 'spec.replicas is lowered when pods go');

    // Finished pods (a Job's) still exist but no longer run a vineyardd: not counted.
    for (const p of pods.slice(20, 25)) {
      const path = `${podsPath(JOB_NS)}/${p.metadata!.name}`;
      const current = await admin.get(path);
      await admin.update(`${path}/status`, { ...current, status: { ...current.status, phase: 'Succeeded' } });
    }
    const running = await waitUntil(
      'the count leaves finished pods out',
      async () => {
        const s = await admin.get(sidecarPath);
        return s.spec?.replicas === N - 25 ? N - 25 : undefined;
      },
      5_000,
    ).catch(async () => (await admin.get(sidecarPath)).spec?.replicas);
    tt.equal(running, N - 25, 'spec.replicas leaves out pods that Succeeded');
  },
);

t.test(
  "placement: a workflow's pods are stored with the node affinity of its scheduledOrder; bound pods use up their node",
  async tt => {
    const namespace = 'e2e-workflow';
    await ensureNamespace(namespace, {});
    const container = { name: 'job', image: 'example.com/job:1.0' };
    // Two pods already running on a-node (created bound, as a controller with nodeName would).
    for (const i of [1, 2]) {
      await createObject(admin, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `wf-bound-${i}`, namespace, labels: { app: 'wf' } },
        spec: { nodeName: 'a-node', containers: [container] },
      });
    }
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'wf-',
        namespace,
        labels: { app: 'wf', 'scheduling.v6d.io/enabled': 'true' },
        annotations: { scheduledOrder: 'a-node=2,b-node=2', workloadSelector: 'app=wf' },
      },
      spec: { containers: [container] },
    };
    const nodes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await admin.raw('POST', podsPath(namespace), pod);
      tt.equal(r.status, 201, `pod ${i + 1} admitted`);
      const stored = JSON.parse(r.body) as KubeObject;
      const terms =
        stored.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
      nodes.push(
        terms
          .map((t: { matchExpressions: Array<{ key: string; values: string[] }> }) =>
            t.matchExpressions.find(e => e.key === 'kubernetes.io/hostname')?.values.join(','),
          )
          .join('|'),
      );
      tt.equal(stored.metadata?.annotations?.['scheduling.v6d.io/placement'], nodes[i], 'the decision is recorded');
      tt.notOk(stored.spec?.nodeName, 'not bound: the scheduler still checks fit and taints');
    }
    tt.same(
      nodes,
      ['b-node', 'b-node', 'a-node'],
      'b-node has room for two; then every node is full and a-node is as good as b-node',
    );
  },
);

t.test('pods admitted by the webhook but refused later (a quota) are not counted', async tt => {
  const namespace = 'e2e-quota';
  await ensureNamespace(namespace, { 'sidecar-injection': 'enabled' });
  const quotaPath = resourcePath('v1', 'resourcequotas', namespace, 'pods');
  await admin.create(resourcePath('v1', 'resourcequotas', namespace), {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'pods', namespace },
    spec: { hard: { pods: '3' } },
  });
  // No controller manager: the quota's usage is set by hand once, then admission keeps it.
  const q = await admin.get(quotaPath);
  await admin.update(`${quotaPath}/status`, { ...q, status: { hard: { pods: '3' }, used: { pods: '0' } } });
  const f = fixture('sidecar/default-deployment');
  const object = { ...f.object, metadata: { ...f.object.metadata, namespace } };
  const outcomes: string[] = [];
  for (let i = 0; i < 6; i++) {
    outcomes.push(
      await createObject(admin, object).then(
        () => 'admitted',
        (e: unknown) => (e instanceof KubeStatusError && /exceeded quota/.test(e.message) ? 'over quota' : String(e)),
      ),
    );
  }
  tt.same(
    outcomes,
    ['admitted', 'admitted', 'admitted', 'over quota', 'over quota', 'over quota'],
    'the quota refuses pods after our webhook let them through',
  );
  const path = sidecarsPath(namespace, 'app-job-deployment-default-sidecar');
  const replicas = await waitUntil(
    'the count of the pods that exist',
    async () => ((await admin.get(path)).spec?.replicas === 3 ? 3 : undefined),
    5_000,
  ).catch(async () => (await admin.get(path)).spec?.replicas);
  tt.equal(replicas, 3, 'spec.replicas counts the 3 pods that exist, not the 6 admissions');
});

t.test('the watch caches reconnect after the API server restarts', async tt => {
  await env.cluster.restartApiserver();
  const f = fixture('sidecar/custom-sidecar-sample');
  await cleanNamespaces();
  await ensureNamespace(f.namespace, f.labels);
  // The metrics start again from zero with the new process: everything counted is after the restart.
  const sidecar = { ...f.resources[0]!, metadata: { ...f.resources[0]!.metadata, name: 'after-restart' } };
  await waitUntil(
    'the webhook watches Sidecars again',
    async () => (await openWatches(admin, 'sidecars')) > 0 || undefined,
    45_000,
  );
  await createObject(admin, sidecar);
  const object = {
    ...f.object,
    metadata: {
      ...f.object.metadata,
      annotations: { ...f.object.metadata!.annotations, 'sidecar.v6d.io/name': 'after-restart' },
    },
  };
  await waitUntil(
    'the pod admitted from the cache',
    async () => {
      const before = await requestTotals(admin, true);
      const dry = await createObject(admin, object, { dryRun: true });
      const after = await requestTotals(admin, true);
      const live =
        (after.get('LIST k8s.v6d.io/sidecars [resource]') ?? 0) -
        (before.get('LIST k8s.v6d.io/sidecars [resource]') ?? 0);
      return (containerNames(dry).includes('vineyard-sidecar') && live === 0) || undefined;
    },
    20_000,
  );
  tt.pass('a pod naming a Sidecar created after the restart is injected with no live read of it');
});

t.test('a deliberately wrong patch is rejected by the API server', async tt => {
  const ca = await issueCa('e2e-wrong-patch-ca', { validityMs: 3_600_000 });
  const serving = await issueServing(ca, { commonName: 'wrong-patch', sans: ['127.0.0.1'], validityMs: 3_600_000 });
  const hook = await startWrongPatchWebhook(serving);
  tt.teardown(() => hook.close());
  await createObject(admin, ns('e2e-wrong-patch', { 'e2e-wrong-patch': 'true' }));
  const config = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'e2e-wrong-patch' },
    webhooks: [
      {
        name: 'wrong-patch.e2e.v6d.io',
        clientConfig: { url: `${hook.url}/mutate`, caBundle: Buffer.from(ca.cert).toString('base64') },
        rules: [
          { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' },
        ],
        namespaceSelector: { matchLabels: { 'e2e-wrong-patch': 'true' } },
        sideEffects: 'None',
        failurePolicy: 'Fail',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 5,
      },
    ],
  };
  await admin.create(configPath('MutatingWebhookConfiguration'), config);
  tt.teardown(() => admin.delete(configPath('MutatingWebhookConfiguration', 'e2e-wrong-patch')));
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'wrong-', namespace: 'e2e-wrong-patch' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };
  // Dry runs until the API server calls the new webhook: a real create before that would be stored.
  await waitUntil('the wrong-patch webhook called', async () => {
    await createObject(admin, pod, { dryRun: true }).catch(() => undefined);
    return hook.calls() > 0 || undefined;
  });
  const err = await createObject(admin, pod).then(
    () => undefined,
    (x: unknown) => x,
  );
  tt.type(err, KubeStatusError);
  tt.equal((err as KubeStatusError).status, 500);
  tt.match(
    (err as KubeStatusError).message,
    /add operation does not apply/,
    'the API server says the patch does not apply',
  );
  tt.same((await admin.list(podsPath('e2e-wrong-patch'))).items, [], 'nothing stored');
});

t.test('the webhook server wrote no error while the suite ran', async tt => {
  const errors = env.server
    .output()
    .split('\n')
    .filter(l => /"level":(50|60)/.test(l));
  tt.same(errors, []);
});
