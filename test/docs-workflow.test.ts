// docs/workflow.md shows what the webhook writes at each step of the
// workflow: its examples are run here, so the page cannot drift from the code.
// The cluster of Vineyard's guide (three kind workers, job1's objects on two
// of them) goes into a memory store; the seeds' pods go through the scheduling
// endpoint; the page's YAML and refusals must be what comes out.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { runPipeline } from '../src/admission/run.js';
import { defaultPipelineConfig, type PipelineConfig } from '../src/admission/endpoint.js';
import type { AdmissionRequest } from '../src/admission/types.js';
import { MemoryStore, sequentialUids } from '../src/cluster/memory-store.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { endpointByName } from './helpers/fixtures.js';

const page = readFileSync(new URL('../docs/workflow.md', import.meta.url), 'utf8');
const endpoint = endpointByName('scheduling');
const NS = 'vineyard-job';
const JOB1 = 'v6d-workflow-demo-job1';

/** The page's fenced blocks of one language, in order, without their fences and indentation. */
function blocks(lang: string): string[] {
  return [...page.matchAll(/^( *)```(\w+)\n([\s\S]*?)^ *```$/gm)]
    .filter(m => m[2] === lang)
    .map(m =>
      m[3]!
        .split('\n')
        .map(l => l.slice(m[1]!.length))
        .join('\n'),
    );
}
const yamlBlock = (marker: RegExp) => {
  const found = blocks('yaml').filter(b => marker.test(b));
  if (found.length !== 1) throw new Error(`docs/workflow.md: ${found.length} yaml blocks match ${marker}`);
  return parse(found[0]!) as Record<string, any>;
};
/** A refusal as the page shows it: its text up to the first `...`, on one line. */
const textBlock = (marker: RegExp) => {
  const found = blocks('text').filter(b => marker.test(b));
  if (found.length !== 1) throw new Error(`docs/workflow.md: ${found.length} text blocks match ${marker}`);
  return found[0]!.split('...')[0]!.replace(/\s+/g, ' ').trim();
};
const oneLine = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ');

const vineyarddPod = (node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: `vineyardd-sample-${node}`,
    namespace: 'vineyard-system',
    labels: { 'app.kubernetes.io/instance': 'vineyard-system-vineyardd-sample' },
  },
  spec: { nodeName: node, containers: [{ name: 'vineyardd', image: 'vineyardcloudnative/vineyardd' }] },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});
const labels = (job: string) => ({ 'k8s.v6d.io/job': job, 'k8s.v6d.io/created-podnamespace': NS });
const local = (id: string, signature: string, host: string, job = JOB1) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'LocalObject',
  metadata: { name: id, namespace: 'vineyard-system', labels: { ...labels(job), 'k8s.v6d.io/signature': signature } },
  spec: { id, signature, hostname: host },
});
const global = (id: string, members: string[]) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'GlobalObject',
  metadata: { name: id, namespace: 'vineyard-system', labels: labels(JOB1) },
  spec: { id, members },
});
const guideCluster = () => [vineyarddPod('kind-worker'), vineyarddPod('kind-worker2'), vineyarddPod('kind-worker3')];
const job1Objects = () => [
  local('o001c87014ca81924', 's001c87014ca80acc', 'kind-worker2'),
  local('o001c8729e4590626', 's001c8729e458f47a', 'kind-worker3'),
  global('o001c87014cf03c70', ['s001c87014ca80acc']),
  global('o001c8729e49e06b8', ['s001c8729e458f47a']),
];

/** A pod of a Deployment's ReplicaSet, from the template the page shows. */
function podOf(template: Record<string, any>, replicaSet: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template.metadata,
      generateName: `${replicaSet}-`,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: replicaSet,
          uid: '8a6f3c1e-2b4d-4e5f-9a7b-0c1d2e3f4a5b',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: template.spec,
  };
}
const request = (pod: V1Pod): AdmissionRequest => ({
  uid: 'docs',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: NS,
  object: pod as never,
});
const admit = (store: MemoryStore, pod: V1Pod, config: PipelineConfig = defaultPipelineConfig) =>
  runPipeline(endpoint, request(pod), { store, config });

