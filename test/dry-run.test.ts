// Dry runs (`kubectl apply --dry-run=server`) across every endpoint, over the
// real server backed by the fake API server, with Kubernetes Events on: the
// reviews below that can write do write when they are not a dry run (so the
// test can fail), and as a dry run each gets the same answer and writes
// nothing at all.
import t, { type Test } from 'tap';
import https from 'node:https';
import { pino } from 'pino';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { endpoints } from '../src/endpoints/table.js';
import { buildApp } from '../src/server/app.js';
import { Metrics } from '../src/server/metrics.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { h1, testCerts } from './helpers/server.js';

const NS = 'dry';
const SIDECAR_API = 'k8s.v6d.io/v1alpha1';
const seed = () => [
  {
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    metadata: { name: 'app-counted-default-sidecar', namespace: NS },
    spec: { replicas: 2, selector: 'app=counted' },
  },
  {
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    metadata: { name: 'sc', namespace: NS },
    spec: { selector: 'app=custom' },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-a-1', namespace: NS, labels: { app: 'job-a' } },
    spec: { containers: [{ name: 'main', image: 'job:1' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-a-2', namespace: NS, labels: { app: 'job-a' } },
    spec: { containers: [{ name: 'main', image: 'job:1' }] },
  },
];

const pod = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'p-', labels, annotations },
  spec: { containers: [{ name: 'app', image: 'busybox', command: ['/bin/sh', '-c', 'run'] }] },
});
const POD = { group: '', version: 'v1', kind: 'Pod' };
const SIDECAR = { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' };

/** The pod reviews but scheduling write when not a dry run: a new default Sidecar, a job pod's label, or an Event. */
const cases = [
  {
    name: 'sidecar, a new default Sidecar (create)',
    path: '/mutate-v1-pod-sidecar',
    kind: POD,
    object: pod({ app: 'fresh', 'sidecar.v6d.io/enabled': 'true' }, { 'sidecar.v6d.io/name': 'default' }),
    writes: /POST .*\/sidecars$/,
  },
  {
    name: 'sidecar, an existing default Sidecar',
    path: '/mutate-v1-pod-sidecar',
    kind: POD,
    object: pod({ app: 'counted', 'sidecar.v6d.io/enabled': 'true' }, { 'sidecar.v6d.io/name': 'default' }),
    writes: /POST .*\/events$/,
  },
  {
    name: 'sidecar, a custom Sidecar',
    path: '/mutate-v1-pod-sidecar',
    kind: POD,
    object: pod({ app: 'custom', 'sidecar.v6d.io/enabled': 'true' }, { 'sidecar.v6d.io/name': 'sc' }),
    writes: /POST .*\/events$/,
  },
  {
    name: "operation, labelling the required job's pods",
    path: '/mutate-v1-pod',
    kind: POD,
    object: pod(
      { app: 'c', 'assembly.v6d.io/enabled': 'true', 'assembly.v6d.io/type': 'local' },
      { 'scheduling.k8s.v6d.io/required': 'job-a' },
    ),
    writes: /PATCH .*\/pods\/job-a-1$/,
  },
  {
    name: 'scheduling',
    path: '/mutate-v1-pod-scheduling',
    kind: POD,
    object: pod({ app: 'x', 'scheduling.k8s.v6d.io/vineyardd': 'vineyardd-sample' }),
    writes: undefined,
  },
  {
    name: 'Sidecar defaulting',
    path: '/mutate-k8s-v6d-io-v1alpha1-sidecar',
    kind: SIDECAR,
    object: { apiVersion: SIDECAR_API, kind: 'Sidecar', metadata: { name: 's', namespace: NS }, spec: {} },
    writes: undefined,
  },
  {
    name: 'Sidecar validation',
    path: '/validate-k8s-v6d-io-v1alpha1-sidecar',
    kind: SIDECAR,
    object: {
      apiVersion: SIDECAR_API,
      kind: 'Sidecar',
      metadata: { name: 's', namespace: NS },
      spec: { replicas: -1 },
    },
    writes: undefined,
  },
];

async function start(t: Test) {
  const api = await FakeApiServer.start({ objects: seed() });
  const certs = await testCerts();
  const app = buildApp({
    tls: certs.serving,
    endpoints,
    store: createKubeStore(fakeKubeConfig(api.url)),
    config: defaultPipelineConfig,
    logger: pino({ level: 'silent' }),
    bodyLimit: 4 * 1024 * 1024,
    metrics: new Metrics(false),
    events: { instance: 'dry-run-test' },
  });
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const srv = { port: (app.server.address() as { port: number }).port, ca: certs.ca };
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(async () => {
    agent.destroy();
    for (const s of app.server.http1Sockets) s.destroy();
    await app.fastify.close();
    await api.close();
  });
  /** Sends a review and waits until the events it caused are sent. */
  const admit = async (c: (typeof cases)[number], dryRun: boolean) => {
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `u-${dryRun}-${c.name}`,
        kind: c.kind,
        operation: 'CREATE',
        namespace: NS,
        dryRun,
        object: c.object,
      },
    });
    const res = (await h1(srv, 'POST', `${c.path}?timeout=10s`, body, {}, agent)).json().response;
    await app.events?.settled();
    return res;
  };
  return { api, admit };
}

/** The answer without its uid and without the uid of a Sidecar that a dry run does not create. */
function comparable(res: Record<string, unknown>) {
  const patch =
    typeof res.patch === 'string'
      ? Buffer.from(res.patch, 'base64')
          .toString('utf8')
          .replace(/("name":"VINEYARDD_UID","value":)"[^"]*"/g, '$1"<uid>"')
      : undefined;
  return { ...res, uid: undefined, patch };
}

t.test('a dry run writes nothing, on every endpoint, and answers as the real review', async t => {
  const { api, admit } = await start(t);
  for (const c of cases) {
    await t.test(c.name, async t => {
      api.requests.length = 0;
      const dry = await admit(c, true);
      t.same(
        api.writes().map(r => `${r.method} ${r.path}`),
        [],
        'a dry run writes nothing, not even an Event',
      );
      const real = await admit(c, false);
      const writes = api.writes().map(r => `${r.method} ${r.path}`);
      if (c.writes)
        t.ok(
          writes.some(w => c.writes!.test(w)),
          `the real review writes (${writes.join(', ')})`,
        );
      t.same(comparable(dry), comparable(real), 'the same answer');
    });
  }
  const counted = api.get<any>({
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    namespace: NS,
    name: 'app-counted-default-sidecar',
  });
  t.equal(counted.spec.replicas, 2, 'its count is not written by admission, dry run or not');
});
