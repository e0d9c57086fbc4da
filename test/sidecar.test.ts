// Sidecar injection beyond the fixtures: default CR naming, the socket-wait
// rewrite, dry runs, and the default CR's counting against the test API
// server (concurrency, conflicts, AlreadyExists, API failures, deadlines).
import t from 'tap';
import { defaultSidecarIdentity } from '../src/endpoints/sidecar/pod-default-sidecar.js';
import { socketWaitRewrite } from '../src/vineyard/socket-wait-command.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { runPipeline } from '../src/admission/run.js';
import { endpoints } from '../src/endpoints/table.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import type { AdmissionRequest } from '../src/admission/types.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { h1, podReview, startTestServer } from './helpers/server.js';

const sidecar = endpoints.find(e => e.name === 'sidecar')!;
const WAIT = 'while [ ! -e /var/run/vineyard.sock ]; do sleep 1; done;';

t.test('default Sidecar CR names', async t => {
  const name = (labels: Record<string, string>) =>
    defaultSidecarIdentity({ 'sidecar.v6d.io/enabled': 'true', ...labels })?.name;
  t.equal(name({ app: 'job-deployment' }), 'app-job-deployment-default-sidecar', 'the seed example');
  t.same(
    defaultSidecarIdentity({ app: 'job-deployment', 'sidecar.v6d.io/enabled': 'true' })?.selector,
    'app=job-deployment',
  );
  t.equal(name({ 'app.kubernetes.io/name': 'web' }), 'app.kubernetes.io-name-web-default-sidecar', 'a key with /');
  t.equal(name({ App: 'Web_Server' }), 'app-web-server-default-sidecar', 'upper case and _ are made valid');
  t.equal(name({ '-weird': '-x-' }), 'weird--x--default-sidecar', 'no leading -');
  const long = name({ tier: 'x'.repeat(100) })!;
  t.equal(long, `tier-${'x'.repeat(42)}-default-sidecar`, 'K-V is cut to 47 characters');
  t.ok(long.length <= 63);
  t.equal(
    name({ 'pod-template-hash': '55664458f8', zone: 'a' }),
    'zone-a-default-sidecar',
    'pod-template-hash is never chosen',
  );
  t.equal(
    name({ 'controller-uid': 'abc', 'batch.kubernetes.io/controller-uid': 'abc', 'job-name': 'etl' }),
    'job-name-etl-default-sidecar',
    'per-job uids are never chosen',
  );
  t.equal(name({}), undefined, 'only the enable label: no name');
  t.equal(name({ 'pod-template-hash': 'abc' }), undefined, 'only generated labels: no name');
  t.equal(name({ b: '1', a: '2' }), 'a-2-default-sidecar', 'the first key in sorted order');
});

t.test('socket-wait rewrite', async t => {
  const rw = (c: Record<string, unknown>) => socketWaitRewrite({ name: 'c', ...c }, '/var/run/vineyard.sock');
  t.same(rw({ command: ['/bin/sh', '-c', 'run'] }), { kind: 'command', command: ['/bin/sh', '-c', `${WAIT}run`] });
  t.same(rw({ command: ['/usr/bin/bash', '-ec', 'run', 'arg0'] }), {
    kind: 'command',
    command: ['/usr/bin/bash', '-ec', `${WAIT}run`, 'arg0'],
  });
  t.same(rw({ command: ['sh', '-c'], args: ['run', 'a'] }), { kind: 'args', args: [`${WAIT}run`, 'a'] });
  t.same(rw({ command: ['python3', '/job.py'], args: ['--x'] }), {
    kind: 'command',
    command: ['/bin/sh', '-c', `${WAIT}exec "$0" "$@"`, 'python3', '/job.py'],
  });
  t.same(rw({ command: ['/bin/sh', '-c', `${WAIT}run`] }), { kind: 'none' }, 'already waiting: unchanged');
  t.same(
    rw({ command: ['/bin/sh', '-c', `${WAIT}exec "$0" "$@"`, 'python3'] }),
    { kind: 'none' },
    'already wrapped: unchanged',
  );
  t.match(rw({}), { kind: 'none', warning: /container c has no command/ });
  t.match(rw({ command: 'run' }), { kind: 'none', warning: /not a list of strings/ });
  t.match(rw({ command: ['sh', '-c'] }), { kind: 'none', warning: /no script/ });
  t.same(
    socketWaitRewrite({ name: 'c', command: ['sh', '-c', 'x'] }, '/var/run/my dir/vineyard.sock'),
    { kind: 'command', command: ['sh', '-c', `while [ ! -e '/var/run/my dir/vineyard.sock' ]; do sleep 1; done;x`] },
    'paths with spaces are quoted',
  );
});

const pod = (
  labels: Record<string, string> = { app: 'etl' },
  annotations: Record<string, string> = { 'sidecar.v6d.io/name': 'default' },
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'etl-',
    labels: { 'sidecar.v6d.io/enabled': 'true', ...labels },
    annotations,
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'etl-5f',
        uid: 'rs-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  spec: { containers: [{ name: 'etl', image: 'x', command: ['/bin/sh', '-c', 'run'] }] },
});
let n = 0;
const request = (object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: `u${++n}`,
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: 'jobs',
  object: object as never,
  ...extra,
});

