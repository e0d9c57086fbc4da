// Assembly and repartition consumers wait for their Operation (issue #21):
// what the fixtures cannot show, the Operation as it is written and every
// write (or its absence) around it.
import t from 'tap';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { runPipeline } from '../src/admission/run.js';
import { defaultPipelineConfig, type PipelineConfig } from '../src/admission/endpoint.js';
import { MemoryStore, sequentialUids } from '../src/cluster/memory-store.js';
import { ApiError } from '../src/cluster/store.js';
import { formatDuration } from '../src/duration.js';
import { parseServeArgs } from '../src/config.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { DEFAULT_OPERATION_WAIT_MS, operationStatus } from '../src/endpoints/scheduling/operation-wait.js';
import type { VineyardOperation } from '../src/vineyard/objects.js';
import { CONFIGMAP_KEYS_ANNOTATION } from '../src/vineyard/names.js';
import { endpointByName } from './helpers/fixtures.js';
import { NS, consumerPod, localObject as local, podCreate, vineyarddPod } from './helpers/data-placement.js';

const endpoint = endpointByName('scheduling');
const config: PipelineConfig = { ...defaultPipelineConfig, now: '2024-05-06T08:00:00Z' };

const consumer = (
  labels: Record<string, string> = { 'assembly.v6d.io/enabled': 'true', 'assembly.v6d.io/type': 'local' },
  required = 'job1',
): V1Pod => consumerPod({ job: 'job2', owner: 'job2-abc', labels, required });
const request = podCreate;

const store = (extra: unknown[] = []) =>
  new MemoryStore(
    [
      vineyarddPod('node-a'),
      vineyarddPod('node-b'),
      local('o0000000000000001', 'node-a', 'job1'),
      local('o0000000000000002', 'node-b', 'job3'),
      ...extra,
    ],
    sequentialUids(),
  );

/** The Operation as the operator's controller leaves it. */
async function setState(
  s: MemoryStore,
  name: string,
  state: string,
  creationTimestamp = '2024-05-06T07:55:00Z',
): Promise<void> {
  const op = (await s.getOperation(NS, name))!;
  s.load({ ...op, metadata: { ...op.metadata, creationTimestamp }, status: { state } });
}

t.test('the first pod creates the Operation as the plugin did, once per job, and is refused while it runs', async t => {
  const s = store();
  const out = await runPipeline(endpoint, request(consumer()), { store: s, config });
  t.equal(out.response.allowed, false);
  t.equal(out.response.status?.code, 403);
  t.match(
    out.response.status?.message,
    /waits for Operation vineyard-job\/job2-assembly \(assembly local of job1 for job2\) to succeed \(created it now\)/,
  );
  const op = await s.getOperation(NS, 'job2-assembly');
  t.same(
    op?.spec,
    { name: 'assembly', type: 'local', require: 'job1', target: 'job2', timeoutSeconds: 300 },
    "spec as upstream's plugin wrote it",
  );
  t.same(
    op?.metadata?.ownerReferences,
    [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'job2-abc', uid: 'uid-job2', controller: false }],
    "the consumer's owner, as a co-owner",
  );
  t.equal(op?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'vineyard-webhook');
  t.same(
    s.writes.map(w => `${w.verb} ${w.kind}`),
    ['create operations'],
    'no ConfigMap before the Operation has run',
  );

  // The controller retries, a second replica comes: the same Operation, no write.
  for (let i = 0; i < 3; i++) {
    const again = await runPipeline(endpoint, request(consumer()), { store: s, config });
    t.equal(again.response.allowed, false);
    t.match(again.response.status?.message, /waits for Operation vineyard-job\/job2-assembly .*no status\.state yet/);
  }
  t.equal(s.writes.length, 1, 'created once');
});

t.test('another webhook replica creating it first (AlreadyExists) is the same wait, not an error', async t => {
  class Raced extends MemoryStore {
    override async getOperation(): Promise<VineyardOperation | null> {
      return null;
    }
  }
  const s = new Raced(
    [
      vineyarddPod('node-a'),
      local('o0000000000000001', 'node-a', 'job1'),
      {
        apiVersion: 'k8s.v6d.io/v1alpha1',
        kind: 'Operation',
        metadata: { name: 'job2-assembly', namespace: NS },
        spec: {},
      },
    ],
    sequentialUids(),
  );
  const out = await runPipeline(endpoint, request(consumer()), { store: s, config });
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /waits for Operation vineyard-job\/job2-assembly .*created it now/);
});

