// `vineyard-webhook explain pod/NAME`: for a pod in a cluster, each pod webhook
// of the cluster's configuration, whether it matches, what it recorded on the
// pod, and what it would do to such a pod created now. The pieces in process,
// then the built CLI against a fake API server (read-only, exit codes, usage).
// test/e2e/explain.test.ts runs it against a real kube-apiserver.
import t from 'tap';
import { join } from 'node:path';
import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { podName, explainPodFlags } from '../src/cli/explain/command.js';
import { asNewPod, explainPod, type PodFacts } from '../src/cli/explain/explain-pod.js';
import { evidenceOf } from '../src/cli/explain/pod-evidence.js';
import {
  clusterPodWebhooks,
  coversPodCreate,
  OPERATOR_MUTATING_CONFIGURATION,
} from '../src/cli/explain/webhook-configuration.js';
import { POD_WEBHOOKS } from '../src/cli/mutate/pod-webhooks.js';
import type { Json } from '../src/cli/mutate/pod-templates.js';
import { UsageError } from '../src/flags.js';
import * as names from '../src/vineyard/names.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { writeFakeKubeconfig } from './helpers/kubeconfig.js';
import { kustomize } from './helpers/kustomize.js';
import { runCli } from './helpers/cli.js';

const ROOT = new URL('../', import.meta.url).pathname;
/** deploy/'s configuration as the API server stores it: caBundle injected, empty selectors defaulted to {}. */
const deployed = (): V1MutatingWebhookConfiguration => {
  const c = structuredClone(
    kustomize(join(ROOT, 'deploy')).find(o => o.kind === 'MutatingWebhookConfiguration'),
  ) as unknown as V1MutatingWebhookConfiguration;
  for (const w of c.webhooks ?? []) {
    w.clientConfig.caBundle = Buffer.from('a CA').toString('base64');
    w.objectSelector ??= {};
    w.namespaceSelector ??= {};
  }
  return c;
};
const [SIDECAR, OPERATION, SCHEDULING, FLUID, PLACEMENT] = POD_WEBHOOKS.map(h => h.name) as [
  string,
  string,
  string,
  string,
  string,
];

const pod = (
  name: string,
  namespace: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace,
    labels,
    annotations,
    uid: 'u-1',
    resourceVersion: '7',
    creationTimestamp: '2025-01-01T00:00:00Z',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'etl-5d8f', uid: 'rs', controller: true }],
  },
  spec: { nodeName: 'node-a', containers: [{ name: 'etl', image: 'etl', command: ['python3', '/etl.py'] }] },
  status: { phase: 'Running' },
});

const facts = (
  p: Json,
  namespaceLabels: Record<string, string>,
  config: V1MutatingWebhookConfiguration | null = deployed(),
): PodFacts => ({
  namespace: (p.metadata as { namespace: string }).namespace,
  name: (p.metadata as { name: string }).name,
  pod: p,
  namespaceLabels,
  configurationName: 'vineyard-webhook',
  configuration: config ? clusterPodWebhooks(config) : null,
  otherConfigurations: [],
});
const explain = (f: PodFacts, store = new MemoryStore()) => explainPod(f, { store, config: defaultPipelineConfig });
/** The line of one webhook. */
const lineOf = (text: string, webhook: string) =>
  text.split('\n').find(l => l.startsWith(`  ${webhook}: `)) ?? `(no line for ${webhook})`;

