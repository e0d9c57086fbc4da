// Data-aware placement (issue #21) against a real kube-apiserver: the
// workflow of seeds 000/001 as a current cluster sees it. The suite plays
// what it has no process for: the nodes, vineyardd's pods (bound, then Ready
// through /status, as the kubelet reports), what `vineyardd --sync_crds`
// writes for job1's objects, the StatefulSet and ReplicaSet controllers
// creating job2's pods, and the operator's Operation controller. The webhook
// is registered as deploy/ registers it and runs with deploy/'s RBAC; every
// assertion is on what the API server stored.
import t from 'tap';
import { createObject, e2eFor, objectPath, waitUntil, type E2E } from './env.js';
import { KubeStatusError, resourcePath, type KubeObject } from './kube-client.js';

t.setTimeout(300_000);

// A short timeout, so the suite sees an Operation time out and then succeed.
const OPERATION_TIMEOUT_S = 15;
const env: E2E = await e2eFor(t, { serverArgs: ['--operation-timeout', `${OPERATION_TIMEOUT_S}s`] });
const { admin } = env;

const SYSTEM = 'vineyard-system';
const NS = 'vineyard-job';
const VINEYARDD = 'vineyardd-sample';
const JOB1 = 'v6d-workflow-demo-job1';
const JOB2 = 'v6d-workflow-demo-job2';
const API = 'k8s.v6d.io/v1alpha1';
const podsPath = (namespace: string) => resourcePath('v1', 'pods', namespace);
const configMapPath = (name: string) => resourcePath('v1', 'configmaps', NS, name);
const operationPath = (name?: string) => resourcePath(API, 'operations', NS, name);

/**
 * Creates `o`. Right after env.ts switched deploy/'s configurations to url
 * client configs the API server may call the old Service for a moment
 * ("failed calling webhook"): retried until the server answers.
 */
function create(o: KubeObject, opts: { dryRun?: boolean } = {}): Promise<KubeObject | KubeStatusError> {
  return waitUntil(`${o.kind} ${o.metadata!.name ?? o.metadata!.generateName} answered`, async () => {
    const r = await createObject(admin, o, opts).then(
      x => x,
      (e: unknown) => e,
    );
    if (r instanceof KubeStatusError && /failed calling webhook/.test(r.message)) return undefined;
    if (r instanceof Error && !(r instanceof KubeStatusError)) throw r;
    return r as KubeObject | KubeStatusError;
  });
}

async function stored(o: KubeObject, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
  const r = await create(o, opts);
  if (r instanceof KubeStatusError)
    throw new Error(`${o.kind} ${o.metadata!.name ?? o.metadata!.generateName} refused: ${r.message}`);
  return r;
}

async function refusal(o: KubeObject): Promise<string> {
  const r = await create(o);
  if (!(r instanceof KubeStatusError))
    throw new Error(`${o.kind} ${r.metadata!.name} stored, but should have been refused`);
  return r.message;
}

// ---- the cluster as job1 leaves it ----

