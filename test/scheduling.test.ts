// /mutate-v1-pod-scheduling beyond the fixtures (test/fixtures/scheduling/):
// hand-made seed manifests give no patch at all, the Vineyardd read is best
// effort, and for any pod the result is one the API server accepts (no
// duplicate volume, mount path or env name) and a reinvocation changes nothing.
import t from 'tap';
import fc from 'fast-check';
import { basename } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../src/admission/types.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { ApiError, type ClusterStore } from '../src/cluster/store.js';
import type { Vineyardd } from '../src/vineyard/sidecar.js';
import { defaultPipelineConfig, type Progress } from '../src/admission/endpoint.js';
import { runPipeline } from '../src/admission/run.js';
import { endpointByName, fixtureDirs, fixtureStore, loadFixture } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';

const endpoint = endpointByName('scheduling');
const config = defaultPipelineConfig;
const DEFAULT_PATH = '/var/run/vineyard-kubernetes/vineyard-system/vineyardd-sample';

function request(object: V1Pod, namespace = 'vineyard-job'): AdmissionRequest {
  return {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    object: object as never,
  };
}

const samplePod = (
  labels: Record<string, string> = { 'scheduling.k8s.v6d.io/vineyardd': 'vineyardd-sample' },
): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'demo-', labels },
  spec: { containers: [{ name: 'app', image: 'app:1' }] },
});

t.test('the seed workloads written with their hand-made parts get no patch at all', async t => {
  const dirs = fixtureDirs('scheduling').filter(d => basename(d).endsWith('-handmade'));
  t.equal(dirs.length, 6, 'workflow job1/job2, assembly job1/job2, dask repartition job1/job2');
  for (const dir of dirs) {
    const fx = loadFixture(endpoint, dir);
    const out = await runPipeline(endpoint, fx.review.request, {
      store: fixtureStore(fx.resources),
      config: fx.config,
    });
    t.same(out.patch, [], basename(dir));
    t.equal(out.response.patch, undefined, `${basename(dir)}: no patch field`);
  }
});

/** A store whose getVineyardd fails, and which records what progress said while it was called. */
class VineyarddFails extends MemoryStore {
  steps: string[] = [];
  constructor(
    private readonly error: Error,
    private readonly progress: Progress,
  ) {
    super();
  }
  override async getVineyardd(): Promise<Vineyardd | null> {
    this.steps.push(this.progress.step);
    throw this.error;
  }
}

t.test('a Vineyardd that cannot be read: default socket path and a warning, never a denial', async t => {
  for (const err of [
    new ApiError(
      'get vineyardds vineyard-system/vineyardd-sample',
      403,
      'Forbidden',
      'vineyardds.k8s.v6d.io "vineyardd-sample" is forbidden',
    ),
    new ApiError('get vineyardds vineyard-system/vineyardd-sample', 0, 'Timeout', 'no answer within 5s'),
  ]) {
    const progress: Progress = { step: '' };
    const store = new VineyarddFails(err, progress);
    const out = await runPipeline(endpoint, request(samplePod()), { store, config }, progress);
    t.equal(out.response.allowed, true, err.reason);
    t.same(store.steps, ['get vineyardds vineyard-system/vineyardd-sample'], 'progress named the call');
    t.match(out.response.warnings, [
      new RegExp(
        `could not read Vineyardd vineyard-system/vineyardd-sample \\(.*${err.reason === 'Forbidden' ? 'forbidden' : 'no answer'}.*\\); its socket is assumed to be in the default directory ${DEFAULT_PATH}`,
      ),
    ]);
    const pod = patchedCopy(request(samplePod()).object, out.patch) as V1Pod;
    t.same(pod.spec?.volumes, [{ name: 'vineyard-socket', hostPath: { path: DEFAULT_PATH } }]);
  }
});

t.test('a Vineyardd that does not exist (no operator installed) is the default path without a warning', async t => {
  const out = await runPipeline(endpoint, request(samplePod()), { store: new MemoryStore(), config });
  t.same(out.response.warnings, undefined);
  t.match(out.patch, [{ path: '/metadata/labels/scheduling.k8s.v6d.io~1vineyardd-namespace' }]);
  t.ok(out.patch.some(op => op.op === 'add' && op.path === '/spec/volumes'));
});

t.test('pods without a vineyardd label never reach the store', async t => {
  const untouchable = new Proxy({} as ClusterStore, {
    get: (_, k) => () => {
      throw new Error(`store.${String(k)} called`);
    },
  });
  const out = await runPipeline(endpoint, request(samplePod({ app: 'x' })), {
    store: untouchable,
    config: { ...config, schedulerName: 'vineyard-scheduler' },
  });
  t.equal(out.response.allowed, true);
  t.same(out.patch, []);
});

// ---- property: any pod comes out valid, and a reinvocation changes nothing ----

