// The store the server uses in a cluster: the API server behind watch caches,
// and what runs beside admission off the same caches (the default Sidecars'
// counts). Readiness waits for the caches: a replica that answered from an
// empty cache would read every Sidecar live, the very load the caches avoid.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DefaultSidecarCounter } from '../vineyard/default-sidecar-count.js';
import { cachedStore, type CacheRead, type CachedStore } from './cached-store.js';
import { startKubeCaches, type KubeCaches } from './kube-caches.js';
import { createKubeStore } from './kube-store.js';
import type { ClusterStore } from './store.js';
import type { CacheState } from './watch-cache.js';

export interface ClusterRuntime {
  store: ClusterStore;
  caches: KubeCaches;
  /** Why the server is not ready yet, or undefined. */
  notReady(): string | undefined;
  stop(): Promise<void>;
}

export interface ClusterRuntimeOptions {
  log: Logger;
  onCacheState?: (resource: string, state: CacheState) => void;
  onCacheRead?: CacheRead;
  onCountWrite?: (result: 'updated' | 'conflict' | 'failed') => void;
}

export function startClusterRuntime(kc: KubeConfig, opts: ClusterRuntimeOptions): ClusterRuntime {
  const { log } = opts;
  const live = createKubeStore(kc);
  let counter: DefaultSidecarCounter | undefined;
  let store: CachedStore | undefined;
  const caches = startKubeCaches(kc, {
    onState: (resource, state, err) => {
      opts.onCacheState?.(resource, state);
      if (state === 'absent')
        log.warn(
          { resource },
          'watch cache: the resource is not served (CRD not installed?); reads go to the API server, looking again every 30 s',
        );
      else if (err)
        log.warn(
          { resource, err: (err as Error)?.message ?? String(err) },
          'watch cache: list or watch failed; reads go to the API server until it syncs again',
        );
      else log.info({ resource, state }, 'watch cache');
    },
    onSidecarChange: s => {
      store?.sidecarChanged(s);
      counter?.sidecarChanged(s);
    },
    onInjectedPodChange: p => counter?.podChanged(p),
  });
  counter = new DefaultSidecarCounter({
    pods: caches.injectedPods,
    sidecars: caches.sidecars,
    update: (namespace, sidecar) => live.updateSidecar(namespace, sidecar),
    log,
    onWrite: opts.onCountWrite,
  });
  store = cachedStore(
    live,
    {
      sidecars: caches.sidecars,
      vineyardds: caches.vineyardds,
      datasets: caches.datasets,
      vineyardruntimes: caches.vineyardruntimes,
      globalobjects: caches.globalobjects,
      localobjects: caches.localobjects,
    },
    opts.onCacheRead,
  );
  let synced = false;
  void caches.ready().then(() => {
    synced = true;
  });
  return {
    store,
    caches,
    notReady: () => (synced ? undefined : 'the watch caches have not synced yet'),
    stop: async () => {
      counter?.stop();
      await caches.stop();
    },
  };
}