await stored({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
for (const node of ['node-a', 'node-b', 'node-c']) {
  await stored({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node, labels: { 'kubernetes.io/hostname': node } },
  });
}
const vineyardd = await stored({
  apiVersion: API,
  kind: 'Vineyardd',
  metadata: { name: VINEYARDD, namespace: SYSTEM },
  spec: { replicas: 3 },
});

/** A vineyardd pod of the cluster, bound to `node`; Ready as its kubelet reports it, or not. */
async function vineyarddPod(node: string, ready: boolean): Promise<void> {
  const pod = await stored({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${VINEYARDD}-${node}`,
      namespace: SYSTEM,
      labels: { 'app.kubernetes.io/name': VINEYARDD, 'app.kubernetes.io/instance': `${SYSTEM}-${VINEYARDD}` },
    },
    spec: { nodeName: node, containers: [{ name: 'vineyardd', image: 'vineyardcloudnative/vineyardd:latest' }] },
  });
  const now = new Date().toISOString();
  await admin.update(`${objectPath(pod)}/status`, {
    ...pod,
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
    },
  });
}
await vineyarddPod('node-a', true);
await vineyarddPod('node-b', true);
// Its vineyardd restarted and is not Ready: what it held cannot be read there now.
await vineyarddPod('node-c', false);

/** What `vineyardd --sync_crds` writes: named after the object, in the Vineyardd's namespace, owned by it; no status. */
const owner = { apiVersion: API, kind: 'Vineyardd', name: VINEYARDD, uid: vineyardd.metadata!.uid };
const objectLabels = (job: string, pod: string, podNamespace = NS) => ({
  'k8s.v6d.io/job': job,
  'k8s.v6d.io/created-podname': pod,
  'k8s.v6d.io/created-podnamespace': podNamespace,
});
async function localObject(id: string, host: string, job = JOB1, podNamespace = NS): Promise<void> {
  const signature = `s${id.slice(1)}`;
  await stored({
    apiVersion: API,
    kind: 'LocalObject',
    metadata: {
      name: id,
      namespace: SYSTEM,
      ownerReferences: [owner],
      labels: { ...objectLabels(job, `${job}-7d4f9-x2`, podNamespace), 'k8s.v6d.io/signature': signature },
    },
    spec: {
      id,
      signature,
      typename: 'vineyard::Tensor<int64>',
      instance_id: 0,
      hostname: host,
      metadata: 'vineyard::Tensor<int64>',
    },
  });
}
// job1 wrote one chunk on node-a and two on node-b, and one on node-c before its vineyardd went away.
await localObject('o001c87014ca81924', 'node-a');
await localObject('o001c8729e4590626', 'node-b');
await localObject('o001c8729e4590700', 'node-b');
await localObject('o001c8729e4590800', 'node-c');
await stored({
  apiVersion: API,
  kind: 'GlobalObject',
  metadata: {
    name: 'o001c8729e49e06b8',
    namespace: SYSTEM,
    ownerReferences: [owner],
    labels: objectLabels(JOB1, `${JOB1}-7d4f9-x2`),
  },
  spec: {
    id: 'o001c8729e49e06b8',
    signature: 's001c8729e49dfbb4',
    typename: 'vineyard::Sequence',
    metadata: 'vineyard::Sequence',
    members: ['s001c87014ca81924', 's001c8729e4590626', 's001c8729e4590700', 's001c8729e4590800'],
  },
});
// A job of the same name in another namespace: not job2's data (upstream mixed them).
await localObject('o00ffffffffff0001', 'node-a', JOB1, 'other-team');

// ---- job2 ----

const consumerPod = (
  name: { name?: string; generateName?: string },
  labels: Record<string, string>,
  ownerRef: Record<string, unknown>,
  required = JOB1,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    ...name,
    namespace: NS,
    labels: { app: JOB2, 'scheduling.k8s.v6d.io/vineyardd': VINEYARDD, 'scheduling.k8s.v6d.io/job': JOB2, ...labels },
    annotations: { 'scheduling.k8s.v6d.io/required': required },
    ownerReferences: [{ ...ownerRef, controller: true, blockOwnerDeletion: true }],
  },
  spec: { containers: [{ name: 'job2', image: 'ghcr.io/v6d-io/v6d/job2' }] },
});

const statefulSet = await stored({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: JOB2, namespace: NS },
  spec: {
    replicas: 3,
    serviceName: JOB2,
    selector: { matchLabels: { app: JOB2 } },
    template: {
      metadata: { labels: { app: JOB2 } },
      spec: { containers: [{ name: 'job2', image: 'ghcr.io/v6d-io/v6d/job2' }] },
    },
  },
});
const stsRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: JOB2, uid: statefulSet.metadata!.uid };
/** The StatefulSet controller's pod `ordinal`: its name and the pod-name label carry the ordinal. */
const ordinalPod = (ordinal: number) =>
  consumerPod({ name: `${JOB2}-${ordinal}` }, { 'statefulset.kubernetes.io/pod-name': `${JOB2}-${ordinal}` }, stsRef);

const hostnameIn = (values: string[]) => ({
  matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values }],
});
const requiredTerms = (pod: KubeObject) =>
  pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
const preferred = (pod: KubeObject) =>
  pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
const envOf = (pod: KubeObject, name: string) =>
  (pod.spec.containers[0].env as Array<{ name: string }> | undefined)?.find(e => e.name === name);

t.test('a dry run answers the same placement and writes nothing', async tt => {
  const dry = await stored(ordinalPod(0), { dryRun: true });
  tt.same(requiredTerms(dry), [hostnameIn(['node-a', 'node-b'])], 'the data nodes');
  tt.same(preferred(dry), [{ weight: 100, preference: hostnameIn(['node-a']) }], "the chunk rule's node");
  tt.equal(await admin.find(configMapPath(JOB1)), null, 'no job ConfigMap');
  tt.same((await admin.list(podsPath(NS))).items, [], 'no pod');
});

t.test("job2's pods are stored tied to job1's data, each preferring its chunk's node", async tt => {
  // 3 live chunks, 3 replicas: one chunk each; rank r takes the first node whose running count reaches r+1.
  const expected = ['node-a', 'node-b', 'node-b'];
  for (const [ordinal, node] of expected.entries()) {
    const pod = await stored(ordinalPod(ordinal));
    tt.same(
      requiredTerms(pod),
      [hostnameIn(['node-a', 'node-b'])],
      `${pod.metadata!.name}: required on the nodes holding job1's chunks with a ready vineyardd (not node-c)`,
    );
    tt.same(
      preferred(pod),
      [{ weight: 100, preference: hostnameIn([node]) }],
      `${pod.metadata!.name}: prefers ${node}`,
    );
    tt.same(
      envOf(pod, 'NODENAME'),
      { name: 'NODENAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
      'NODENAME from spec.nodeName',
    );
    tt.same(pod.spec.containers[0].envFrom, [{ configMapRef: { name: JOB1 } }], 'the job ConfigMap as env');
    tt.equal(
      pod.spec.nodeName,
      undefined,
      'never bound by the webhook: the scheduler still checks resources and taints',
    );
    tt.match(
      pod.metadata!.annotations!['scheduling.k8s.v6d.io/data-placement'],
      `jobs=${JOB1};nodes=node-a,node-b;prefer=${node}`,
      'the decision recorded',
    );
  }

  const cm = await admin.get(configMapPath(JOB1));
  tt.same(
    cm.data,
    { 'node-a': 'o001c87014ca81924', 'node-b': 'o001c8729e4590626,o001c8729e4590700', [JOB1]: 'o001c8729e49e06b8' },
    "each data node's local ids and the global id; node-c and the other namespace's object left out",
  );
  tt.equal(
    cm.metadata!.annotations!['scheduling.k8s.v6d.io/webhook-keys'],
    `node-a,node-b,${JOB1}`,
    'the keys the webhook owns',
  );
  tt.equal(cm.metadata!.labels!['app.kubernetes.io/managed-by'], 'vineyard-webhook');
  tt.same(
    cm.metadata!.ownerReferences,
    [{ ...stsRef, controller: false }],
    "owned by the consumer's StatefulSet, not as its controller",
  );
});

t.test(
  "a second consumer (a ReplicaSet's pod, no rank) shares the ConfigMap and is spread by the data's shares",
  async tt => {
    const rs = await stored({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${JOB2}-b5b58cbdc`, namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: JOB2, shard: 'b' } },
        template: {
          metadata: { labels: { app: JOB2, shard: 'b' } },
          spec: { containers: [{ name: 'job2', image: 'ghcr.io/v6d-io/v6d/job2' }] },
        },
      },
    });
    const rsRef = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata!.name, uid: rs.metadata!.uid };
    const pod = await stored(consumerPod({ generateName: `${JOB2}-b5b58cbdc-` }, { shard: 'b' }, rsRef));
    tt.same(requiredTerms(pod), [hostnameIn(['node-a', 'node-b'])]);
    tt.same(
      preferred(pod),
      [
        { weight: 33, preference: hostnameIn(['node-a']) },
        { weight: 67, preference: hostnameIn(['node-b']) },
      ],
      'each node by its share of the chunks',
    );
    tt.same(pod.spec.topologySpreadConstraints, [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'scheduling.k8s.v6d.io/job': JOB2 } },
      },
    ]);
    const cm = await admin.get(configMapPath(JOB1));
    tt.same(
      cm.metadata!.ownerReferences,
      [
        { ...stsRef, controller: false },
        { ...rsRef, controller: false },
      ],
      'its owner appended',
    );
  },
);

t.test(
  'a pod whose required job has no data yet is refused, naming the job, the namespace and the labels; nothing is written',
  async tt => {
    const message = await refusal(
      consumerPod(
        { generateName: 'early-' },
        {},
        { apiVersion: 'v1', kind: 'ReplicationController', name: 'early', uid: '6f0d2b52-0d8e-4a57-9c59-54f0f3b7c001' },
        'v6d-workflow-demo-job0',
      ),
    );
    tt.match(message, 'admission webhook "scheduling.vineyard-webhook.v6d.io" denied the request');
    tt.match(message, 'no data of required job v6d-workflow-demo-job0 for namespace vineyard-job yet');
    tt.match(message, 'GlobalObjects labelled k8s.v6d.io/job=v6d-workflow-demo-job0');
    tt.match(message, 'with label k8s.v6d.io/created-podnamespace=vineyard-job or none');
    tt.equal(await admin.find(configMapPath('v6d-workflow-demo-job0')), null, 'no ConfigMap for it');
  },
);

t.test(
  'an assembly consumer: the Operation is created, the pod refused until it has succeeded, within --operation-timeout',
  async tt => {
    const rs = await stored({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'assembly-job2-646b78f494', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'assembly-job2' } },
        template: {
          metadata: { labels: { app: 'assembly-job2' } },
          spec: { containers: [{ name: 'c', image: 'ghcr.io/v6d-io/v6d/assembly-job2' }] },
        },
      },
    });
    const rsRef = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata!.name, uid: rs.metadata!.uid };
    const pod = consumerPod(
      { generateName: 'assembly-job2-646b78f494-' },
      {
        app: 'assembly-job2',
        'scheduling.k8s.v6d.io/job': 'assembly-job2',
        'assembly.v6d.io/enabled': 'true',
        'assembly.v6d.io/type': 'local',
      },
      rsRef,
    );

    const first = await refusal(pod);
    tt.match(
      first,
      `waits for Operation ${NS}/assembly-job2-assembly (assembly local of ${JOB1} for assembly-job2) to succeed (created it now)`,
    );
    const operation = await admin.get(operationPath('assembly-job2-assembly'));
    tt.same(
      operation.spec,
      { name: 'assembly', type: 'local', require: JOB1, target: 'assembly-job2', timeoutSeconds: 300 },
      "the spec upstream's plugin wrote",
    );
    tt.same(
      operation.metadata!.ownerReferences,
      [{ ...rsRef, controller: false }],
      "owned by the consumer's ReplicaSet",
    );
    const dryAnswer = await create(pod, { dryRun: true });
    tt.type(dryAnswer, KubeStatusError, 'a dry run is refused too');

    const second = await refusal(pod);
    tt.match(
      second,
      `created at ${operation.metadata!.creationTimestamp as string}, no status.state yet`,
      'the same Operation, still waiting',
    );
    tt.equal((await admin.list(operationPath())).items.length, 1, 'one Operation for the job, however many pods ask');

    const event = await waitUntil('an AdmissionDenied event on the ReplicaSet', async () =>
      (await admin.list(resourcePath('v1', 'events', NS))).items.find(
        e => e.reason === 'AdmissionDenied' && e.involvedObject?.name === rs.metadata!.name,
      ),
    );
    tt.match(
      event.message,
      'waits for Operation vineyard-job/assembly-job2-assembly',
      'kubectl describe of the ReplicaSet says what the pod waits for',
    );

    const late = await waitUntil(
      'the Operation timed out',
      async () => {
        const m = await refusal(pod);
        return /did not succeed within --operation-timeout/.test(m) ? m : undefined;
      },
      (OPERATION_TIMEOUT_S + 20) * 1000,
    );
    tt.match(
      late,
      `did not succeed within --operation-timeout, ${OPERATION_TIMEOUT_S}s of its creation at ${operation.metadata!.creationTimestamp as string}`,
    );
    tt.match(late, `kubectl delete operations.k8s.v6d.io -n ${NS} assembly-job2-assembly`, 'how to start over');

    // The operator's controller finishes: status through the status subresource, as it writes it.
    const current = await admin.get(operationPath('assembly-job2-assembly'));
    await admin.update(`${operationPath('assembly-job2-assembly')}/status`, {
      ...current,
      status: { state: 'succeeded' },
    });
    const admitted = await stored(pod);
    tt.same(requiredTerms(admitted), [hostnameIn(['node-a', 'node-b'])], 'admitted and placed by the data');
    tt.equal((await admin.list(operationPath())).items.length, 1, 'nothing created again');
    const cm = await admin.get(configMapPath(JOB1));
    tt.equal(
      cm.metadata!.annotations!['scheduling.k8s.v6d.io/webhook-keys'],
      'node-a,node-b',
      "the job's key is left to the operator's assembly from now on",
    );
    tt.equal(cm.data[JOB1], 'o001c8729e49e06b8', 'and not rewritten');
  },
);
