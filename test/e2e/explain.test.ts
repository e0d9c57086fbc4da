// `vineyard-webhook explain pod/NAME` against a real kube-apiserver: the built
// CLI, run as a user runs it (the admin's kubeconfig, as kubectl's), explains
// pods the real API server admitted through the running webhook; what it says
// a pod created now would get is what the API server then gives a pod created
// now; and it writes nothing.
import t from 'tap';
import { POD_WEBHOOKS } from '../../src/cli/mutate/pod-webhooks.js';
import * as names from '../../src/vineyard/names.js';
import { runCli } from '../helpers/cli.js';
import { createObject, e2eFor, type E2E } from './env.js';
import { resourcePath, type KubeObject } from './kube-client.js';

t.setTimeout(300_000);

const env: E2E = await e2eFor(t);
const { admin } = env;
const kubeconfig = env.cluster.adminKubeconfig();
const [SIDECAR, OPERATION] = POD_WEBHOOKS.map(h => h.name) as [string, string];

const explain = (...args: string[]) => runCli(['explain', ...args, '--kubeconfig', kubeconfig]);
const lineOf = (text: string, webhook: string) =>
  text.split('\n').find(l => l.startsWith(`  ${webhook}: `)) ?? `(no line for ${webhook} in:\n${text})`;

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const pod = (name: string, ns: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'etl', [names.SIDECAR_ENABLED_LABEL]: 'true' } },
  spec: { containers: [{ name: 'etl', image: 'etl:1', command: ['python3', '/etl.py'] }] },
});
const containers = (p: KubeObject): string[] => (p.spec?.containers ?? []).map((c: { name: string }) => c.name);
const sidecars = async (ns: string) =>
  (await admin.list(resourcePath('k8s.v6d.io/v1alpha1', 'sidecars', ns))).items.map(s => s.metadata!.name);
const resourceVersions = async (ns: string) => [
  (await admin.get(resourcePath('v1', 'namespaces', undefined, ns))).metadata!.resourceVersion,
  ...(await admin.list(resourcePath('v1', 'pods', ns))).items.map(
    p => `${p.metadata!.name}@${p.metadata!.resourceVersion}`,
  ),
];

t.test('a pod the webhook injected: the record it left, and why the others did not match', async t => {
  await createObject(admin, namespace('explain-injected', { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' }));
  const stored = await createObject(admin, pod('etl-0', 'explain-injected'));
  t.ok(containers(stored).includes(names.SIDECAR_CONTAINER), 'the API server stored it injected');
  const r = await explain('pod/etl-0', '-n', 'explain-injected');
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    /^pod\/etl-0 \(namespace explain-injected\):\n {2}configuration: MutatingWebhookConfiguration vineyard-webhook, 5 pod webhooks\n/,
  );
  t.equal(
    lineOf(r.stdout, SIDECAR),
    `  ${SIDECAR}: matches; sidecar injected (app-etl-default-sidecar, container mode) when the pod was created (annotation ${names.SIDECAR_STATUS_ANNOTATION})`,
  );
  t.equal(
    lineOf(r.stdout, OPERATION),
    `  ${OPERATION}: does not match: namespace explain-injected not labelled operation-injection=enabled`,
  );
  t.notMatch(r.stdout, 'note:', 'the configuration as the server left it: caBundle in place, nothing to note');
  t.notMatch(r.stdout, 'hint:');
});

t.test('a pod created before its namespace was labelled: what a pod created now gets, read-only', async t => {
  await createObject(admin, namespace('explain-late'));
  const before = await createObject(admin, pod('etl-0', 'explain-late'));
  t.notOk(containers(before).includes(names.SIDECAR_CONTAINER), 'not injected: the namespace was not labelled');

  const unlabelled = await explain('pod', 'etl-0', '-n', 'explain-late');
  t.equal(unlabelled.code, 0, unlabelled.stderr);
  t.equal(
    lineOf(unlabelled.stdout, SIDECAR),
    `  ${SIDECAR}: does not match: namespace explain-late not labelled sidecar-injection=enabled`,
  );
  t.match(
    unlabelled.stdout,
    'hint: kubectl label namespace explain-late sidecar-injection=enabled, then recreate the pod',
  );

  await admin.mergePatch(resourcePath('v1', 'namespaces', undefined, 'explain-late'), {
    metadata: { labels: { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' } },
  });
  const versions = await resourceVersions('explain-late');
  const labelled = await explain('pod/etl-0', '-n', 'explain-late');
  t.equal(labelled.code, 0, labelled.stderr);
  const line = lineOf(labelled.stdout, SIDECAR);
  t.match(
    line,
    /matches, but this pod does not have what it writes .*; created now, it would get: sidecar injected \(app-etl-default-sidecar, container mode\)$/,
  );
  t.same(await sidecars('explain-late'), [], 'the default Sidecar of the simulated creation was not created');
  t.same(await resourceVersions('explain-late'), versions, 'the namespace and the pod are untouched');

  // What the hint says to do, and what the API server then does.
  await admin.delete(resourcePath('v1', 'pods', 'explain-late', 'etl-0'));
  const after = await createObject(admin, pod('etl-0', 'explain-late'));
  t.ok(containers(after).includes(names.SIDECAR_CONTAINER), 'recreated: injected');
  t.equal(
    after.metadata!.annotations![names.SIDECAR_STATUS_ANNOTATION],
    '{"sidecar":"app-etl-default-sidecar","mode":"container"}',
    'with the Sidecar and mode explain said',
  );
  t.match(
    lineOf((await explain('pod/etl-0', '-n', 'explain-late')).stdout, SIDECAR),
    'matches; sidecar injected (app-etl-default-sidecar, container mode) when the pod was created',
  );
});

t.test('the configuration as the cluster holds it, and a pod that does not exist', async t => {
  const r = await explain('pod/etl-0', '-n', 'explain-injected', '--mutating-webhook-configuration', 'someone-elses');
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    'MutatingWebhookConfiguration someone-elses not found: no webhook of vineyard-webhook is called for any pod',
  );
  const missing = await explain('pod/nope', '-n', 'explain-injected');
  t.equal(missing.code, 1);
  t.equal(
    missing.stderr,
    `error: pod explain-injected/nope not found in ${env.cluster.url} (kubectl get pods -n explain-injected)\n`,
  );
});

t.test("a pod in the webhook's own namespace: never mutated, whatever its labels", async t => {
  const stored = await createObject(admin, pod('etl-own', 'vineyard-system'));
  t.teardown(() => admin.delete(resourcePath('v1', 'pods', 'vineyard-system', 'etl-own')));
  t.notOk(containers(stored).includes(names.SIDECAR_CONTAINER), 'the API server did not call the webhook');
  const r = await explain('pod/etl-own', '-n', 'vineyard-system');
  t.equal(r.code, 0, r.stderr);
  for (const h of POD_WEBHOOKS)
    t.equal(
      lineOf(r.stdout, h.name),
      `  ${h.name}: does not match: namespace vineyard-system is never mutated (the webhooks skip vineyard-system and kube-system)`,
    );
});
