// mutate/explain --kubeconfig: reads come from memory then the cluster, every
// write stays in memory, including an update of an object only the cluster has.
import t from 'tap';
import { clusterReads } from '../src/cli/mutate/cluster-reads.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';

t.test('an object read from the cluster is updated in memory; the cluster sees no write', async t => {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'job1', namespace: 'jobs' },
    data: { 'node-a': 'o1' },
  };
  const api = await FakeApiServer.start({ objects: [cm] });
  t.teardown(() => api.close());
  const memory = new MemoryStore();
  const { store } = clusterReads(fakeKubeConfig(api.url), memory);
  const read = await store.getConfigMap('jobs', 'job1');
  t.same(read?.data, { 'node-a': 'o1' }, 'read from the cluster');
  await store.updateConfigMap('jobs', { ...read!, data: { 'node-a': 'o1', 'node-b': 'o2' } });
  t.same(
    (await memory.getConfigMap('jobs', 'job1'))?.data,
    { 'node-a': 'o1', 'node-b': 'o2' },
    'the update is in memory',
  );
  t.same(
    (await store.getConfigMap('jobs', 'job1'))?.data,
    { 'node-a': 'o1', 'node-b': 'o2' },
    'and later reads see it',
  );
  await store.updateConfigMap('jobs', { ...(await store.getConfigMap('jobs', 'job1'))!, data: { 'node-a': 'o3' } });
  t.same((await memory.getConfigMap('jobs', 'job1'))?.data, { 'node-a': 'o3' }, 'a second update updates memory');
  t.same(api.writes(), [], 'nothing written to the cluster');
});

t.test('an update of an object that exists nowhere is still NotFound', async t => {
  const api = await FakeApiServer.start({ objects: [] });
  t.teardown(() => api.close());
  const { store } = clusterReads(fakeKubeConfig(api.url), new MemoryStore());
  const err = await store
    .updateSidecar('jobs', {
      apiVersion: 'k8s.v6d.io/v1alpha1',
      kind: 'Sidecar',
      metadata: { name: 'nope', namespace: 'jobs', resourceVersion: '3' },
    } as never)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  t.equal((err as { status?: number } | undefined)?.status, 404);
});
