// A standalone server's store logs every write; under a steady stream of pods
// (each counted into its default Sidecar) the log must stay bounded.
import t from 'tap';
import { MemoryStore, MAX_WRITES_KEPT } from '../src/cluster/memory-store.js';
import type { Sidecar } from '../src/vineyard/sidecar.js';

t.test('the write log keeps the latest writes and stays bounded', async t => {
  const store = new MemoryStore();
  let cr: Sidecar = await store.createSidecar('ns', {
    apiVersion: 'k8s.v6d.io/v1alpha1',
    kind: 'Sidecar',
    metadata: { name: 's' },
    spec: { replicas: 1 },
  });
  const total = 2 * MAX_WRITES_KEPT + 5;
  for (let i = 1; i < total; i++) cr = await store.updateSidecar('ns', { ...cr, spec: { replicas: i + 1 } });
  t.ok(store.writes.length <= 2 * MAX_WRITES_KEPT, `bounded (${store.writes.length})`);
  t.ok(store.writes.length >= MAX_WRITES_KEPT, 'the last MAX_WRITES_KEPT are kept');
  t.same(store.writes.at(-1), { verb: 'update', kind: 'sidecars', namespace: 'ns', name: 's' });
  t.equal((await store.getSidecar('ns', 's'))?.spec?.replicas, total, 'every write still took effect');
});