t.test('a failed create refuses the pod, naming the call', async t => {
  class Forbidden extends MemoryStore {
    override async createOperation(): Promise<VineyardOperation> {
      throw new ApiError(
        `create operations.k8s.v6d.io ${NS}/job2-assembly`,
        403,
        'Forbidden',
        'operations.k8s.v6d.io is forbidden',
      );
    }
  }
  const s = new Forbidden([vineyarddPod('node-a'), local('o0000000000000001', 'node-a', 'job1')], sequentialUids());
  const out = await runPipeline(endpoint, request(consumer()), { store: s, config });
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /create operations\.k8s\.v6d\.io vineyard-job\/job2-assembly/);
});

t.test("once it has succeeded the pod is placed by the data and the job key stays the operator's", async t => {
  const s = store();
  await runPipeline(endpoint, request(consumer()), { store: s, config });
  await setState(s, 'job2-assembly', 'succeeded');
  // Written by this webhook for an earlier consumer of job1 (it owned the job's key), then by the
  // operator's UpdateConfigmap: the assembled object's id under the job's key, one id, no `.`.
  s.load({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'job1', namespace: NS, annotations: { [CONFIGMAP_KEYS_ANNOTATION]: 'job1,node-a' } },
    data: { job1: 'o9000000000000000', 'node-a': 'o0000000000000001' },
  });
  const writes = s.writes.length;
  const out = await runPipeline(endpoint, request(consumer()), { store: s, config });
  t.equal(out.response.allowed, true, out.response.status?.message ?? '');
  const pod = patchedCopy(consumer(), out.patch) as V1Pod;
  t.same(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] },
  ]);
  const cm: V1ConfigMap | null = await s.getConfigMap(NS, 'job1');
  t.same(cm?.data, { job1: 'o9000000000000000', 'node-a': 'o0000000000000001' }, "the operator's job key kept");
  t.equal(cm?.metadata?.annotations?.[CONFIGMAP_KEYS_ANNOTATION], 'node-a', "and no longer listed as the webhook's");
  t.same(
    s.writes.slice(writes).map(w => `${w.verb} ${w.kind}`),
    ['update configmaps'],
    'no Operation written again',
  );

  const admitted = await runPipeline(endpoint, { ...request(pod), uid: 'u2' }, { store: s, config });
  t.same(admitted.patch, [], 'a reinvocation changes nothing');
  t.equal(s.writes.length, writes + 1, 'and writes nothing');
});

t.test('past --operation-timeout from its creation the refusal says what to check', async t => {
  const s = store();
  await runPipeline(endpoint, request(consumer()), { store: s, config });
  await setState(s, 'job2-assembly', 'running', '2024-05-06T07:00:00Z');
  const out = await runPipeline(endpoint, request(consumer()), {
    store: s,
    config: { ...config, operationTimeoutMs: 30 * 60_000 },
  });
  t.equal(out.response.allowed, false);
  const message = out.response.status?.message ?? '';
  t.match(
    message,
    /did not succeed within --operation-timeout, 30m of its creation at 2024-05-06T07:00:00Z \(status\.state "running"\)/,
  );
  t.match(message, /kubectl get jobs -n vineyard-job/);
  t.match(message, /labelled need-injected-assembly=true/);
  t.match(message, /kubectl delete operations\.k8s\.v6d\.io -n vineyard-job job2-assembly/);
  const within = await runPipeline(endpoint, request(consumer()), {
    store: s,
    config: { ...config, operationTimeoutMs: 61 * 60_000 },
  });
  t.match(within.response.status?.message, /waits for Operation/, 'a longer timeout: still waiting');
});

t.test("the state at the timeout's edge", async t => {
  const op: VineyardOperation = {
    metadata: { name: 'x', creationTimestamp: '2024-05-06T07:00:00Z' as unknown as Date },
  };
  const at = Date.parse('2024-05-06T07:10:00Z');
  t.same(operationStatus(op, at - 1, DEFAULT_OPERATION_WAIT_MS), { kind: 'waiting', created: '2024-05-06T07:00:00Z' });
  t.same(operationStatus(op, at, DEFAULT_OPERATION_WAIT_MS), { kind: 'timed-out', created: '2024-05-06T07:00:00Z' });
  t.same(
    operationStatus({ ...op, status: { state: 'succeeded' } }, at * 2, DEFAULT_OPERATION_WAIT_MS),
    { kind: 'succeeded' },
    'succeeded late is succeeded',
  );
  t.same(
    operationStatus({ metadata: { name: 'x' } }, at * 2, 1),
    { kind: 'waiting' },
    'no creation time: never timed out',
  );
});

