// 200 reviews mixing every endpoint, sent at once to the real server (an
// HTTP/1.1 keep-alive agent with 25 sockets, as the API server uses, plus an
// HTTP/2 session) backed by the fake API server, give the same answers as the
// same reviews sent one by one; each default Sidecar is created exactly once,
// and the required jobs' pods end up labelled the same way.
import t from 'tap';
import https from 'node:https';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { h1, h2, h2connect, startTestServer } from './helpers/server.js';

const NS = 'burst';
const SIDECAR_API = 'k8s.v6d.io/v1alpha1';

const seed = () => [
  {
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    metadata: { name: 'sc', namespace: NS },
    spec: { selector: 'app=custom', metric: { enable: true } },
  },
  // A default Sidecar that exists already: its count goes on from 3.
  {
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    metadata: { name: 'app-web-default-sidecar', namespace: NS },
    spec: { replicas: 3, selector: 'app=web' },
  },
  {
    apiVersion: SIDECAR_API,
    kind: 'Vineyardd',
    metadata: { name: 'vineyardd-sample', namespace: 'vineyard-system' },
    spec: { vineyard: { socket: '/run/v6d/{{.Name}}' } },
  },
  ...['job-a-1', 'job-a-2', 'job-b-1'].map(name => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: name.slice(0, 5) } },
    spec: { containers: [{ name: 'main', image: 'job:1' }] },
  })),
];

interface Review {
  path: string;
  body: string;
  dryRun: boolean;
  counts?: string;
}

let uid = 0;
function review(
  path: string,
  kind: { group: string; version: string; kind: string },
  object: unknown,
  dryRun = false,
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `u${++uid}`, kind, operation: 'CREATE', namespace: NS, dryRun, object },
  });
}
const POD = { group: '', version: 'v1', kind: 'Pod' };
const SIDECAR = { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' };
const pod = (i: number, labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: `p${i}-`, labels, annotations },
  spec: {
    containers: [
      { name: 'app', image: 'busybox', command: ['/bin/sh', '-c', `run ${i}`] },
      { name: 'helper', image: 'python', command: ['python3', '/h.py'] },
    ],
  },
});

function reviews(): Review[] {
  const out: Review[] = [];
  for (let i = 0; i < 200; i++) {
    const dryRun = i % 17 === 0;
    switch (i % 8) {
      case 0:
      case 1: // the default Sidecar of app=etl, created by the first of them
        out.push({
          path: '/mutate-v1-pod-sidecar',
          body: review(
            '/mutate-v1-pod-sidecar',
            POD,
            pod(i, { app: 'etl', 'sidecar.v6d.io/enabled': 'true' }, { 'sidecar.v6d.io/name': 'default' }),
            dryRun,
          ),
          dryRun,
          counts: 'app-etl-default-sidecar',
        });
        break;
      case 2: // the existing default Sidecar of app=web
        out.push({
          path: '/mutate-v1-pod-sidecar',
          body: review('/mutate-v1-pod-sidecar', POD, pod(i, { app: 'web', 'sidecar.v6d.io/enabled': 'true' }), dryRun),
          dryRun,
          counts: 'app-web-default-sidecar',
        });
        break;
      case 3: // a custom Sidecar; every tenth a missing one
        out.push({
          path: '/mutate-v1-pod-sidecar',
          body: review(
            '/mutate-v1-pod-sidecar',
            POD,
            pod(
              i,
              { app: 'custom', 'sidecar.v6d.io/enabled': 'true' },
              { 'sidecar.v6d.io/name': i % 10 === 3 ? 'missing' : 'sc' },
            ),
            dryRun,
          ),
          dryRun,
        });
        break;
      case 4: // operation gating, labelling the required jobs' pods
        out.push({
          path: '/mutate-v1-pod',
          body: review(
            '/mutate-v1-pod',
            POD,
            pod(
              i,
              {
                app: 'consumer',
                'assembly.v6d.io/enabled': 'true',
                'assembly.v6d.io/type': i % 3 ? 'local' : 'remote',
              },
              { 'scheduling.k8s.v6d.io/required': 'job-a,job-b,job-c' },
            ),
            dryRun,
          ),
          dryRun,
        });
        break;
      case 5:
        out.push({
          path: '/mutate-v1-pod-scheduling',
          body: review(
            '/mutate-v1-pod-scheduling',
            POD,
            pod(
              i,
              {
                app: 'x',
                'scheduling.k8s.v6d.io/vineyardd': i % 2 ? 'vineyardd-sample' : 'vineyard-system/other',
                'scheduling.k8s.v6d.io/job': `job-${i}`,
              },
              { 'scheduling.k8s.v6d.io/required': 'job-a' },
            ),
            dryRun,
          ),
          dryRun,
        });
        break;
      case 6:
        out.push({
          path: '/mutate-k8s-v6d-io-v1alpha1-sidecar',
          body: review(
            '/mutate-k8s-v6d-io-v1alpha1-sidecar',
            SIDECAR,
            {
              apiVersion: SIDECAR_API,
              kind: 'Sidecar',
              metadata: { name: `s${i}`, namespace: NS },
              spec: { vineyard: { size: `${i}Mi` } },
            },
            dryRun,
          ),
          dryRun,
        });
        break;
      case 7:
        out.push({
          path: '/validate-k8s-v6d-io-v1alpha1-sidecar',
          body: review(
            '/validate-k8s-v6d-io-v1alpha1-sidecar',
            SIDECAR,
            {
              apiVersion: SIDECAR_API,
              kind: 'Sidecar',
              metadata: { name: `s${i}`, namespace: NS },
              spec: { replicas: i % 3 ? 1 : -1, vineyard: { size: i % 2 ? '1Gi' : '1GB' } },
            },
            dryRun,
          ),
          dryRun,
        });
        break;
    }
  }
  return out;
}

