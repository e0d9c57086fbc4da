// The watch caches and what reads through them: a miss is read live (once for
// concurrent callers), an absent CRD and an unsynced cache read live, a watch
// that fails is restarted, and the default Sidecars' counts follow the pods.
import t from 'tap';
import { pino } from 'pino';
import type { V1Pod } from '@kubernetes/client-node';
import { WatchCache, type InformerLike } from '../src/cluster/watch-cache.js';
import { cachedStore } from '../src/cluster/cached-store.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { ApiError, type ClusterStore } from '../src/cluster/store.js';
import { DefaultSidecarCounter, countInjected } from '../src/vineyard/default-sidecar-count.js';
import type { Sidecar } from '../src/vineyard/sidecar.js';
import { INJECTED_PODS_SELECTOR, startKubeCaches } from '../src/cluster/kube-caches.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';

type Obj = {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
  spec?: Record<string, unknown>;
  status?: { phase?: string };
};

/** An informer driven by the test: start() lists (or fails as told), events are pushed by hand. */
class FakeInformer<T extends Obj> implements InformerLike<T> {
  objects = new Map<string, T>();
  starts = 0;
  failNextStarts: unknown[] = [];
  private cbs: Record<string, Array<(x?: any) => void>> = { add: [], update: [], delete: [], error: [], connect: [] };
  on(verb: string, cb: (x?: any) => void): void {
    this.cbs[verb]!.push(cb);
  }
  async start(): Promise<void> {
    this.starts++;
    const err = this.failNextStarts.shift();
    if (err) {
      for (const cb of this.cbs.error!) cb(err);
      return;
    }
  }
  async stop(): Promise<void> {}
  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  list(namespace?: string): T[] {
    return [...this.objects.values()].filter(o => !namespace || o.metadata.namespace === namespace);
  }
  put(o: T): void {
    const k = `${o.metadata.namespace}/${o.metadata.name}`;
    const verb = this.objects.has(k) ? 'update' : 'add';
    this.objects.set(k, o);
    for (const cb of this.cbs[verb]!) cb(o);
  }
  remove(o: T): void {
    this.objects.delete(`${o.metadata.namespace}/${o.metadata.name}`);
    for (const cb of this.cbs.delete!) cb(o);
  }
  /** The watch broke (what client-node reports before it stops). */
  fail(err: unknown): void {
    for (const cb of this.cbs.error!) cb(err);
  }
}

const sidecar = (name: string, replicas = 1, rv = '1'): Obj => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  spec: { replicas, selector: 'app=x' },
});
const notFound = () =>
  Object.assign(
    new ApiError('list sidecars.k8s.v6d.io', 404, 'NotFound', 'the server could not find the requested resource'),
    { statusCode: 404 },
  );

/** A live store that counts its reads. */
function countingStore(objects: unknown[] = []): MemoryStore & { reads: string[] } {
  const s = new MemoryStore(objects) as MemoryStore & { reads: string[] };
  s.reads = [];
  const get = s.getSidecar.bind(s);
  s.getSidecar = async (ns, name) => {
    s.reads.push(`${ns}/${name}`);
    await new Promise(r => setTimeout(r, 5));
    return get(ns, name);
  };
  return s;
}

