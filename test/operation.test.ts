// The side effects of /mutate-v1-pod: which pods of the required jobs get
// labelled, in which namespace, by which call, and when nothing is written
// (dry run, denial, reinvocation). The patches themselves are fixtures
// (test/fixtures/operation/).
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../src/admission/types.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { ApiError, type ClusterStore } from '../src/cluster/store.js';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { defaultPipelineConfig, type Progress } from '../src/admission/endpoint.js';
import { runPipeline } from '../src/admission/run.js';
import { OPERATION_LABELLED_ANNOTATION } from '../src/vineyard/names.js';
import { endpointByName, fixtureStore, FIXTURES, loadFixture } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';

const endpoint = endpointByName('operation');
const config = defaultPipelineConfig;

const running = (name: string, namespace: string, labels: Record<string, string>): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'main', image: 'job:1' }] },
});

function consumer(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  namespace = 'pipeline',
  dryRun = false,
): AdmissionRequest {
  return {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    dryRun,
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'consumer-', labels: { app: 'consumer', ...labels }, annotations },
      spec: { containers: [{ name: 'main', image: 'consumer:1' }] },
    },
  };
}

const ASSEMBLY = { 'assembly.v6d.io/enabled': 'true', 'assembly.v6d.io/type': 'local' };
const REPARTITION = { 'repartition.v6d.io/enabled': 'true', 'repartition.v6d.io/type': 'dask' };
const DASK = {
  'scheduling.k8s.v6d.io/dask-scheduler': 'tcp://dask-scheduler.default:8786',
  'scheduling.k8s.v6d.io/dask-worker-selector': 'app:dask,component:worker',
};

const jobPods = () => [
  running('producer-a-1', 'pipeline', { app: 'producer-a' }),
  running('producer-a-2', 'pipeline', { app: 'producer-a' }),
  running('producer-b-1', 'pipeline', { app: 'producer-b' }),
  running('producer-a-9', 'elsewhere', { app: 'producer-a' }),
  running('unrelated-1', 'pipeline', { app: 'unrelated' }),
];

async function labelsOf(store: ClusterStore, namespace: string): Promise<Record<string, Record<string, string>>> {
  const pods = await store.listPods(namespace, '');
  return Object.fromEntries(pods.map(p => [p.metadata!.name!, p.metadata!.labels ?? {}]));
}

t.test(
  'seed assembly-job2: only the pod of assembly-job1 in its namespace that lacks the label is patched',
  async t => {
    const fx = loadFixture(endpoint, `${FIXTURES}operation/seed-assembly-job2`);
    const store = fixtureStore(fx.resources);
    const out = await runPipeline(endpoint, fx.review.request, { store, config });
    t.equal(out.response.allowed, true);
    t.same(store.writes, [
      { verb: 'patch', kind: 'pods', namespace: 'vineyard-job', name: 'assembly-job1-86c99c995f-nzns8' },
    ]);
    const here = await labelsOf(store, 'vineyard-job');
    t.equal(here['assembly-job1-86c99c995f-nzns8']!['need-injected-assembly'], 'true');
    t.equal(
      here['assembly-job1-86c99c995f-q2x7k']!['need-injected-assembly'],
      'true',
      'already labelled, not written again',
    );
    t.notOk('need-injected-assembly' in here['assembly-job3-6c9f8d7b5-zt6wq']!, 'a pod of another job is untouched');
    const other = await labelsOf(store, 'other-team');
    t.same(
      other['assembly-job1-5b8d7c6f9-lm4np'],
      { app: 'assembly-job1', 'pod-template-hash': '5b8d7c6f9' },
      'the same job name in another namespace is untouched',
    );
  },
);

t.test(
  "seed dask-repartition-job2: need-injected-repartition on the required job's pod, not on the one in default",
  async t => {
    const fx = loadFixture(endpoint, `${FIXTURES}operation/seed-dask-repartition-job2`);
    const store = fixtureStore(fx.resources);
    await runPipeline(endpoint, fx.review.request, { store, config });
    t.same(
      store.writes.map(w => `${w.namespace}/${w.name}`),
      ['vineyard-job/dask-repartition-job1-5dbfc54997-7kghk'],
    );
    t.equal(
      (await labelsOf(store, 'vineyard-job'))['dask-repartition-job1-5dbfc54997-7kghk']!['need-injected-repartition'],
      'true',
    );
    t.notOk(
      'need-injected-repartition' in (await labelsOf(store, 'default'))['dask-repartition-job1-7f6d5c4b3-aa1bb']!,
    );
  },
);

