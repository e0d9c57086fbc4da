// The Vineyard operator's custom-resource webhooks against a real
// kube-apiserver (see env.ts): deploy/ registers every CR path of the
// operator's configurations, and for each kind one valid object is stored
// (defaulted where the mutating path defaults) and one invalid object is
// refused, naming the field. The API server validates a CR against its
// CRD's schema after the mutating webhooks and before the validating ones,
// so the invalid objects below are schema-valid except for GlobalObject
// and LocalObject, which this server never refuses: theirs is the schema's
// refusal.
import t, { type Test } from 'tap';
import { webhookCalls } from './api-cost.js';
import { configPath, createObject, e2eFor, waitUntil, type ConfigKind, type E2E, type WebhookConfig } from './env.js';
import { fileURLToPath } from 'node:url';
import { readManifestFile } from '../helpers/kustomize.js';
import { KubeStatusError, resourcePath, type KubeObject } from './kube-client.js';

t.setTimeout(300_000);

const env: E2E = await e2eFor(t);
const { admin } = env;

const SYSTEM = 'vineyard-system';
const JOB_NS = 'vineyard-ops';
const API = 'k8s.v6d.io/v1alpha1';
/** `namespace` null: a cluster-scoped object. */
const cr = (kind: string, name: string, spec: unknown, namespace: string | null = SYSTEM): KubeObject => ({
  apiVersion: API,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});

/**
 * Creates `o`; the API server may still be calling deploy/'s Service client
 * configs for a moment after env.ts switched them to urls, which fails as
 * "failed calling webhook": retried until the server's answer comes.
 */
async function create(o: KubeObject): Promise<KubeObject | KubeStatusError> {
  return waitUntil(`${o.kind} ${o.metadata!.name} admitted or refused by vineyard-webhook`, async () => {
    const r = await createObject(admin, o).then(
      x => x,
      (e: unknown) => e,
    );
    if (r instanceof KubeStatusError && /failed calling webhook/.test(r.message)) return undefined;
    if (r instanceof Error && !(r instanceof KubeStatusError)) throw r;
    return r as KubeObject | KubeStatusError;
  });
}

async function stored(tt: Test, o: KubeObject): Promise<KubeObject> {
  const r = await create(o);
  if (r instanceof KubeStatusError) {
    tt.fail(`${o.kind} ${o.metadata!.name}: refused: ${r.message}`);
    return {} as KubeObject;
  }
  tt.pass(`${o.kind} ${o.metadata!.name}: stored`);
  return r;
}

async function refused(tt: Test, o: KubeObject, webhook: string | undefined, ...expected: RegExp[]): Promise<void> {
  const r = await create(o);
  if (!(r instanceof KubeStatusError)) {
    tt.fail(`${o.kind} ${o.metadata!.name}: stored, but should have been refused`);
    return;
  }
  if (webhook)
    tt.match(
      r.message,
      `admission webhook "${webhook}.vineyard-webhook.v6d.io" denied the request`,
      `${o.kind}: refused by ${webhook}`,
    );
  for (const re of expected) tt.match(r.message, re, `${o.kind}: the refusal says ${re}`);
  tt.equal(
    await admin.find(resourcePath(API, `${o.kind!.toLowerCase()}s`, o.metadata!.namespace, o.metadata!.name)),
    null,
    `${o.kind} ${o.metadata!.name}: nothing stored`,
  );
}

await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: JOB_NS } });

t.test("deploy/ registers every CR path of the operator's configurations", async tt => {
  const paths = Object.values(env.injected).flatMap(c => c.webhooks.map(w => w.clientConfig.service?.path));
  for (const kind of ['backup', 'globalobject', 'localobject', 'operation', 'recover', 'vineyardd'])
    tt.ok(paths.includes(`/mutate-k8s-v6d-io-v1alpha1-${kind}`), `mutate ${kind}`);
  for (const kind of ['backup', 'csidriver', 'globalobject', 'localobject', 'operation', 'recover', 'vineyardd'])
    tt.ok(paths.includes(`/validate-k8s-v6d-io-v1alpha1-${kind}`), `validate ${kind}`);
});