t.test('a synced cache answers; a miss is read live, once for concurrent readers', async t => {
  const inf = new FakeInformer<Obj>();
  inf.objects.set('ns/cached', sidecar('cached'));
  const cache = new WatchCache<any>(inf, { resource: 'sidecars' });
  await cache.start();
  t.equal(cache.state, 'synced');
  const live = countingStore([{ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', ...sidecar('fresh') }]);
  const reads: string[] = [];
  const store = cachedStore(live, { sidecars: cache }, (_r, result) => reads.push(result));
  t.equal((await store.getSidecar('ns', 'cached'))?.metadata.name, 'cached');
  t.same(live.reads, [], 'a hit makes no call');
  // Created a moment ago, not in the cache yet: never refused as missing.
  const both = await Promise.all([store.getSidecar('ns', 'fresh'), store.getSidecar('ns', 'fresh')]);
  t.same(
    both.map(s => s?.metadata.name),
    ['fresh', 'fresh'],
  );
  t.same(live.reads, ['ns/fresh'], 'one live read for two concurrent misses');
  t.equal(await store.getSidecar('ns', 'nope'), null, 'really missing: null');
  t.same(reads, ['hit', 'miss', 'miss', 'miss']);
});

t.test('a caller whose deadline passes stops waiting; the shared read goes on for the others', async t => {
  const inf = new FakeInformer<Obj>();
  const cache = new WatchCache<any>(inf, { resource: 'sidecars' });
  await cache.start();
  const live = countingStore([{ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', ...sidecar('slow') }]);
  const store = cachedStore(live, { sidecars: cache });
  const ac = new AbortController();
  const first = store.getSidecar('ns', 'slow', { signal: ac.signal });
  const second = store.getSidecar('ns', 'slow');
  ac.abort(new Error('deadline'));
  const err = await first.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.match(err, { reason: 'Aborted', status: 0 }, 'the aborted caller is answered at once');
  t.equal((await second)?.metadata.name, 'slow');
});

t.test(
  'concurrent creates of one default Sidecar: one create, the others AlreadyExists, then read from memory',
  async t => {
    const inf = new FakeInformer<Obj>();
    const cache = new WatchCache<any>(inf, { resource: 'sidecars' });
    await cache.start();
    const live = countingStore();
    const store = cachedStore(live, { sidecars: cache });
    const s = {
      apiVersion: 'k8s.v6d.io/v1alpha1',
      kind: 'Sidecar',
      metadata: { name: 'app-x-default-sidecar', namespace: 'ns' },
      spec: { replicas: 1 },
    } as Sidecar;
    const results = await Promise.allSettled([
      store.createSidecar('ns', s),
      store.createSidecar('ns', s),
      store.createSidecar('ns', s),
    ]);
    t.same(
      results.map(r => r.status),
      ['fulfilled', 'rejected', 'rejected'],
    );
    t.match((results[1] as PromiseRejectedResult).reason, { reason: 'AlreadyExists' });
    t.equal(live.writes.filter(w => w.verb === 'create').length, 1, 'one create reached the API');
    const before = live.reads.length;
    t.equal((await store.getSidecar('ns', 'app-x-default-sidecar'))?.metadata.name, 'app-x-default-sidecar');
    t.equal(live.reads.length, before, 'read back from memory, not live');
    // Once the watch has spoken for it (here: deleted), memory no longer answers.
    store.sidecarChanged(s);
    await store.getSidecar('ns', 'app-x-default-sidecar');
    t.equal(live.reads.length, before + 1, 'after the watch spoke for it, a miss is read live again');
  },
);

t.test('the CRD is not installed: the cache says absent, every read is live and says so', async t => {
  const inf = new FakeInformer<Obj>();
  inf.failNextStarts.push(notFound());
  const states: string[] = [];
  const cache = new WatchCache<any>(inf, {
    resource: 'sidecars',
    onState: (_r, s) => states.push(s),
    maxBackoffMs: 20,
  });
  await cache.start();
  t.equal(cache.state, 'absent');
  const live = {
    getSidecar: async () => {
      throw new ApiError(
        'get sidecars ns/x',
        404,
        'NotFound',
        'the API server does not serve sidecars.k8s.v6d.io; is its CustomResourceDefinition installed?',
      );
    },
  } as unknown as ClusterStore;
  await t.rejects(cachedStore(live, { sidecars: cache }).getSidecar('ns', 'x'), /CustomResourceDefinition installed/);
  // Installed later: the next look finds it.
  await new Promise(r => setTimeout(r, 60));
  t.equal(cache.state, 'synced', 'looked again and synced');
  t.same(states, ['absent', 'synced']);
  await cache.stop();
});

t.test('a watch that fails is restarted with backoff, and reads go live meanwhile', async t => {
  const inf = new FakeInformer<Obj>();
  inf.objects.set('ns/a', sidecar('a'));
  const cache = new WatchCache<any>(inf, { resource: 'sidecars', minBackoffMs: 10, maxBackoffMs: 40 });
  await cache.start();
  t.equal(inf.starts, 1);
  inf.failNextStarts.push(new Error('connection refused'));
  inf.fail(new Error('watch closed: ECONNRESET'));
  t.equal(cache.state, 'syncing', 'not trusted while reconnecting');
  t.equal(cache.get('ns', 'a'), undefined, 'so a read goes live');
  await new Promise(r => setTimeout(r, 100));
  t.equal(inf.starts, 3, 'restarted, again after the failed restart');
  t.equal(cache.state, 'synced');
  t.equal(cache.get('ns', 'a')?.metadata.name, 'a');
  await cache.stop();
});

const pod = (name: string, sidecarName: string, extra: Partial<Obj['metadata']> = {}, phase = 'Running'): Obj => ({
  metadata: { name, namespace: 'ns', labels: { 'app.vineyard.io/name': sidecarName }, ...extra },
  status: { phase },
});

t.test('countInjected: live pods of the Sidecar only', async t => {
  const pods = [
    pod('a', 'x-default-sidecar'),
    pod('b', 'x-default-sidecar', {}, 'Pending'),
    pod('c', 'x-default-sidecar', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    pod('d', 'x-default-sidecar', {}, 'Succeeded'),
    pod('e', 'x-default-sidecar', {}, 'Failed'),
    pod('f', 'other'),
  ] as unknown as V1Pod[];
  t.equal(countInjected(pods, 'x-default-sidecar'), 2);
});

t.test(
  'the default Sidecar count follows the pods: bursts coalesced, deletions lowered, conflicts retried',
  async t => {
    const pods = new FakeInformer<Obj>();
    const sidecars = new FakeInformer<Obj>();
    const podCache = new WatchCache<any>(pods, { resource: 'pods' });
    const sidecarCache = new WatchCache<any>(sidecars, { resource: 'sidecars' });
    const updates: number[] = [];
    let conflicts = 0;
    const counter = new DefaultSidecarCounter({
      pods: podCache,
      sidecars: sidecarCache,
      log: pino({ level: 'silent' }),
      intervalMs: 30,
      settleMs: 5,
      update: async (_ns, s) => {
        if (conflicts > 0) {
          conflicts--;
          throw new ApiError('update sidecars', 409, 'Conflict', 'the object has been modified');
        }
        updates.push(s.spec!.replicas!);
        sidecars.put({
          ...(s as Obj),
          metadata: {
            ...(s as Obj).metadata,
            resourceVersion: String(Number((s as Obj).metadata.resourceVersion) + 1),
          },
        });
      },
    });
    pods.on('add', p => counter.podChanged(p));
    pods.on('update', p => counter.podChanged(p));
    pods.on('delete', p => counter.podChanged(p));
    await Promise.all([podCache.start(), sidecarCache.start()]);
    sidecars.put(sidecar('x-default-sidecar', 1));
    sidecars.put(sidecar('custom', 7));

    for (let i = 0; i < 40; i++) pods.put(pod(`p${i}`, 'x-default-sidecar'));
    pods.put(pod('c0', 'custom'));
    await counter.settled();
    t.equal(sidecarCache.get('ns', 'x-default-sidecar')?.spec?.replicas, 40, 'equal to the pods');
    t.ok(updates.length <= 2, `a burst of 40 pods written at most twice (${updates.join(', ')})`);
    t.equal(sidecarCache.get('ns', 'custom')?.spec?.replicas, 7, 'a custom Sidecar is never written');

    for (let i = 0; i < 15; i++) pods.remove(pod(`p${i}`, 'x-default-sidecar'));
    pods.put(pod('p20', 'x-default-sidecar', { deletionTimestamp: '2026-01-01T00:00:00Z' }));
    conflicts = 2;
    await counter.settled();
    t.equal(
      sidecarCache.get('ns', 'x-default-sidecar')?.spec?.replicas,
      24,
      'lowered after deletions, through two conflicts',
    );

    // Nothing changed: nothing written.
    const n = updates.length;
    counter.sidecarChanged(sidecarCache.get('ns', 'x-default-sidecar') as Sidecar);
    await counter.settled();
    t.equal(updates.length, n, 'an equal count is not written again');
    counter.stop();
  },
);

t.test('no count is written from a cache that has not synced', async t => {
  const pods = new FakeInformer<Obj>();
  const sidecars = new FakeInformer<Obj>();
  sidecars.objects.set('ns/x-default-sidecar', sidecar('x-default-sidecar', 5));
  const podCache = new WatchCache<any>(pods, { resource: 'pods' });
  const sidecarCache = new WatchCache<any>(sidecars, { resource: 'sidecars' });
  await sidecarCache.start();
  pods.failNextStarts.push(new Error('forbidden'));
  // start() resolves only once synced (or absent): this one never does.
  void podCache.start();
  await new Promise(r => setTimeout(r, 10));
  t.equal(podCache.state, 'syncing');
  const writes: number[] = [];
  const counter = new DefaultSidecarCounter({
    pods: podCache,
    sidecars: sidecarCache,
    log: pino({ level: 'silent' }),
    settleMs: 1,
    update: async (_n, s) => {
      writes.push(s.spec!.replicas!);
    },
  });
  counter.sidecarChanged(sidecarCache.get('ns', 'x-default-sidecar') as Sidecar);
  await counter.settled();
  t.same(writes, [], 'the pods are unknown: 0 would be a lie');
  counter.stop();
  await podCache.stop();
});

t.test('the injected-pods cache asks for the metadata of live injected pods only, list and watch', async t => {
  const api = await FakeApiServer.start({ objects: [] });
  t.teardown(() => api.close());
  const caches = startKubeCaches(fakeKubeConfig(api.url));
  t.teardown(() => caches.stop());
  const podCalls = async (watch: boolean) => {
    for (let i = 0; i < 100; i++) {
      const found = api.requests.filter(r => r.path === '/api/v1/pods' && (r.query.watch === 'true') === watch);
      if (found.length) return found;
      await new Promise(r => setTimeout(r, 20));
    }
    return [];
  };
  const [list] = await podCalls(false);
  const [watch] = await podCalls(true);
  for (const [what, r, as] of [
    ['list', list, 'PartialObjectMetadataList'],
    ['watch', watch, 'PartialObjectMetadata'],
  ] as const) {
    t.ok(r, `a ${what} of pods was sent`);
    t.equal(r?.headers.accept, `application/json;as=${as};g=meta.k8s.io;v=v1`, `${what}: metadata only`);
    t.equal(r?.query.labelSelector, INJECTED_PODS_SELECTOR, `${what}: injected pods`);
    t.equal(r?.query.fieldSelector, 'status.phase!=Succeeded,status.phase!=Failed', `${what}: not finished`);
  }
});
