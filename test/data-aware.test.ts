// Data-aware scheduling's writes (issue #21), which fixtures cannot show: the
// job ConfigMap created, updated by this webhook's keys only, shared by
// several consumers, never written on a dry run or a reinvocation.
import t from 'tap';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { runPipeline } from '../src/admission/run.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { MemoryStore, sequentialUids } from '../src/cluster/memory-store.js';
import { ApiError } from '../src/cluster/store.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { CONFIGMAP_KEYS_ANNOTATION } from '../src/vineyard/names.js';
import { endpointByName } from './helpers/fixtures.js';
import { NS, consumerPod, localObject as local, podCreate, vineyarddPod } from './helpers/data-placement.js';

const endpoint = endpointByName('scheduling');
const config = defaultPipelineConfig;

const global = (id: string, members: string[]) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'GlobalObject',
  metadata: {
    name: id,
    namespace: 'vineyard-system',
    labels: { 'k8s.v6d.io/job': 'job1', 'k8s.v6d.io/created-podnamespace': NS },
  },
  spec: { id, signature: `s${id.slice(1)}`, members },
});

const consumer = (job: string): V1Pod => consumerPod({ job });
const request = podCreate;

function store(extra: unknown[] = []): MemoryStore {
  return new MemoryStore(
    [
      vineyarddPod('node-a'),
      vineyarddPod('node-b'),
      local('o0000000000000001', 'node-a'),
      local('o0000000000000002', 'node-b'),
      ...extra,
    ],
    sequentialUids(),
  );
}

t.test("the job ConfigMap is created with the local and global ids, the consumer's owner as a co-owner", async t => {
  const s = store([global('o1000000000000000', ['s0000000000000001', 's0000000000000002'])]);
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.equal(out.response.allowed, true);
  const cm = await s.getConfigMap(NS, 'job1');
  t.same(cm?.data, { 'node-a': 'o0000000000000001', 'node-b': 'o0000000000000002', job1: 'o1000000000000000' });
  t.same(cm?.metadata?.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'job2', uid: 'uid-job2', controller: false },
  ]);
  t.equal(cm?.metadata?.annotations?.[CONFIGMAP_KEYS_ANNOTATION], 'job1,node-a,node-b');
  t.same(
    s.writes.filter(w => w.kind === 'configmaps').map(w => w.verb),
    ['create'],
  );
});

t.test('a second consumer appends its owner; the same data is not written again', async t => {
  const s = store();
  await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.same(
    s.writes.filter(w => w.kind === 'configmaps').map(w => w.verb),
    ['create'],
    'the same consumer again: nothing to write',
  );
  await runPipeline(endpoint, request(consumer('job3')), { store: s, config });
  const cm = await s.getConfigMap(NS, 'job1');
  t.same(
    cm?.metadata?.ownerReferences?.map(o => [o.name, o.controller]),
    [
      ['job2', false],
      ['job3', false],
    ],
  );
  t.same(
    s.writes.filter(w => w.kind === 'configmaps').map(w => w.verb),
    ['create', 'update'],
  );
});

t.test("only the keys this webhook owns are updated: the operator's and a user's are kept", async t => {
  const existing: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'job1', namespace: NS, annotations: { [CONFIGMAP_KEYS_ANNOTATION]: 'job1,node-a,node-c' } },
    // node-c held data once (ours, gone now); job1 was rewritten by an assembly (`.`-joined); node-b and InstanceToWorker are someone else's.
    data: { 'node-a': 'o-old', 'node-b': 'users-value', 'node-c': 'o-gone', job1: 'o1.o2', InstanceToWorker: 'x' },
  };
  const s = store([existing]);
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.equal(out.response.allowed, true);
  const cm = await s.getConfigMap(NS, 'job1');
  t.same(cm?.data, { 'node-a': 'o0000000000000001', 'node-b': 'users-value', job1: 'o1.o2', InstanceToWorker: 'x' });
  t.equal(cm?.metadata?.annotations?.[CONFIGMAP_KEYS_ANNOTATION], 'node-a');
});

t.test('a lost race is retried on the newer object', async t => {
  class RacingStore extends MemoryStore {
    raced = false;
    override async updateConfigMap(namespace: string, cm: V1ConfigMap): Promise<V1ConfigMap> {
      if (!this.raced) {
        this.raced = true;
        const cur = (await this.getConfigMap(namespace, cm.metadata!.name!))!;
        await super.updateConfigMap(namespace, { ...cur, data: { ...cur.data, other: 'someone' } });
      }
      return super.updateConfigMap(namespace, cm);
    }
  }
  const s = new RacingStore(
    [
      vineyarddPod('node-a'),
      local('o0000000000000001', 'node-a'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'job1', namespace: NS }, data: {} },
    ],
    sequentialUids(),
  );
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.equal(out.response.allowed, true);
  t.same((await s.getConfigMap(NS, 'job1'))?.data, { other: 'someone', 'node-a': 'o0000000000000001', job1: '' });
});

t.test('a failed write refuses the pod, naming the call', async t => {
  class Forbidden extends MemoryStore {
    override async createConfigMap(): Promise<V1ConfigMap> {
      throw new ApiError(`create configmaps ${NS}/job1`, 403, 'Forbidden', 'configmaps is forbidden');
    }
  }
  const s = new Forbidden([vineyarddPod('node-a'), local('o0000000000000001', 'node-a')], sequentialUids());
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /create configmaps vineyard-job\/job1/);
});

t.test('a dry run gives the same patch and writes nothing; a reinvocation changes and writes nothing', async t => {
  const dry = store();
  const dryOut = await runPipeline(endpoint, request(consumer('job2'), true), { store: dry, config });
  t.same(dry.writes, [], 'nothing written on a dry run');
  const s = store();
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.same(dryOut.patch, out.patch, 'the same patch');
  const before = s.writes.length;
  const admitted = patchedCopy(consumer('job2'), out.patch) as V1Pod;
  const again = await runPipeline(endpoint, { ...request(admitted), uid: 'u2' }, { store: s, config });
  t.same(again.patch, [], 'no change');
  t.equal(s.writes.length, before, 'no write');
});

t.test('node names that are not environment variable names on older clusters are warned about', async t => {
  const s = new MemoryStore([vineyarddPod('10.0.0.7'), local('o0000000000000001', '10.0.0.7')], sequentialUids());
  const out = await runPipeline(endpoint, request(consumer('job2')), { store: s, config });
  t.equal(out.response.allowed, true);
  t.match(out.response.warnings, [
    /node names 10\.0\.0\.7 are keys of ConfigMap vineyard-job\/job1 but not environment variable names before Kubernetes 1\.34/,
  ]);
});