t.test('dry run: the same patch and zero writes', async t => {
  const existing = {
    apiVersion: 'k8s.v6d.io/v1alpha1',
    kind: 'Sidecar',
    metadata: { name: 'app-etl-default-sidecar', namespace: 'jobs', uid: 'cr-uid' },
    spec: { replicas: 3, selector: 'app=etl' },
  };
  const store = new MemoryStore([existing]);
  const dry = await runPipeline(sidecar, request(pod(), { dryRun: true }), { store, config: defaultPipelineConfig });
  t.same(store.writes, [], 'no writes on a dry run');
  const real = await runPipeline(sidecar, request(pod()), { store, config: defaultPipelineConfig });
  t.same(dry.patch, real.patch, 'same patch as the real request');
  t.equal(
    (await store.getSidecar('jobs', 'app-etl-default-sidecar'))!.spec!.replicas,
    3,
    'admission does not write the count (the counter does, from the pods)',
  );

  const empty = new MemoryStore();
  const first = await runPipeline(sidecar, request(pod(), { dryRun: true }), {
    store: empty,
    config: defaultPipelineConfig,
  });
  t.equal(first.response.allowed, true, 'a dry run of the first pod is allowed');
  t.same(empty.writes, [], 'and creates nothing');
});

t.test('pods that get no injection cause no writes', async t => {
  const store = new MemoryStore();
  const notEnabled = pod();
  notEnabled.metadata.labels['sidecar.v6d.io/enabled'] = 'false';
  await runPipeline(sidecar, request(notEnabled), { store, config: defaultPipelineConfig });
  const injected = pod();
  (injected.metadata.annotations as Record<string, string>)['sidecar.v6d.io/status'] = '{}';
  await runPipeline(sidecar, request(injected), { store, config: defaultPipelineConfig });
  await runPipeline(sidecar, request(pod(), { operation: 'UPDATE' }), { store, config: defaultPipelineConfig });
  t.same(store.writes, []);
});

t.test('against the test API server', async t => {
  const api = await FakeApiServer.start();
  t.teardown(() => api.close());
  const store = createKubeStore(fakeKubeConfig(api.url));
  const deps = { store, config: defaultPipelineConfig };
  const cr = (name = 'app-etl-default-sidecar') =>
    api.get<any>({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', namespace: 'jobs', name });

  await t.test('first pod creates the CR with replicas 1, the selector and the owners', async t => {
    const out = await runPipeline(sidecar, request(pod()), deps);
    t.equal(out.response.allowed, true);
    const created = cr();
    t.match(created.spec, { replicas: 1, selector: 'app=etl' });
    t.same(created.metadata.ownerReferences, [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'etl-5f', uid: 'rs-uid' },
    ]);
    const env = JSON.stringify(out.patch);
    t.match(env, created.metadata.uid, 'VINEYARDD_UID is the created CR uid');
  });

  await t.test('later pods read the CR and write nothing', async t => {
    const writes = api.writes().length;
    const out = await runPipeline(sidecar, request(pod()), deps);
    t.equal(out.response.allowed, true);
    t.equal(api.writes().length, writes, 'no write');
    t.equal(cr().spec.replicas, 1, "the count is not the admission path's to write");
  });

  await t.test('50 pods of one Deployment admitted at once: one create, the others read it back', async t => {
    const before = api.requests.length;
    const outs = await Promise.all(
      Array.from({ length: 50 }, () => runPipeline(sidecar, request(pod({ app: 'burst' })), deps)),
    );
    t.equal(outs.filter(o => o.response.allowed && o.patch.length > 0).length, 50);
    const created = cr('app-burst-default-sidecar');
    t.equal(created.spec.replicas, 1);
    t.ok(
      outs.every(o => JSON.stringify(o.patch).includes(created.metadata.uid)),
      'every pod carries the uid of the one CR',
    );
    const log = api.requests.slice(before);
    t.equal(log.filter(r => r.method === 'POST' && r.status === 201).length, 1, 'one create succeeded');
    t.equal(log.filter(r => r.method === 'PUT').length, 0, 'no update');
  });

  await t.test('dry run against the API server writes nothing', async t => {
    const writes = api.writes().length;
    const out = await runPipeline(sidecar, request(pod({ app: 'dry' }), { dryRun: true }), deps);
    t.equal(out.response.allowed, true);
    t.equal(api.writes().length, writes);
  });

  await t.test('a custom CR that does not exist: denial naming namespace/name and the annotation', async t => {
    const out = await runPipeline(sidecar, request(pod({ app: 'etl' }, { 'sidecar.v6d.io/name': 'nope' })), deps);
    t.equal(out.response.allowed, false);
    t.match(out.response.status!.message, /Sidecar jobs\/nope named by annotation sidecar.v6d.io\/name/);
  });

  await t.test('an API error other than not-found: denial with the cause', async t => {
    api.fail({ method: 'GET', path: /sidecars\/custom$/, status: 500, message: 'etcdserver: leader changed' });
    const out = await runPipeline(sidecar, request(pod({ app: 'etl' }, { 'sidecar.v6d.io/name': 'custom' })), deps);
    t.equal(out.response.allowed, false);
    t.match(out.response.status!.message, /get sidecars jobs\/custom/);
    t.match(out.response.status!.message, /leader changed/);
  });

  await t.test('an API server that never answers: denial before the review deadline', async t => {
    const srv = await startTestServer({ store });
    t.teardown(() => srv.close());
    const fault = api.fail({ method: 'GET', path: /sidecars\/hang$/, hang: true });
    const started = Date.now();
    const r = await h1(
      srv,
      'POST',
      '/mutate-v1-pod-sidecar?timeout=2s',
      podReview(pod({ app: 'etl' }, { 'sidecar.v6d.io/name': 'hang' }), { namespace: 'jobs' }),
    );
    const elapsed = Date.now() - started;
    t.equal(fault.hits, 1);
    const res = r.json().response;
    t.equal(res.allowed, false);
    t.match(res.status.message, /get sidecars jobs\/hang/);
    t.ok(elapsed < 2000, `answered before the 2s deadline (${elapsed} ms)`);
  });
});
