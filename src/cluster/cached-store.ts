// A ClusterStore whose reads of Sidecars, Vineyardds and Fluid's Datasets and
// VineyardRuntimes come from watch caches. A name the cache does not hold is
// read live, so an object created a moment ago (the watch event not here
// yet) is never taken for missing, and an unsynced cache or an absent CRD
// means every read is live: the live read is what reports a CRD that is not
// installed.
//
// A scale-up sends the pods of one workload at once, all asking for the same
// default Sidecar before the watch has it: concurrent live reads of one name
// share one request, concurrent creates of one name share one create (the
// others get AlreadyExists, as the API server would have said), and what this
// replica created is read back from memory until the watch delivers it.
import type { Sidecar, Vineyardd } from '../vineyard/sidecar.js';
import type { Dataset, VineyardRuntime } from '../vineyard/fluid.js';
import { ApiError, type CallOptions, type ClusterStore } from './store.js';
import type { ReadCache } from './watch-cache.js';
import type { VineyardObject } from '../vineyard/objects.js';
import { matchesSelector, parseSelector } from './label-selector.js';

export interface StoreCaches {
  sidecars?: ReadCache<Sidecar>;
  vineyardds?: ReadCache<Vineyardd>;
  datasets?: ReadCache<Dataset>;
  vineyardruntimes?: ReadCache<VineyardRuntime>;
  globalobjects?: ReadCache<VineyardObject>;
  localobjects?: ReadCache<VineyardObject>;
}

/** Counts what reads cost, for a metric: `hit` answered from memory, `miss` read live. */
export type CacheRead = (resource: string, result: 'hit' | 'miss') => void;

/** How long whether a Service exists is remembered (a warning's input, never a decision's). */
const SERVICE_TTL_MS = 30_000;

/** How long a created object is served from memory if the watch does not bring it. */
const CREATED_TTL_MS = 30_000;

/** One request for many concurrent callers of the same key. */
class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  run(key: string, start: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const current = this.flights.get(key);
    if (current) return { promise: current, joined: true };
    const promise = start().finally(() => this.flights.delete(key));
    this.flights.set(key, promise);
    return { promise, joined: false };
  }
}

/** `p`, or a rejection as soon as the caller's own signal aborts (the shared request goes on for the others). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, call: string): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(
        new ApiError(
          call,
          0,
          'Aborted',
          `cancelled before the API server answered (${(signal.reason as Error)?.message ?? 'the request was cancelled'})`,
        ),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface CachedStore extends ClusterStore {
  /** The watch saw this Sidecar change (added, updated or deleted): from now on the cache speaks for it. */
  sidecarChanged(sidecar: Sidecar): void;
}