t.test('Vineyardd: defaulted and stored; a bad socket template refused', async tt => {
  const vd = await stored(
    tt,
    cr('Vineyardd', 'vineyardd-e2e', {
      replicas: 0,
      vineyard: { image: 'registry.local/vineyardd:v0.24.4', spill: { path: '/var/vineyard/spill' } },
    }),
  );
  tt.equal(vd.spec?.replicas, 0, 'replicas 0 kept');
  tt.equal(vd.spec?.etcdReplicas, 1, 'etcdReplicas defaulted');
  tt.equal(vd.spec?.vineyard?.image, 'registry.local/vineyardd:v0.24.4', 'the image kept');
  tt.equal(vd.spec?.vineyard?.socket, '/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}', 'the socket template');
  tt.same(
    [vd.spec?.vineyard?.spill?.spillLowerRate, vd.spec?.vineyard?.spill?.spillUpperRate],
    ['0.3', '0.8'],
    'spill rates inside the spill written',
  );
  tt.equal(vd.spec?.pluginImage?.backupImage, 'ghcr.io/v6d-io/v6d/backup-job', 'plugin images');
  await refused(
    tt,
    cr('Vineyardd', 'vineyardd-bad', { replicas: -1, vineyard: { socket: 'run/{{.Name}}' } }),
    'vineyardd-validate',
    /Vineyardd\.k8s\.v6d\.io "vineyardd-bad" is invalid: \[spec\.replicas: Invalid value: -1: must be an integer of at least 0, /,
    /spec\.vineyard\.socket: Invalid value: "run\/\{\{\.Name\}\}": must be an absolute path/,
  );
});

t.test('Operation: timeoutSeconds defaulted to 300; a type of the other operation refused', async tt => {
  const op = await stored(
    tt,
    cr(
      'Operation',
      'assembly-job2',
      { name: 'assembly', type: 'local', require: 'assembly-job1', target: 'assembly-job2' },
      JOB_NS,
    ),
  );
  tt.equal(op.spec?.timeoutSeconds, 300, "timeoutSeconds 300 (the CRD has no default: this is the webhook's)");
  await refused(
    tt,
    cr('Operation', 'assembly-bad', { name: 'assembly', type: 'dask', require: 'assembly-job1' }, JOB_NS),
    'operation-validate',
    /spec\.type: Unsupported value: "dask": supported values for spec\.name "assembly": "local", "distributed"/,
    /spec\.target: Required value/,
  );
});

t.test("Backup: seed 001's stored; a relative backup path refused", async tt => {
  const spec = { vineyarddName: 'vineyardd-e2e', vineyarddNamespace: SYSTEM, backupPath: '/var/vineyard/dump' };
  const b = await stored(tt, cr('Backup', 'backup-sample', spec));
  tt.same(b.spec, spec, 'stored as sent: nothing to default');
  await refused(
    tt,
    cr('Backup', 'backup-bad', { ...spec, backupPath: 'dump' }),
    'backup-validate',
    /spec\.backupPath: Invalid value: "dump": must be the directory the backup is written to/,
  );
});

t.test("Recover: seed 001's stored; one naming no Backup refused", async tt => {
  await stored(tt, cr('Recover', 'recover-sample', { backupName: 'backup-sample', backupNamespace: SYSTEM }));
  await refused(
    tt,
    cr('Recover', 'recover-bad', { backupNamespace: SYSTEM }),
    'recover-validate',
    /Recover\.k8s\.v6d\.io "recover-bad" is invalid: spec\.backupName: Required value: must name the Backup to restore/,
  );
});

t.test('CSIDriver (cluster-scoped): one with its Vineyardd stored; one with none refused', async tt => {
  const c = await stored(
    tt,
    cr('CSIDriver', 'csidriver-sample', { clusters: [{ namespace: SYSTEM, name: 'vineyardd-e2e' }] }, null),
  );
  tt.equal(c.spec?.storageClassName, 'vineyard-csi', "the CRD's defaults apply as usual");
  await refused(
    tt,
    cr('CSIDriver', 'csidriver-bad', { clusters: [] }, null),
    'csidriver-validate',
    /spec\.clusters: Invalid value: \[\]: must list at least one Vineyardd cluster/,
  );
});

t.test(
  'GlobalObject and LocalObject: what vineyardd writes is stored, through both webhooks; what the schema refuses is refused',
  async tt => {
    const owner = {
      apiVersion: API,
      kind: 'Vineyardd',
      name: 'vineyardd-e2e',
      uid: '0b3e9a1c-6f0e-4b8f-9a1e-3c3b0f4a5d21',
    };
    const labels = {
      'k8s.v6d.io/job': 'job1',
      'k8s.v6d.io/created-podname': '',
      'k8s.v6d.io/created-podnamespace': '',
    };
    const before = await Promise.all(
      ['globalobject-default', 'globalobject-validate', 'localobject-default', 'localobject-validate'].map(n =>
        webhookCalls(admin, `${n}.vineyard-webhook.v6d.io`),
      ),
    );
    const lo = await stored(tt, {
      apiVersion: API,
      kind: 'LocalObject',
      metadata: {
        name: 'o001d2dc18d72a47e',
        namespace: SYSTEM,
        labels: { ...labels, 'k8s.v6d.io/signature': 's001d2dc18d729ab6' },
        ownerReferences: [owner],
      },
      spec: {
        id: 'o001d2dc18d72a47e',
        signature: 's001d2dc18d729ab6',
        typename: 'vineyard::DataFrame',
        instance_id: 2,
        hostname: 'node-a',
        metadata: 'vineyard::DataFrame',
      },
    });
    tt.equal(lo.spec?.hostname, 'node-a');
    await stored(tt, {
      apiVersion: API,
      kind: 'GlobalObject',
      metadata: { name: 'o001d2ab523e3fbd0', namespace: SYSTEM, labels, ownerReferences: [owner] },
      spec: {
        id: 'o001d2ab523e3fbd0',
        signature: 's001d2ab523e3f0e6',
        typename: 'vineyard::GlobalDataFrame',
        metadata: 'vineyard::GlobalDataFrame',
        members: ['s001d2dc18d729ab6'],
      },
    });
    const after = await Promise.all(
      ['globalobject-default', 'globalobject-validate', 'localobject-default', 'localobject-validate'].map(n =>
        webhookCalls(admin, `${n}.vineyard-webhook.v6d.io`),
      ),
    );
    tt.ok(
      after.every((n, i) => n > before[i]!),
      'each of the four webhooks was called and allowed the write',
    );
    await refused(
      tt,
      {
        apiVersion: API,
        kind: 'LocalObject',
        metadata: { name: 'o-bad-local', namespace: SYSTEM },
        spec: { id: 'o-bad-local', signature: 's1' },
      },
      undefined,
      /spec\.hostname: Required value/,
    );
    await refused(
      tt,
      {
        apiVersion: API,
        kind: 'GlobalObject',
        metadata: { name: 'o-bad-global', namespace: SYSTEM },
        spec: { id: 'o-bad-global' },
      },
      undefined,
      /spec\.signature: Required value/,
    );
  },
);

t.test(
  "the operator's own configurations, pointed at this server, admit and refuse through every CR path",
  async tt => {
    // As a cluster switching from the operator keeps its configurations until the switch is done:
    // every path they name must answer. Only the CR webhooks: the operator's pod webhooks, without
    // the selectors its kustomization patches in, would match every pod of the cluster.
    const configs = readManifestFile(
      fileURLToPath(new URL('./operator-webhooks.yaml', import.meta.url)),
    ) as unknown as WebhookConfig[];
    const names: string[] = [];
    for (const c of configs) {
      const twin = env.urlTwin({
        ...c,
        webhooks: c.webhooks.filter(
          w => !(w as { rules?: Array<{ resources?: string[] }> }).rules?.some(r => r.resources?.includes('pods')),
        ),
      });
      for (const w of twin.webhooks) {
        w.clientConfig.caBundle = Buffer.from(env.secretCa).toString('base64');
        names.push(w.name);
      }
      await admin.create(configPath(c.kind as ConfigKind), twin);
      tt.teardown(() => admin.delete(configPath(c.kind as ConfigKind, c.metadata!.name)));
    }
    tt.equal(names.length, 15, "the 15 CR webhooks of the operator (7 mutating, 8 validating, Sidecar's included)");
    const vd = cr('Vineyardd', 'vineyardd-operator-config', { replicas: 0 });
    await waitUntil("the operator's configurations in effect", async () => {
      await createObject(admin, vd, { dryRun: true }).catch(() => undefined);
      return (await webhookCalls(admin, 'mvineyardd.kb.io')) > 0 || undefined;
    });
    await stored(tt, vd);
    await stored(
      tt,
      cr(
        'Operation',
        'operation-operator-config',
        { name: 'assembly', type: 'local', require: 'job1', target: 'job2' },
        JOB_NS,
      ),
    );
    const bad = await create(
      cr(
        'Operation',
        'operation-operator-config-bad',
        { name: 'shuffle', type: 'local', require: 'job1', target: 'job2' },
        JOB_NS,
      ),
    );
    tt.type(bad, KubeStatusError, 'an invalid Operation is refused through them too');
    for (const o of [
      cr('LocalObject', 'o000000000000000a', {
        id: 'o000000000000000a',
        signature: 's000000000000000a',
        typename: 'vineyard::Tensor',
        instance_id: 0,
        hostname: 'node-a',
        metadata: 'vineyard::Tensor',
      }),
      cr('GlobalObject', 'o000000000000000b', {
        id: 'o000000000000000b',
        signature: 's000000000000000b',
        typename: 'vineyard::GlobalTensor',
        metadata: 'vineyard::GlobalTensor',
        members: ['s000000000000000a'],
      }),
    ])
      await stored(tt, o);
    const uncalled: string[] = [];
    for (const n of names) {
      // Backup, Recover, CSIDriver and Sidecar objects are not created here: their paths answered for deploy/'s webhooks above.
      if (/^[mv](backup|recover|csidriver|sidecar)\.kb\.io$/.test(n)) continue;
      if ((await webhookCalls(admin, n)) === 0) uncalled.push(n);
    }
    tt.same(uncalled, [], 'the API server called each of them, and each answered');
  },
);

t.test('the webhook server wrote no error while the suite ran', async tt => {
  tt.same(
    env.server
      .output()
      .split('\n')
      .filter(l => /"level":(50|60)/.test(l)),
    [],
  );
});