t.test('a dry run creates nothing and is refused as the real request would be', async t => {
  const s = store();
  const out = await runPipeline(endpoint, request(consumer(), true), { store: s, config });
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /would wait for Operation vineyard-job\/job2-assembly .*which does not exist/);
  t.same(s.writes, [], 'nothing written');
});

t.test('assembly and repartition: one Operation each; several required jobs are `.`-joined in require', async t => {
  const s = store();
  const both = consumer(
    {
      'assembly.v6d.io/enabled': 'TRUE',
      'assembly.v6d.io/type': 'distributed',
      'repartition.v6d.io/enabled': 'true',
      'repartition.v6d.io/type': 'dask',
    },
    'job1, job3',
  );
  const out = await runPipeline(endpoint, request(both), { store: s, config });
  t.equal(out.response.allowed, false);
  t.same((await s.getOperation(NS, 'job2-assembly'))?.spec, {
    name: 'assembly',
    type: 'distributed',
    require: 'job1.job3',
    target: 'job2',
    timeoutSeconds: 300,
  });
  t.same((await s.getOperation(NS, 'job2-repartition'))?.spec, {
    name: 'repartition',
    type: 'dask',
    require: 'job1.job3',
    target: 'job2',
    timeoutSeconds: 300,
  });
  await setState(s, 'job2-assembly', 'succeeded');
  const half = await runPipeline(endpoint, request(both), { store: s, config });
  t.match(
    half.response.status?.message,
    /waits for Operation vineyard-job\/job2-repartition/,
    'still waiting for the other',
  );
  t.notMatch(half.response.status?.message, /job2-assembly/);
  await setState(s, 'job2-repartition', 'succeeded');
  t.equal((await runPipeline(endpoint, request(both), { store: s, config })).response.allowed, true);
});

t.test('without a job name, or with one that cannot name an Operation, the pod is refused with the fix', async t => {
  const noJob = consumer();
  delete noJob.metadata!.labels!['scheduling.k8s.v6d.io/job'];
  const out = await runPipeline(endpoint, request(noJob), { store: store(), config });
  t.match(out.response.status?.message, /an assembly needs label scheduling\.k8s\.v6d\.io\/job \(or env JOB_NAME\)/);

  const fromEnv = consumer();
  delete fromEnv.metadata!.labels!['scheduling.k8s.v6d.io/job'];
  fromEnv.spec!.containers[0]!.env = [{ name: 'JOB_NAME', value: 'job2' }];
  const s = store();
  await runPipeline(endpoint, request(fromEnv), { store: s, config });
  t.ok(await s.getOperation(NS, 'job2-assembly'), 'JOB_NAME names it, as it names the job label');

  const upper = consumer({
    'assembly.v6d.io/enabled': 'true',
    'assembly.v6d.io/type': 'local',
    'scheduling.k8s.v6d.io/job': 'Job_2',
  });
  const bad = await runPipeline(endpoint, request(upper), { store: store(), config });
  t.match(bad.response.status?.message, /label scheduling\.k8s\.v6d\.io\/job=Job_2 cannot name the assembly Operation/);
});

t.test('--operation-timeout: a Go duration, 10m by default', async t => {
  t.equal(parseServeArgs([], {}).operationTimeoutMs, DEFAULT_OPERATION_WAIT_MS);
  t.equal(DEFAULT_OPERATION_WAIT_MS, 600_000);
  t.equal(parseServeArgs(['--operation-timeout', '1h30m'], {}).operationTimeoutMs, 90 * 60_000);
  t.equal(parseServeArgs([], { VINEYARD_WEBHOOK_OPERATION_TIMEOUT: '45s' }).operationTimeoutMs, 45_000);
  t.throws(() => parseServeArgs(['--operation-timeout', 'soon'], {}), {
    message: /^--operation-timeout: "soon" is not a duration/,
  });
  t.throws(() => parseServeArgs(['--operation-timeout', '0s'], {}), { message: /must be longer than zero/ });
});

t.test('durations in messages read as Go prints them, without zero parts', async t => {
  t.same([600_000, 5_400_000, 45_000, 1_500, 250, 3_600_000].map(formatDuration), [
    '10m',
    '1h30m',
    '45s',
    '1.5s',
    '250ms',
    '1h',
  ]);
});