export function cachedStore(live: ClusterStore, caches: StoreCaches, onRead?: CacheRead): CachedStore {
  const created = new Map<string, { sidecar: Sidecar; until: number }>();
  const sidecarReads = new SingleFlight<Sidecar | null>();
  const vineyarddReads = new SingleFlight<Vineyardd | null>();
  const datasetReads = new SingleFlight<Dataset | null>();
  const runtimeReads = new SingleFlight<VineyardRuntime | null>();
  const creates = new SingleFlight<Sidecar>();
  const services = new Map<string, { exists: boolean | undefined; until: number }>();
  const serviceReads = new SingleFlight<boolean | undefined>();
  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

  const recentlyCreated = (namespace: string, name: string): Sidecar | undefined => {
    const key = keyOf(namespace, name);
    const c = created.get(key);
    if (!c) return undefined;
    if (c.until < Date.now()) {
      created.delete(key);
      return undefined;
    }
    return c.sidecar;
  };

  const read = <T>(
    cache: ReadCache<T> | undefined,
    flights: SingleFlight<T | null>,
    liveGet: () => Promise<T | null>,
    namespace: string,
    name: string,
    opts: CallOptions | undefined,
    extra?: () => T | undefined,
  ): Promise<T | null> => {
    const hit = cache?.get(namespace, name) ?? extra?.();
    if (cache) onRead?.(cache.resource, hit ? 'hit' : 'miss');
    if (hit) return Promise.resolve(hit);
    // A caller's signal must not cancel a read other callers share: each waits on its own terms
    // (the shared call still has the store's own per-call timeout).
    return untilAborted(
      flights.run(keyOf(namespace, name), liveGet).promise,
      opts?.signal,
      `get ${cache?.resource ?? ''} ${keyOf(namespace, name)}`,
    );
  };

  return {
    sidecarChanged: (sidecar: Sidecar) => {
      created.delete(keyOf(sidecar.metadata.namespace ?? '', sidecar.metadata.name ?? ''));
    },
    getSidecar: (namespace: string, name: string, opts?: CallOptions) =>
      read(
        caches.sidecars,
        sidecarReads,
        () => live.getSidecar(namespace, name),
        namespace,
        name,
        opts,
        () => recentlyCreated(namespace, name),
      ),
    getVineyardd: (namespace: string, name: string, opts?: CallOptions) =>
      read(caches.vineyardds, vineyarddReads, () => live.getVineyardd(namespace, name), namespace, name, opts),
    getDataset: (namespace: string, name: string, opts?: CallOptions) =>
      read(caches.datasets, datasetReads, () => live.getDataset(namespace, name), namespace, name, opts),
    getVineyardRuntime: (namespace: string, name: string, opts?: CallOptions) =>
      read(
        caches.vineyardruntimes,
        runtimeReads,
        () => live.getVineyardRuntime(namespace, name),
        namespace,
        name,
        opts,
      ),
    getPersistentVolumeClaim: (...a) => live.getPersistentVolumeClaim(...a),
    // Objects vineyardd has just written may not be in the cache yet: the
    // caller refuses a pod whose data is not found, and its controller retries.
    listVineyardObjects: async (plural, namespace, labelSelector, opts) => {
      const cache = caches[plural];
      if (cache?.state !== 'synced') {
        if (cache) onRead?.(cache.resource, 'miss');
        return live.listVineyardObjects(plural, namespace, labelSelector, opts);
      }
      onRead?.(cache.resource, 'hit');
      const sel = parseSelector(labelSelector);
      return cache.list(namespace).filter(o => matchesSelector(sel, o.metadata?.labels ?? {}));
    },
    getOwnerReplicas: (...a) => live.getOwnerReplicas(...a),
    getConfigMap: (...a) => live.getConfigMap(...a),
    createConfigMap: (...a) => live.createConfigMap(...a),
    updateConfigMap: (...a) => live.updateConfigMap(...a),
    // Read live: only assembly and repartition consumers ask, once per retry
    // of their controller; a watch of every Operation would cost more.
    getOperation: (...a) => live.getOperation(...a),
    createOperation: (...a) => live.createOperation(...a),
    createSidecar: async (namespace: string, sidecar: Sidecar, opts?: CallOptions) => {
      const name = sidecar.metadata.name;
      if (!name) return live.createSidecar(namespace, sidecar, opts);
      const key = keyOf(namespace, name);
      const flight = creates.run(key, async () => {
        const made = await live.createSidecar(namespace, sidecar);
        created.set(key, { sidecar: made, until: Date.now() + CREATED_TTL_MS });
        return made;
      });
      const call = `create sidecars ${key}`;
      if (!flight.joined) return untilAborted(flight.promise, opts?.signal, call);
      await untilAborted(flight.promise, opts?.signal, call);
      throw new ApiError(call, 409, 'AlreadyExists', `sidecars.k8s.v6d.io "${name}" already exists`);
    },
    updateSidecar: (...a) => live.updateSidecar(...a),
    listPods: (...a) => live.listPods(...a),
    patchPodLabels: (...a) => live.patchPodLabels(...a),
    createEvent: (...a) => live.createEvent(...a),
    patchEvent: (...a) => live.patchEvent(...a),
    serviceExists: (namespace: string, name: string, opts?: CallOptions) => {
      // Asked for every injected pod: remembered a short while, one read shared by concurrent reviews.
      const key = keyOf(namespace, name);
      const known = services.get(key);
      const now = Date.now();
      if (known && known.until > now) return Promise.resolve(known.exists);
      return untilAborted(
        serviceReads.run(key, async () => {
          const exists = await live.serviceExists(namespace, name);
          if (services.size > 4096) services.clear();
          services.set(key, { exists, until: Date.now() + SERVICE_TTL_MS });
          return exists;
        }).promise,
        opts?.signal,
        `get services ${key}`,
      );
    },
    ping: (...a) => live.ping(...a),
  };
}