const podArb = fc.record({
  vineyardd: fc.constantFrom('vineyardd-sample', 'vineyard-system/vineyardd-sample', 'v6d/vineyardd-b', ''),
  nsLabel: fc.constantFrom(undefined, 'vineyard-system', 'v6d'),
  job: fc.constantFrom(undefined, 'job-x'),
  required: fc.constantFrom(undefined, 'none', 'job-a', 'job-a, job-b'),
  containers: fc.array(
    fc.record({
      jobEnv: fc.constantFrom(undefined, 'job-x', 'job-y'),
      socketEnv: fc.constantFrom(undefined, '/var/run/vineyard.sock', '/tmp/v.sock'),
      runMount: fc.boolean(),
      socketMount: fc.boolean(),
      configMap: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  socketVolume: fc.constantFrom('none', 'emptyDir', 'hostPath-default', 'hostPath-other-name'),
  affinityTerm: fc.boolean(),
  schedulerName: fc.constantFrom(undefined, 'default-scheduler', 'custom'),
  configScheduler: fc.constantFrom('', 'vineyard-scheduler'),
});

type PodSpec = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: PodSpec): V1Pod {
  const labels: Record<string, string> = { app: 'demo' };
  if (s.vineyardd) labels['scheduling.k8s.v6d.io/vineyardd'] = s.vineyardd;
  if (s.nsLabel) labels['scheduling.k8s.v6d.io/vineyardd-namespace'] = s.nsLabel;
  if (s.job) labels['scheduling.k8s.v6d.io/job'] = s.job;
  const volumes: V1Volume[] = [];
  if (s.containers.some(c => c.runMount)) volumes.push({ name: 'run', emptyDir: {} });
  if (s.socketVolume === 'emptyDir') volumes.push({ name: 'vineyard-socket', emptyDir: {} });
  if (s.socketVolume === 'hostPath-default')
    volumes.push({ name: 'vineyard-socket', hostPath: { path: DEFAULT_PATH } });
  if (s.socketVolume === 'hostPath-other-name') volumes.push({ name: 'sock', hostPath: { path: `${DEFAULT_PATH}/` } });
  const containers: V1Container[] = s.containers.map((c, i) => {
    const out: V1Container = { name: `c${i}`, image: 'app:1' };
    const env = [];
    if (c.jobEnv) env.push({ name: 'JOB_NAME', value: c.jobEnv });
    if (c.socketEnv) env.push({ name: 'VINEYARD_IPC_SOCKET', value: c.socketEnv });
    if (env.length) out.env = env;
    const mounts = [];
    if (c.runMount) mounts.push({ name: 'run', mountPath: '/var/run' });
    else if (c.socketMount && s.socketVolume !== 'none')
      mounts.push({
        name: s.socketVolume === 'hostPath-other-name' ? 'sock' : 'vineyard-socket',
        mountPath: '/var/run',
      });
    if (mounts.length) out.volumeMounts = mounts;
    if (c.configMap) out.envFrom = [{ configMapRef: { name: 'job-a' } }];
    return out;
  });
  const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-', labels }, spec: { containers } };
  if (s.required) pod.metadata!.annotations = { 'scheduling.k8s.v6d.io/required': s.required };
  if (volumes.length) pod.spec!.volumes = volumes;
  if (s.schedulerName) pod.spec!.schedulerName = s.schedulerName;
  if (s.affinityTerm) {
    pod.spec!.affinity = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: {
              matchExpressions: [
                { key: 'app.kubernetes.io/instance', operator: 'In', values: ['vineyard-system-vineyardd-sample'] },
              ],
            },
            namespaces: ['vineyard-system'],
            topologyKey: 'kubernetes.io/hostname',
          },
        ],
      },
    };
  }
  return pod;
}

const dupes = (xs: readonly unknown[]) => xs.filter((x, i) => xs.indexOf(x) !== i);

t.test('any pod: the result is one the API server accepts, and reinvocation gives no patch', async t => {
  await fc.assert(
    fc.asyncProperty(podArb, async s => {
      const pod = build(s);
      // No job data in this store: admitted without data placement (the data-* fixtures cover placement).
      const deps = {
        store: new MemoryStore(),
        config: { ...config, schedulerName: s.configScheduler, schedulingNoData: 'allow' as const },
      };
      const out = await runPipeline(endpoint, request(pod), deps);
      if (!out.response.allowed) {
        // Only an ambiguous vineyardd label is refused.
        return out.patch.length === 0 && /names another/.test(out.response.status?.message ?? '');
      }
      const result = patchedCopy(pod, out.patch);
      const volumeNames = (result.spec?.volumes ?? []).map(v => v.name);
      if (dupes(volumeNames).length) throw new Error(`duplicate volumes ${volumeNames}`);
      for (const c of result.spec!.containers) {
        const paths = (c.volumeMounts ?? []).map(m => m.mountPath.replace(/\/+$/, ''));
        if (dupes(paths).length) throw new Error(`${c.name}: duplicate mount paths ${paths}`);
        for (const m of c.volumeMounts ?? [])
          if (!volumeNames.includes(m.name)) throw new Error(`${c.name}: mount of missing volume ${m.name}`);
        const envs = (c.env ?? []).map(e => e.name);
        if (dupes(envs).length) throw new Error(`${c.name}: duplicate env ${envs}`);
        const refs = (c.envFrom ?? []).map(e => e.configMapRef?.name);
        if (dupes(refs).length) throw new Error(`${c.name}: duplicate configMapRef ${refs}`);
      }
      const labels = result.metadata?.labels ?? {};
      if ((labels['scheduling.k8s.v6d.io/vineyardd'] ?? '').includes('/'))
        throw new Error('vineyardd label still holds a namespace');
      const terms = result.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      if (dupes(terms.map(x => JSON.stringify(x))).length) throw new Error('duplicate affinity term');

      const again = await runPipeline(endpoint, { ...request(result), uid: 'u2' }, deps);
      if (again.patch.length) throw new Error(`reinvocation patched: ${JSON.stringify(again.patch)}`);
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('300 pods');
});
