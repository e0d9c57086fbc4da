// Fluid VineyardRuntime discovery against a real kube-apiserver: the server
// starts without Fluid (its caches find datasets and vineyardruntimes absent),
// a labelled pod is admitted unchanged, then Fluid's two CRDs are installed and
// a pod mounting a Vineyard-backed Dataset's PVC is stored wired to it (the
// live reads work at once; the caches pick the CRDs up within 30 s).
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifestFile } from '../helpers/kustomize.js';
import { createObject, objectPath, e2eFor, waitUntil, type E2E } from './env.js';
import { loadWorkloadFixture, notContained } from './fixture-workloads.js';
import { resourcePath, type KubeObject } from './kube-client.js';

t.setTimeout(300_000);

const env: E2E = await e2eFor(t);
const { admin } = env;

const FLUID_CRDS = fileURLToPath(new URL('./crds-fluid/', import.meta.url));
const fixture = loadWorkloadFixture('fluid/local-socket');
const NS = fixture.namespace;
const podsPath = resourcePath('v1', 'pods', NS);

/**
 * Creates the fixture's objects that do not exist yet; a Dataset's status goes
 * through its status subresource, as Fluid's controller writes it.
 */
async function createResources(resources: KubeObject[]): Promise<void> {
  for (const r of resources) {
    if (await admin.find(objectPath(r))) continue;
    const stored = await createObject(admin, r);
    if (r.kind === 'Dataset' && r.status) {
      await admin.update(`${objectPath(stored)}/status`, { ...stored, status: r.status });
    }
  }
}

await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

t.test('without Fluid installed, a labelled pod is admitted unchanged', async tt => {
  const pvc = fixture.resources.find(r => r.kind === 'PersistentVolumeClaim')!;
  await createObject(admin, pvc);
  const stored = await createObject(admin, fixture.object);
  tt.equal(stored.metadata?.annotations?.['fuse.vineyard.fluid.io/status'], undefined, 'no status annotation');
  tt.same(stored.spec.containers[0].env, undefined, 'no env added');
  // The PVC stays: its pvc-protection finalizer is removed by a controller this cluster does not run.
  await admin.delete(objectPath(stored));
});

t.test('with Fluid: a pod mounting a Vineyard dataset is stored wired to it', async tt => {
  const crds = readdirSync(FLUID_CRDS)
    .filter(f => f.endsWith('.yaml'))
    .sort()
    .flatMap(f => readManifestFile(join(FLUID_CRDS, f))) as KubeObject[];
  for (const crd of crds) await createObject(admin, crd);
  for (const crd of crds) {
    await waitUntil(`CRD ${crd.metadata!.name} established`, async () =>
      ((await admin.get(objectPath(crd))).status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
      ),
    );
  }
  await createResources(fixture.resources);
  const dataset = await admin.get(resourcePath('data.fluid.io/v1alpha1', 'datasets', NS, 'demo'));
  tt.equal(dataset.status?.runtimes?.[0]?.type, 'vineyard', 'the Dataset is bound to a vineyard runtime');

  // A dry run first: the same answer, nothing stored.
  const dry = await createObject(admin, fixture.object, { dryRun: true });
  tt.same(notContained(dry, fixture.expected), [], 'a dry run answers the wired pod');
  tt.equal((await admin.list(podsPath)).items.length, 0, 'the dry run stored nothing');

  const stored = await createObject(admin, fixture.object);
  tt.same(
    notContained(stored, fixture.expected),
    [],
    'the stored pod holds what fluid/local-socket/expected.yaml says',
  );
  const env = stored.spec.containers[0].env as Array<{ name: string; value: string }>;
  tt.same(
    env.map(e => `${e.name}=${e.value}`),
    ['VINEYARD_CONFIG=/data/demo', 'VINEYARD_IPC_SOCKET=/data/demo/vineyard-local.sock'],
    "the config file, and the fuse's local socket",
  );
  tt.same(
    stored.spec.containers[0].envFrom,
    [{ configMapRef: { name: 'demo-rpc-conf' } }],
    "the runtime's RPC endpoint",
  );
  tt.same(
    stored.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution,
    [
      {
        weight: 100,
        preference: { matchExpressions: [{ key: 'fluid.io/s-ml-demo', operator: 'In', values: ['true'] }] },
      },
    ],
    "locality on the PVC's own label",
  );
});
