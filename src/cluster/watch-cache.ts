// A list+watch cache of one resource (client-node's informer), kept alive:
// client-node's ListWatch stops for good on any error other than an expired
// resourceVersion, so this restarts it with a capped backoff. Admission reads
// it instead of calling the API server; a cache that is not synced says so
// and the caller reads live.
import type { KubernetesObject } from '@kubernetes/client-node';

/** What a cache can tell about itself (a metric and readiness read it). */
export type CacheState =
  /** Listing, or relisting after an error. */
  | 'syncing'
  /** Listed, and watching. */
  | 'synced'
  /** The resource does not exist in this cluster (its CRD is not installed); retried periodically. */
  | 'absent';

export interface ReadCache<T> {
  readonly resource: string;
  readonly state: CacheState;
  /** The object, when the cache is synced and holds it. */
  get(namespace: string, name: string): T | undefined;
  /** Objects of a namespace (all namespaces without one). */
  list(namespace?: string): readonly T[];
}

/** The part of client-node's informer this cache drives (a test gives its own). */
export interface InformerLike<T> {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
}

export interface WatchCacheOptions<T> {
  /** e.g. `sidecars.k8s.v6d.io`, for logs and metrics. */
  resource: string;
  /** First and longest wait before a restart after an error. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told about every state change and error (logs, metrics). */
  onState?: (resource: string, state: CacheState, err?: unknown) => void;
  /** Told about every change of an object (add, update, delete). */
  onChange?: (obj: T) => void;
}

const statusOf = (err: unknown): number | undefined => {
  const e = err as { statusCode?: unknown; code?: unknown; status?: unknown } | undefined;
  for (const v of [e?.statusCode, e?.code, e?.status]) if (typeof v === 'number') return v;
  return undefined;
};

export class WatchCache<T extends KubernetesObject> implements ReadCache<T> {
  private current: CacheState = 'syncing';
  private stopped = false;
  private backoffMs: number;
  private retry: NodeJS.Timeout | undefined;
  /** Errors reported so far: a start() that saw none has synced. */
  private errors = 0;
  private firstSync: Promise<void>;
  private resolveFirstSync!: () => void;

  constructor(
    private readonly informer: InformerLike<T>,
    private readonly opts: WatchCacheOptions<T>,
  ) {
    this.backoffMs = opts.minBackoffMs ?? 1000;
    this.firstSync = new Promise(resolve => {
      this.resolveFirstSync = resolve;
    });
    informer.on('error', err => this.failed(err));
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, obj => {
        if (this.current === 'synced') opts.onChange?.(obj);
      });
    }
  }

  get resource(): string {
    return this.opts.resource;
  }
  get state(): CacheState {
    return this.current;
  }

  get(namespace: string, name: string): T | undefined {
    return this.current === 'synced' ? this.informer.get(name, namespace) : undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.current === 'synced' ? this.informer.list(namespace) : [];
  }

  /** Starts listing; resolves once the cache has synced or found the resource absent, whichever first. */
  start(): Promise<void> {
    void this.run();
    return this.firstSync;
  }

  /** Resolves once synced (or absent) at least once. */
  ready(): Promise<void> {
    return this.firstSync;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }

  private setState(state: CacheState, err?: unknown): void {
    const changed = state !== this.current;
    this.current = state;
    if (changed || err) this.opts.onState?.(this.opts.resource, state, err);
    if (state !== 'syncing') this.resolveFirstSync();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const errorsBefore = this.errors;
    await this.informer.start().catch((err: unknown) => this.failed(err));
    // start() resolves after the list and once the watch is open; an error during the list
    // has already been reported through 'error' and failed() took over.
    if (this.errors === errorsBefore && !this.stopped) {
      this.backoffMs = this.opts.minBackoffMs ?? 1000;
      // Changes seen while syncing were not reported: the first sync is the baseline.
      this.setState('synced');
      for (const obj of this.informer.list()) this.opts.onChange?.(obj);
    }
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.errors++;
    const absent = statusOf(err) === 404;
    this.setState(absent ? 'absent' : 'syncing', err);
    if (this.retry) return;
    // A CRD is installed rarely: look again at the longest interval rather than back off from the shortest.
    const wait = absent ? (this.opts.maxBackoffMs ?? 30_000) : this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.run();
    }, wait);
    this.retry.unref();
  }
}
