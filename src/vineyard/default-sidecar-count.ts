// Keeps each default Sidecar's spec.replicas equal to the number of live pods
// injected with it, off the admission path. The operator's Sidecar controller
// never reads spec.replicas (it counts running pods for status.current), and
// `kubectl get sidecar` shows it as DESIRED: it is a figure for people, so it
// can follow the pods a moment later instead of every admission writing to
// one shared object. Counting pods, not admissions, also means a pod refused
// after our answer (a quota, a later webhook) and retried is counted once, and
// a scale-down lowers the count.
//
// Coalesced: at most one write per Sidecar per interval. Optimistic: each
// write carries the resourceVersion the count was computed against, so
// several webhook replicas converge on the same figure (a conflict means
// someone else wrote; the watch brings the new version and we look again).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ReadCache } from '../cluster/watch-cache.js';
import { isApiError } from '../cluster/store.js';
import { DEFAULT_SIDECAR_SUFFIX, NAME_LABEL } from './names.js';
import type { Sidecar } from './sidecar.js';

/**
 * What the count reads of an injected pod. In a cluster the cache holds
 * metadata only (PartialObjectMetadata) of pods not yet finished, so `status`
 * is absent there; a whole pod fits too.
 */
export interface InjectedPod {
  metadata?: V1ObjectMeta;
  status?: { phase?: string };
}

export interface DefaultSidecarCountOptions {
  pods: ReadCache<InjectedPod>;
  sidecars: ReadCache<Sidecar>;
  update(namespace: string, sidecar: Sidecar): Promise<unknown>;
  log: Logger;
  /** Shortest time between two writes of one Sidecar. */
  intervalMs?: number;
  /** Wait after a change before counting, so a burst is counted once. */
  settleMs?: number;
  /** Told of each write and its result (metrics). */
  onWrite?: (result: 'updated' | 'conflict' | 'failed') => void;
}

export const isDefaultSidecarName = (name: string | undefined): name is string =>
  typeof name === 'string' && name.endsWith(DEFAULT_SIDECAR_SUFFIX);

/** A pod that runs or will run: not being deleted, not finished. */
export function podIsLive(pod: InjectedPod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** Live pods of `namespace` injected with the Sidecar `name`. */
export function countInjected(pods: readonly InjectedPod[], name: string): number {
  let n = 0;
  for (const p of pods) if (p.metadata?.labels?.[NAME_LABEL] === name && podIsLive(p)) n++;
  return n;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class DefaultSidecarCounter {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastWrite = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: DefaultSidecarCountOptions) {}

  /** A pod of the cache changed (added, updated, deleted). */
  podChanged(pod: InjectedPod): void {
    const name = pod.metadata?.labels?.[NAME_LABEL];
    if (isDefaultSidecarName(name) && pod.metadata?.namespace) this.schedule(pod.metadata.namespace, name);
  }

  /** A Sidecar changed: someone may have set its count by hand, or it was just created. */
  sidecarChanged(sidecar: Sidecar): void {
    const { name, namespace } = sidecar.metadata ?? {};
    if (isDefaultSidecarName(name) && namespace) this.schedule(namespace, name);
  }

  private schedule(namespace: string, name: string): void {
    if (this.stopped) return;
    const key = keyOf(namespace, name);
    if (this.timers.has(key)) return;
    const { intervalMs = 1000, settleMs = 100 } = this.opts;
    const last = this.lastWrite.get(key);
    const wait = Math.max(settleMs, last === undefined ? 0 : last + intervalMs - Date.now());
    const t = setTimeout(() => {
      this.timers.delete(key);
      const run = this.reconcile(namespace, name).finally(() => this.running.delete(run));
      this.running.add(run);
    }, wait);
    t.unref();
    this.timers.set(key, t);
  }

  private async reconcile(namespace: string, name: string): Promise<void> {
    const { pods, sidecars, log } = this.opts;
    // Counting against a cache that is not synced would write 0 for every Sidecar.
    if (pods.state !== 'synced' || sidecars.state !== 'synced') return;
    const sidecar = sidecars.get(namespace, name);
    if (!sidecar) return;
    const count = countInjected(pods.list(namespace), name);
    if (sidecar.spec?.replicas === count) return;
    const key = keyOf(namespace, name);
    this.lastWrite.set(key, Date.now());
    try {
      await this.opts.update(namespace, { ...sidecar, spec: { ...sidecar.spec, replicas: count } });
      this.opts.onWrite?.('updated');
      log.debug({ sidecar: key, replicas: count }, 'default Sidecar count updated');
    } catch (err) {
      if (isApiError(err) && err.notFound) return;
      const conflict = isApiError(err) && err.conflict;
      this.opts.onWrite?.(conflict ? 'conflict' : 'failed');
      if (!conflict)
        log.warn(
          { sidecar: key, replicas: count, err: (err as Error).message },
          'could not update the default Sidecar count; will retry',
        );
      // The watch brings whatever changed; look again after the interval either way.
      this.schedule(namespace, name);
    }
  }

  /** Resolves once no count is pending or being written (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.timers.size || this.running.size) {
      await Promise.all([...this.running, new Promise(r => setTimeout(r, 20))]);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