/** What a review's answer means, without what legitimately differs between runs: the created Sidecar's uid. */
function decode(body: string) {
  const res = JSON.parse(body).response;
  const patch = res.patch ? JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) : undefined;
  const text = JSON.stringify(patch ?? null).replace(/("name":"VINEYARDD_UID","value":)"[^"]*"/g, '$1"<uid>"');
  return { allowed: res.allowed, status: res.status, warnings: res.warnings, patch: JSON.parse(text) };
}

async function run(all: Review[], mode: 'sequential' | 'concurrent') {
  const api = await FakeApiServer.start({ objects: seed() });
  const srv = await startTestServer({ store: createKubeStore(fakeKubeConfig(api.url)) });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 25 });
  const session = h2connect(srv);
  try {
    // One in four over HTTP/2.
    const send = async (r: Review, i: number) => {
      const reply =
        i % 4 === 3
          ? await h2(session, 'POST', `${r.path}?timeout=10s`, r.body)
          : await h1(srv, 'POST', `${r.path}?timeout=10s`, r.body, {}, agent);
      if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body}`);
      return decode(reply.body);
    };
    const answers =
      mode === 'sequential'
        ? await all.reduce<Promise<ReturnType<typeof decode>[]>>(
            async (acc, r, i) => [...(await acc), await send(r, i)],
            Promise.resolve([]),
          )
        : await Promise.all(all.map(send));
    const sidecars = Object.fromEntries(
      api.list<any>(SIDECAR_API, 'Sidecar', NS).map(s => [s.metadata.name, s.spec.replicas]),
    );
    const jobLabels = Object.fromEntries(api.list<any>('v1', 'Pod', NS).map(p => [p.metadata.name, p.metadata.labels]));
    const conflicts = api.requests.filter(r => r.status === 409).length;
    return { answers, sidecars, jobLabels, conflicts };
  } finally {
    session.close();
    agent.destroy();
    await srv.close();
    await api.close();
  }
}

t.test('200 concurrent reviews answer as 200 sequential ones, and create each default Sidecar once', async t => {
  const all = reviews();
  const sequential = await run(all, 'sequential');
  const concurrent = await run(all, 'concurrent');

  t.equal(concurrent.answers.length, 200);
  let same = 0;
  all.forEach((r, i) => {
    if (JSON.stringify(concurrent.answers[i]) === JSON.stringify(sequential.answers[i])) same++;
    else t.same(concurrent.answers[i], sequential.answers[i], `review ${i} (${r.path}) answers the same`);
  });
  t.equal(same, 200, 'every answer is the same');

  // Admission does not count pods (the counter does, from the pods that exist): the first pod creates.
  t.equal(concurrent.sidecars['app-etl-default-sidecar'], 1, 'app=etl created once, by the first pod');
  t.equal(concurrent.sidecars['app-web-default-sidecar'], 3, 'app=web, which existed, not written');
  t.same(concurrent.sidecars, sequential.sidecars, 'the same Sidecars, with the same counts');
  t.same(concurrent.jobLabels, sequential.jobLabels, "the required jobs' pods are labelled the same way");
  t.equal(concurrent.jobLabels['job-a-1']?.['need-injected-assembly'], 'true');
  t.equal(sequential.conflicts, 0, 'the sequential run met none');
  // Every kind of answer is in the mix.
  const kinds = new Set(
    sequential.answers.map(a => (a.allowed ? (a.patch ? 'patched' : 'allowed') : `denied ${a.status.code}`)),
  );
  t.ok(
    kinds.has('patched') && kinds.has('denied 403') && kinds.has('denied 422'),
    `patched and denied answers in the mix: ${[...kinds].join(', ')}`,
  );
});