const job2 = yamlBlock(/kind: Deployment\n[^]*name: v6d-workflow-demo-job2-deployment\n/);
const job2Pod = () => podOf(job2.spec.template, 'v6d-workflow-demo-job2-deployment-b5b58cbdc');

t.test("step 3: job2 before job1's data is refused with the page's message", async t => {
  const out = await admit(new MemoryStore(guideCluster(), sequentialUids()), job2Pod());
  t.equal(out.response.allowed, false);
  const shown = textBlock(/no data of required job/).replace(/^admission webhook "[^"]+" denied the request: /, '');
  t.ok(oneLine(out.response.status?.message).startsWith(shown), `starts with: ${shown}`);
});

t.test("step 4: job2's affinity and the job ConfigMap are the page's", async t => {
  const store = new MemoryStore([...guideCluster(), ...job1Objects()], sequentialUids());
  const out = await admit(store, job2Pod());
  t.equal(out.response.allowed, true, out.response.status?.message ?? '');
  const pod = patchedCopy(job2Pod(), out.patch) as V1Pod;
  t.same(pod.spec?.affinity?.nodeAffinity, yamlBlock(/^affinity:/).affinity.nodeAffinity);
  t.match(
    page,
    pod.metadata?.annotations?.['scheduling.k8s.v6d.io/data-placement'] ?? 'no annotation',
    'the annotation shown',
  );

  const shown = yamlBlock(/kind: ConfigMap/);
  const cm = await store.getConfigMap(NS, JOB1);
  t.same(cm?.data, shown.data);
  t.same(cm?.metadata?.labels, shown.metadata.labels);
  t.same(cm?.metadata?.annotations, shown.metadata.annotations);
  t.same(
    cm?.metadata?.ownerReferences?.map(o => ({ ...o, uid: '...' })),
    shown.metadata.ownerReferences,
  );
});

t.test("step 5: the assembly consumer's Operation and refusals are the page's", async t => {
  const stream = local('o001d1b280049b146', 's001d1b280049a4d4', 'kind-worker2', 'assembly-job1');
  const store = new MemoryStore([...guideCluster(), stream], sequentialUids());
  const template = yamlBlock(/assembly\.v6d\.io\/enabled/);
  const pod = podOf(
    {
      metadata: template.metadata,
      spec: { containers: [{ name: 'assembly-job2', image: 'ghcr.io/v6d-io/v6d/assembly-job2' }] },
    },
    'assembly-job2-646b78f494',
  );

  const first = await admit(store, pod);
  t.equal(first.response.allowed, false);
  t.ok(
    oneLine(first.response.status?.message).startsWith(textBlock(/to succeed \(created it now\)/)),
    'the waiting refusal',
  );
  const shown = yamlBlock(/kind: Operation/);
  const op = await store.getOperation(NS, 'assembly-job2-assembly');
  t.same(op?.spec, shown.spec);
  t.same(op?.metadata?.labels, shown.metadata.labels);
  t.same(
    op?.metadata?.ownerReferences?.map(o => ({ ...o, uid: '...' })),
    shown.metadata.ownerReferences,
  );

  store.load({
    ...op,
    metadata: { ...op!.metadata, creationTimestamp: '2024-05-06T07:05:00Z' },
    status: { state: 'running' },
  });
  const late = await admit(store, pod, { ...defaultPipelineConfig, now: '2024-05-06T07:20:00Z' });
  t.ok(oneLine(late.response.status?.message).startsWith(textBlock(/did not succeed within/)), 'the timed-out refusal');
  t.match(
    oneLine(late.response.status?.message),
    /then delete the Operation \(kubectl delete operations\.k8s\.v6d\.io -n vineyard-job assembly-job2-assembly\) for the webhook to create it again/,
  );
});