t.test('several required jobs: every pod of each is labelled, other namespaces untouched', async t => {
  const store = new MemoryStore(jobPods());
  const out = await runPipeline(
    endpoint,
    consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a,producer-b' }),
    { store, config },
  );
  t.equal(out.response.allowed, true);
  t.same(store.writes.map(w => w.name).sort(), ['producer-a-1', 'producer-a-2', 'producer-b-1']);
  const labels = await labelsOf(store, 'pipeline');
  for (const n of ['producer-a-1', 'producer-a-2', 'producer-b-1'])
    t.equal(labels[n]!['need-injected-assembly'], 'true', n);
  t.same(labels['unrelated-1'], { app: 'unrelated' });
  t.same((await labelsOf(store, 'elsewhere'))['producer-a-9'], { app: 'producer-a' });
});

t.test('an assembly and a repartition at once: both labels in one patch per pod', async t => {
  const store = new MemoryStore(jobPods());
  await runPipeline(
    endpoint,
    consumer({ ...ASSEMBLY, ...REPARTITION }, { 'scheduling.k8s.v6d.io/required': 'producer-b', ...DASK }),
    { store, config },
  );
  t.equal(store.writes.length, 1);
  t.match((await labelsOf(store, 'pipeline'))['producer-b-1'], {
    'need-injected-assembly': 'true',
    'need-injected-repartition': 'true',
  });
});

t.test('dryRun: the same answer, zero writes', async t => {
  const wet = new MemoryStore(jobPods());
  const dry = new MemoryStore(jobPods());
  const annotations = { 'scheduling.k8s.v6d.io/required': 'producer-a,producer-b' };
  const a = await runPipeline(endpoint, consumer(ASSEMBLY, annotations), { store: wet, config });
  const b = await runPipeline(endpoint, consumer(ASSEMBLY, annotations, 'pipeline', true), { store: dry, config });
  t.same(dry.writes, []);
  t.ok(wet.writes.length > 0, 'the same request without dryRun writes');
  t.same(b.response, a.response, 'dry run and real run answer alike');
});

t.test('reinvocation: no second round of writes; only jobs added since are labelled', async t => {
  const store = new MemoryStore(jobPods());
  const req = consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a' });
  const first = await runPipeline(endpoint, req, { store, config });
  const writes = store.writes.length;
  t.equal(writes, 2);
  const patched = patchedCopy(req.object, first.patch) as V1Pod;
  t.equal(
    patched.metadata?.annotations?.[OPERATION_LABELLED_ANNOTATION],
    'producer-a',
    'the marker records the labelled job',
  );

  // A labelled pod loses its label (e.g. the driver removed it): a reinvocation still does not write.
  await store.patchPodLabels('pipeline', 'producer-a-1', { 'need-injected-assembly': 'false' });
  store.writes.length = writes;
  const again = await runPipeline(endpoint, { ...req, uid: 'u2', object: patched as never }, { store, config });
  t.same(again.patch, []);
  t.equal(store.writes.length, writes, 'no write on reinvocation');

  // Another webhook added a required job between the calls: only its pods are labelled.
  patched.metadata!.annotations!['scheduling.k8s.v6d.io/required'] = 'producer-a,producer-b';
  const third = await runPipeline(endpoint, { ...req, uid: 'u3', object: patched as never }, { store, config });
  t.same(
    store.writes.slice(writes).map(w => w.name),
    ['producer-b-1'],
  );
  t.equal(
    (patchedCopy(patched, third.patch) as V1Pod).metadata?.annotations?.[OPERATION_LABELLED_ANNOTATION],
    'producer-a,producer-b',
  );
});

t.test('a denied pod writes nothing, though its required job has pods', async t => {
  for (const [labels, annotations] of [
    [{ 'assembly.v6d.io/enabled': 'true', 'assembly.v6d.io/type': 'global' }, {}],
    [REPARTITION, {}],
    [{ ...REPARTITION, 'repartition.v6d.io/type': 'spark' }, DASK],
  ] as const) {
    const store = new MemoryStore(jobPods());
    const out = await runPipeline(
      endpoint,
      consumer(labels, { 'scheduling.k8s.v6d.io/required': 'producer-a', ...annotations }),
      { store, config },
    );
    t.equal(out.response.allowed, false, JSON.stringify(labels));
    t.same(store.writes, [], 'no write');
  }
});

t.test('a required job without pods is a warning; the other job is labelled', async t => {
  const store = new MemoryStore(jobPods());
  const out = await runPipeline(
    endpoint,
    consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-z,producer-b' }),
    { store, config },
  );
  t.equal(out.response.allowed, true);
  t.match(out.response.warnings, [/required job producer-z has no pod labelled app=producer-z in namespace pipeline/]);
  t.same(
    store.writes.map(w => w.name),
    ['producer-b-1'],
  );
});