const SIDECAR_NS = { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' };
const STATUS = { [names.SIDECAR_STATUS_ANNOTATION]: '{"sidecar":"app-etl-default-sidecar","mode":"container"}' };
const ASKS = { app: 'etl', [names.SIDECAR_ENABLED_LABEL]: 'true' };

t.test("the cluster's configuration: our pod webhooks, with what stops a call", async t => {
  const all = clusterPodWebhooks(deployed());
  t.same(
    all.webhooks.map(w => w.hook),
    POD_WEBHOOKS,
    "deploy/ as stored gives deploy/'s webhooks (empty selectors are no selectors)",
  );
  t.same(all.missing, []);
  t.same(
    all.webhooks.flatMap(w => w.notes),
    [],
    'nothing to note',
  );

  const changed = deployed();
  changed.webhooks = changed.webhooks!.filter(w => w.name !== FLUID);
  const sidecar = changed.webhooks.find(w => w.name === SIDECAR)!;
  delete sidecar.clientConfig.caBundle;
  sidecar.failurePolicy = 'Ignore';
  changed.webhooks.find(w => w.name === OPERATION)!.rules = [
    { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['UPDATE'] },
  ];
  const renamed = changed.webhooks.find(w => w.name === SCHEDULING)!;
  renamed.name = 'scheduling.example.com';
  renamed.clientConfig = { url: 'https://webhook.example.com:9443/mutate-v1-pod-scheduling' };
  const got = clusterPodWebhooks(changed);
  t.same(got.missing, [SCHEDULING, FLUID], "deploy/'s webhooks the configuration lacks, by name");
  t.ok(
    got.webhooks.some(w => w.hook.name === 'scheduling.example.com' && w.hook.path === '/mutate-v1-pod-scheduling'),
    'a renamed webhook is ours by its path (url client config too)',
  );
  t.match(got.webhooks.find(w => w.hook.name === SIDECAR)!.notes, [/no caBundle/, /failurePolicy Ignore/]);
  t.equal(got.webhooks.find(w => w.hook.name === OPERATION)!.neverCalled, 'its rules do not send pod CREATE');

  t.ok(coversPodCreate([{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*'] }]), 'wildcards');
  t.notOk(
    coversPodCreate([{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }]),
    'another group',
  );
  t.notOk(
    coversPodCreate([
      { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Cluster' },
    ]),
    'cluster scope',
  );
});

t.test('what a stored pod records of each webhook', async t => {
  const hook = (name: string) => POD_WEBHOOKS.find(h => h.name === name)!;
  const p = pod('etl-0', 'jobs', ASKS, {
    ...STATUS,
    [names.OPERATION_LABELLED_ANNOTATION]: 'job1',
    [names.DATA_PLACEMENT_ANNOTATION]: 'job1: node-a',
    [names.PLACEMENT_ANNOTATION]: '{"node":"node-b","review":"r"}',
    [names.FLUID_STATUS_ANNOTATION]: '{"datasets":["demo"]}',
  });
  t.same(evidenceOf(hook(SIDECAR), p), {
    what: 'sidecar injected (app-etl-default-sidecar, container mode)',
    annotation: names.SIDECAR_STATUS_ANNOTATION,
  });
  t.same(evidenceOf(hook(OPERATION), p), {
    what: 'labelled the pods of required jobs job1',
    annotation: names.OPERATION_LABELLED_ANNOTATION,
  });
  t.same(evidenceOf(hook(SCHEDULING), p), {
    what: "placed by the required jobs' data",
    annotation: names.DATA_PLACEMENT_ANNOTATION,
  });
  t.same(
    evidenceOf(hook(PLACEMENT), p),
    { what: 'placed on node node-b', annotation: names.PLACEMENT_ANNOTATION },
    'the placement webhook shares the path, not the record',
  );
  t.same(evidenceOf(hook(FLUID), p), {
    what: 'connected to Fluid dataset demo',
    annotation: names.FLUID_STATUS_ANNOTATION,
  });
  for (const h of POD_WEBHOOKS)
    t.equal(evidenceOf(h, pod('plain', 'jobs', {})), undefined, `${h.name}: no record on a pod without annotations`);
  t.same(
    evidenceOf(hook(SIDECAR), pod('x', 'jobs', {}, { [names.SIDECAR_STATUS_ANNOTATION]: 'not json' })),
    { what: 'sidecar injected', annotation: names.SIDECAR_STATUS_ANNOTATION },
    'an annotation it cannot read still proves it',
  );
});

t.test('a pod created now: without what the API server and the scheduler filled in', async t => {
  const fresh = asNewPod(pod('etl-0', 'jobs', ASKS, STATUS));
  t.notOk('status' in fresh);
  t.same(Object.keys(fresh.metadata as Json).sort(), ['annotations', 'labels', 'name', 'namespace', 'ownerReferences']);
  t.notOk('nodeName' in (fresh.spec as Json));
});

t.test('an injected pod: the record, and why the others did not match', async t => {
  const text = await explain(facts(pod('etl-0', 'jobs', ASKS, STATUS), SIDECAR_NS));
  t.equal(
    text,
    [
      'pod/etl-0 (namespace jobs, controlled by replicaset/etl-5d8f):',
      '  configuration: MutatingWebhookConfiguration vineyard-webhook, 5 pod webhooks',
      `  ${SIDECAR}: matches; sidecar injected (app-etl-default-sidecar, container mode) when the pod was created (annotation sidecar.v6d.io/status)`,
      `  ${OPERATION}: does not match: namespace jobs not labelled operation-injection=enabled`,
      `  ${SCHEDULING}: does not match: pod has no label scheduling.k8s.v6d.io/vineyardd`,
      `  ${FLUID}: does not match: pod not labelled fuse.vineyard.fluid.io/inject=true`,
      `  ${PLACEMENT}: does not match: pod not labelled scheduling.v6d.io/enabled=true`,
      '',
    ].join('\n'),
    'no hint: nothing to fix (the operation webhook is not asked for by the pod)',
  );
});

t.test('a pod created before its namespace was labelled: what it would get now, and how to get it', async t => {
  const store = new MemoryStore();
  const text = await explain(facts(pod('etl-0', 'jobs', ASKS), SIDECAR_NS), store);
  t.match(
    lineOf(text, SIDECAR),
    /matches, but this pod does not have what it writes \(.*spec\.containers.*\): it was created before the webhook, its namespace label or its pod label.*; created now, it would get: sidecar injected \(app-etl-default-sidecar, container mode\)$/,
  );
  t.match(
    text,
    'hint: recreate the pod to get what the webhooks write: kubectl -n jobs delete pod etl-0 (its replicaset creates a new one); webhooks act only when a pod is created',
  );

  const unlabelled = await explain(facts(pod('etl-0', 'jobs', ASKS), {}));
  t.equal(
    lineOf(unlabelled, SIDECAR),
    `  ${SIDECAR}: does not match: namespace jobs not labelled sidecar-injection=enabled`,
  );
  t.match(
    unlabelled,
    'hint: kubectl label namespace jobs sidecar-injection=enabled, then recreate the pod: kubectl -n jobs delete pod etl-0',
  );

  const nowUnlabelled = await explain(facts(pod('etl-0', 'jobs', ASKS, STATUS), {}));
  t.match(
    lineOf(nowUnlabelled, SIDECAR),
    /does not match now \(namespace jobs not labelled sidecar-injection=enabled\), but sidecar injected \(app-etl-default-sidecar, container mode\) when the pod was created .*: the labels or the configuration changed since/,
  );
  t.notMatch(nowUnlabelled, 'hint:', 'injected already: nothing to do');
});

t.test('a pod that would be refused now, and one with nothing left to add', async t => {
  const refused = await explain(
    facts(pod('etl-0', 'jobs', ASKS, { [names.SIDECAR_NAME_ANNOTATION]: 'missing' }), SIDECAR_NS),
  );
  t.match(lineOf(refused, SIDECAR), /matches; created now, the pod would be refused: .*jobs\/missing/);

  const op = pod('etl-0', 'jobs', {});
  (op.spec as { containers: Json[] }).containers[0]!.env = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  const text = await explain(facts(op, { [names.OPERATION_NAMESPACE_LABEL]: 'enabled' }));
  t.match(lineOf(text, OPERATION), /^ {2}\S+: matches; nothing to change \(/);
});

t.test("in the webhook's own namespace, and without a configuration", async t => {
  const own = await explain(facts(pod('etl-0', 'vineyard-system', ASKS), SIDECAR_NS));
  t.equal(
    lineOf(own, SIDECAR),
    `  ${SIDECAR}: does not match: namespace vineyard-system is never mutated (the webhooks skip vineyard-system and kube-system)`,
  );
  const none = await explain(facts(pod('etl-0', 'jobs', ASKS), SIDECAR_NS, null));
  t.match(
    none,
    'MutatingWebhookConfiguration vineyard-webhook not found: no webhook of vineyard-webhook is called for any pod',
  );
  t.notMatch(none, SIDECAR);
  const noted = deployed();
  noted.webhooks!.find(w => w.name === OPERATION)!.rules![0]!.operations = ['UPDATE'];
  delete noted.webhooks!.find(w => w.name === SIDECAR)!.clientConfig.caBundle;
  const text = await explain(
    facts(pod('etl-0', 'jobs', ASKS, STATUS), { ...SIDECAR_NS, [names.OPERATION_NAMESPACE_LABEL]: 'enabled' }, noted),
  );
  t.equal(lineOf(text, OPERATION), `  ${OPERATION}: never called: its rules do not send pod CREATE`);
  t.match(text, `  ${SIDECAR}: matches; sidecar injected`);
  t.match(text, "    note: no caBundle: the API server cannot trust the server's certificate");
});

t.test('pod/NAME as kubectl takes it', async t => {
  t.equal(podName(['pod/etl-0']), 'etl-0');
  t.equal(podName(['pods', 'etl-0']), 'etl-0');
  t.equal(podName(['po/etl-0']), 'etl-0');
  t.throws(
    () => podName(['deployment/etl']),
    new UsageError(
      'explain reads pods from a cluster (pod/NAME), not "deployment/etl"; for a workload, explain its manifest: kubectl get deployment etl -o yaml | vineyard-webhook explain -f - --kubeconfig FILE',
    ),
  );
  t.throws(() => podName(['pod']), /which pod\?/);
  t.throws(() => podName(['pod/a', 'b']), /one pod/);
  t.throws(() => podName(['pod/Not_A_Name']), /is not a pod name/);
});

t.test("the built CLI against a cluster: read-only, the context's namespace, exit codes", async t => {
  const operatorConfig = { ...deployed(), metadata: { name: OPERATOR_MUTATING_CONFIGURATION } };
  const fake = await FakeApiServer.start({
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'jobs', labels: { ...SIDECAR_NS, [names.NAMESPACE_NAME_LABEL]: 'jobs' } },
      },
      pod('etl-0', 'jobs', ASKS) as never,
      pod('etl-1', 'jobs', ASKS, STATUS) as never,
      { ...deployed(), apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration' } as never,
    ],
  });
  t.teardown(() => fake.close());
  const kubeconfig = writeFakeKubeconfig(fake.url, { namespace: 'jobs' });
  t.teardown(() => kubeconfig.remove());

  const r = await runCli(['explain', 'pod/etl-0', '--kubeconfig', kubeconfig.path]);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    /^pod\/etl-0 \(namespace jobs, controlled by replicaset\/etl-5d8f\):\n/,
    "the namespace of the kubeconfig's context",
  );
  t.match(
    lineOf(r.stdout, SIDECAR),
    'created now, it would get: sidecar injected (app-etl-default-sidecar, container mode)',
  );
  t.same(fake.writes(), [], 'nothing written: the default Sidecar of the simulated creation stays in memory');
  t.ok(
    fake.requests.some(
      q => q.path === '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/vineyard-webhook',
    ),
    'the configuration is read',
  );

  const env = { ...process.env, KUBECONFIG: kubeconfig.path };
  const injected = await runCli(['explain', 'pod', 'etl-1', '-n', 'jobs'], env);
  t.equal(injected.code, 0, injected.stderr);
  t.match(
    lineOf(injected.stdout, SIDECAR),
    'matches; sidecar injected (app-etl-default-sidecar, container mode) when the pod was created',
    '$KUBECONFIG, and pod NAME',
  );

  fake.put({
    ...operatorConfig,
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
  } as never);
  const both = await runCli(['explain', 'pod/etl-1'], env);
  t.match(
    both.stdout,
    `note: MutatingWebhookConfiguration ${OPERATOR_MUTATING_CONFIGURATION} (the Vineyard operator's) exists too`,
  );

  const other = await runCli(['explain', 'pod/etl-1', '--mutating-webhook-configuration', 'nope'], env);
  t.equal(other.code, 0);
  t.match(other.stdout, 'MutatingWebhookConfiguration nope not found');

  const missing = await runCli(['explain', 'pod/gone', '-n', 'jobs'], env);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, `error: pod jobs/gone not found in ${fake.url} (kubectl get pods -n jobs)\n`);
  t.equal(missing.stdout, '');

  for (const [args, message] of [
    [['explain', 'deployment/etl'], /kubectl get deployment etl -o yaml \| vineyard-webhook explain -f -/],
    [['explain', 'pod/etl-0', '-f', 'x.yaml'], /explain pod\/NAME: Unknown option '-f'/],
    [['explain', 'pod/etl-0', '-n', 'Bad_NS'], /-n\/--namespace: "Bad_NS" is not a namespace name/],
    [['explain', 'pod/etl-0', '--context', 'nope'], /--context: the kubeconfig has no context "nope"/],
  ] as Array<[string[], RegExp]>) {
    const u = await runCli(args, env);
    t.equal(u.code, 2, `${args.join(' ')}: exit 2`);
    t.match(u.stderr, message, `${args.join(' ')}: names the problem`);
  }
  const nothing = await runCli(['explain', 'pod/etl-0'], {
    ...process.env,
    KUBECONFIG: '/nonexistent',
    HOME: '/nonexistent',
  });
  t.equal(nothing.code, 2);
  t.match(nothing.stderr, 'no cluster to read: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config');

  await fake.close();
  const down = await runCli(['explain', 'pod/etl-0'], env);
  t.equal(down.code, 1, 'a cluster that cannot be read: exit 1');
  t.match(
    down.stderr,
    /^error: cannot read from http:\/\/127\.0\.0\.1:\d+: get pods jobs\/etl-0: the API server could not be reached/,
  );
});

t.test('--help: both forms, every flag', async t => {
  for (const args of [
    ['explain', '--help'],
    ['help', 'explain'],
    ['explain', 'pod/x', '-h'],
  ]) {
    const r = await runCli(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, 'Usage: vineyard-webhook explain pod/NAME');
    t.match(r.stdout, 'vineyard-webhook explain -f FILE|DIR|-');
    for (const f of explainPodFlags) t.match(r.stdout, `--${f.name}`, `${args.join(' ')}: --${f.name}`);
  }
});
