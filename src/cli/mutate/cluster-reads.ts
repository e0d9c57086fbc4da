// `mutate --kubeconfig`: the preview reads a cluster, and never writes to it.
// Reads of one object (getSidecar, getVineyardd, ...) look in the manifest
// and --resources first (what is about to be applied wins), then in the
// cluster, and what the cluster answered is kept in memory; pod lists are the
// cluster's and the memory's together. Every write
// (the default Sidecar, a required job's labels, its ConfigMap and Operation,
// events) goes to memory only, so the preview behaves as the webhook would
// and the cluster is untouched.
// Namespace labels come from a read of the Namespace: a CLI call, made with
// the user's credentials, which the server's RBAC does not grant (nor need).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { createKubeStore } from '../../cluster/kube-store.js';
import type { ClusterStore } from '../../cluster/store.js';
import type { MemoryStore } from '../../cluster/memory-store.js';

export interface ClusterReads {
  store: ClusterStore;
  /** The namespace's labels; undefined when it does not exist (yet). */
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  /** Pod label patches the webhook would have sent, as `namespace/name`. */
  skippedWrites: string[];
}

/**
 * A write, by the store's naming: served by memory alone. By name rather than
 * a list, so that a write the store interface gains can never reach the
 * cluster (a write answering undefined would otherwise fall through to it).
 */
const isWrite = (method: string) => /^(create|update|patch|delete)[A-Z]/.test(method);

export function clusterReads(kc: KubeConfig, memory: MemoryStore, timeoutMs = 10_000): ClusterReads {
  const path = kc.getCurrentCluster()?.server ?? 'the cluster';
  const cluster = createKubeStore(kc, { timeoutMs });
  const core = kc.makeApiClient(CoreV1Api);
  const skippedWrites: string[] = [];

  // A Proxy, not a class: every read the store interface gains (the Fluid
  // endpoint's, the operator CRs') is served from memory, then the cluster,
  // without this file listing them.
  const store = new Proxy(memory, {
    get(target, prop, receiver) {
      const own = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof own !== 'function') return own;
      const local = (own as (...a: unknown[]) => Promise<unknown>).bind(target);
      if (isWrite(prop) && prop !== 'patchPodLabels') return local;
      if (prop === 'listPods') {
        return async (namespace: string, selector: string, opts?: unknown) => {
          const [mine, theirs] = await Promise.all([
            target.listPods(namespace, selector),
            cluster.listPods(namespace, selector, opts as never),
          ]);
          const seen = new Set(mine.map(p => p.metadata?.name));
          return [...mine, ...theirs.filter((p: V1Pod) => !seen.has(p.metadata?.name))];
        };
      }
      if (prop === 'patchPodLabels') {
        return async (namespace: string, name: string, labels: Record<string, string>) => {
          if ((await target.listPods(namespace, '')).some(p => p.metadata?.name === name))
            return target.patchPodLabels(namespace, name, labels);
          skippedWrites.push(`${namespace}/${name}`);
        };
      }
      if (prop === 'ping') return local;
      const remote = Reflect.get(cluster, prop) as unknown;
      if (typeof remote !== 'function') return local;
      return async (...args: unknown[]) => {
        const mine = await local(...args);
        if (mine !== null && mine !== undefined) return mine;
        const theirs = await (remote as (...a: unknown[]) => Promise<unknown>).apply(cluster, args);
        // An object read from the cluster is kept in memory: later reads see
        // the same one, and the preview's own writes (an update of the job
        // ConfigMap) apply to it there instead of being NotFound.
        if (theirs && typeof theirs === 'object' && !Array.isArray(theirs) && target.load(theirs))
          return local(...args);
        return theirs;
      };
    },
  }) as ClusterStore;

  const labels = new Map<string, Promise<Record<string, string> | undefined>>();
  const namespaceLabels = (name: string) => {
    let p = labels.get(name);
    if (!p) {
      p = core.readNamespace({ name }).then(
        ns => ns.metadata?.labels ?? {},
        (e: unknown) => {
          const code = (e as { code?: number }).code;
          if (code === 404) return undefined;
          throw new Error(
            `--kubeconfig: cannot read namespace ${name} from ${path}: ${(e as Error).message.split('\n')[0]}`,
          );
        },
      );
      labels.set(name, p);
    }
    return p;
  };
  return { store, namespaceLabels, skippedWrites };
}