/** A MemoryStore whose chosen calls fail with an ApiError, recording what progress said meanwhile. */
class FailingStore extends MemoryStore {
  steps: string[] = [];
  constructor(
    seed: unknown[],
    private readonly failing: { list?: ApiError; patch?: (name: string) => ApiError | undefined },
    private readonly progress: Progress,
  ) {
    super(seed);
  }
  override async listPods(namespace: string, selector: string): Promise<V1Pod[]> {
    this.steps.push(this.progress.step);
    if (this.failing.list) throw this.failing.list;
    return super.listPods(namespace, selector);
  }
  override async patchPodLabels(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
    this.steps.push(this.progress.step);
    const e = this.failing.patch?.(name);
    if (e) throw e;
    return super.patchPodLabels(namespace, name, labels);
  }
}

t.test('a failing list is a denial naming the call, and progress named it while waiting', async t => {
  const progress: Progress = { step: '' };
  const store = new FailingStore(
    jobPods(),
    {
      list: new ApiError(
        'list pods pipeline -l app=producer-a',
        403,
        'Forbidden',
        'pods is forbidden: User "system:serviceaccount:vineyard-system:webhook" cannot list resource "pods"',
      ),
    },
    progress,
  );
  const out = await runPipeline(
    endpoint,
    consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a' }),
    { store, config },
    progress,
  );
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /list pods pipeline -l app=producer-a: pods is forbidden/);
  t.same(store.steps, ['list pods in pipeline with app=producer-a']);
});

t.test('a failing label patch is a denial naming the pod; a pod deleted since the list is skipped', async t => {
  const progress: Progress = { step: '' };
  const store = new FailingStore(
    jobPods(),
    {
      patch: name =>
        name === 'producer-a-2'
          ? new ApiError(`patch pods pipeline/${name}`, 500, 'InternalError', 'etcdserver: request timed out')
          : undefined,
    },
    progress,
  );
  const out = await runPipeline(
    endpoint,
    consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a' }),
    { store, config },
    progress,
  );
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /patch pods pipeline\/producer-a-2: etcdserver: request timed out/);
  t.ok(store.steps.includes('patch labels of pod pipeline/producer-a-2'), 'progress named the patch');

  const gone = new FailingStore(
    jobPods(),
    {
      patch: name =>
        name === 'producer-a-1'
          ? new ApiError(`patch pods pipeline/${name}`, 404, 'NotFound', `pods "${name}" not found`)
          : undefined,
    },
    { step: '' },
  );
  const ok = await runPipeline(endpoint, consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a' }), {
    store: gone,
    config,
  });
  t.equal(ok.response.allowed, true, 'a pod deleted between list and patch needs no label');
  t.same(
    gone.writes.map(w => w.name),
    ['producer-a-2'],
  );
});

t.test("against the API server: labels go by merge PATCH, never PUT, only in the pod's namespace", async t => {
  const api = await FakeApiServer.start({ objects: jobPods() as never });
  t.teardown(() => api.close());
  const store = createKubeStore(fakeKubeConfig(api.url));
  const out = await runPipeline(
    endpoint,
    consumer(ASSEMBLY, { 'scheduling.k8s.v6d.io/required': 'producer-a,producer-b' }),
    { store, config },
  );
  t.equal(out.response.allowed, true, out.response.status?.message ?? '');
  const writes = api.writes();
  t.same(
    writes.map(w => w.method),
    ['PATCH', 'PATCH', 'PATCH'],
  );
  t.ok(
    writes.every(w => w.contentType === 'application/merge-patch+json'),
    'merge-patch content type',
  );
  t.same(
    writes.map(w => w.path).sort(),
    ['producer-a-1', 'producer-a-2', 'producer-b-1'].map(n => `/api/v1/namespaces/pipeline/pods/${n}`),
  );
  t.same(
    writes[0]!.body,
    { metadata: { labels: { 'need-injected-assembly': 'true' } } },
    'the body touches labels only',
  );
  t.notOk(
    api.requests.some(r => r.method === 'PUT'),
    'no PUT',
  );
  t.ok(
    api.requests.filter(r => r.method === 'GET').every(r => r.path === '/api/v1/namespaces/pipeline/pods'),
    "lists only the pod's namespace",
  );
  const pod = api.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'pipeline', name: 'producer-a-1' });
  t.same(pod?.metadata?.labels, { app: 'producer-a', 'need-injected-assembly': 'true' });
  const elsewhere = api.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'elsewhere', name: 'producer-a-9' });
  t.same(elsewhere?.metadata?.labels, { app: 'producer-a' });
});
