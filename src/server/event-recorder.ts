// Sends Kubernetes Events without ever holding up an admission, and without a
// write per pod. `record` returns at once; failures are logged and counted,
// never thrown.
//
// Identical events (same involved object, type, reason and message: the pods
// of one ReplicaSet injected from one Sidecar) are aggregated the way
// client-go's event correlator does: the first is created, the next ones
// raise its `count` and `lastTimestamp`, written at most once per flush
// interval. A per-object token bucket bounds the writes about one object
// whatever the messages are. Each send is cut off after a few seconds, and at
// most a fixed number are in flight (more are dropped: when the API server is
// slow, the reviews matter more than their events).
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterStore } from '../cluster/store.js';
import { isApiError } from '../cluster/store.js';

export type EventResult = 'sent' | 'aggregated' | 'failed' | 'dropped';

export interface EventRecorderOptions {
  store: ClusterStore;
  logger: Logger;
  /** Longest wait for one write; default 5 s. */
  timeoutMs?: number;
  /** Writes in flight at once before new events are dropped; default 64. */
  maxInFlight?: number;
  /** Longest an aggregated count waits before it is written; default 2 s. */
  flushMs?: number;
  /** Per involved object: writes allowed in a burst, and one more every refillMs. Defaults 25 and 10 s. */
  burst?: number;
  refillMs?: number;
  /** An aggregate idle this long is forgotten (the next identical event creates a new Event); default 10 min. */
  idleMs?: number;
  /** Told how each event ended (metrics). */
  onResult?: (event: CoreV1Event, result: EventResult) => void;
}

/** One Event in the API server and the repeats not written yet. */
interface Aggregate {
  namespace: string;
  /** Set once the create succeeded. */
  name?: string;
  first: CoreV1Event;
  count: number;
  written: number;
  lastTimestamp: CoreV1Event['lastTimestamp'];
  lastSeen: number;
  creating: boolean;
  flush?: NodeJS.Timeout;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_AGGREGATES = 4096;

const aggregateKey = (e: CoreV1Event) =>
  JSON.stringify([
    e.metadata?.namespace ?? '',
    e.involvedObject.apiVersion,
    e.involvedObject.kind,
    e.involvedObject.name,
    e.involvedObject.uid ?? '',
    e.type,
    e.reason,
    e.message,
  ]);
const objectKey = (e: CoreV1Event) =>
  JSON.stringify([
    e.metadata?.namespace ?? '',
    e.involvedObject.kind,
    e.involvedObject.name,
    e.involvedObject.uid ?? '',
  ]);

export class EventRecorder {
  private readonly inFlight = new Map<Promise<void>, AbortController>();
  private readonly aggregates = new Map<string, Aggregate>();
  private readonly buckets = new Map<string, Bucket>();
  private closed = false;

  constructor(private readonly opts: EventRecorderOptions) {}

  record(event: CoreV1Event | undefined): void {
    if (!event) return;
    if (this.closed) return this.drop(event, 'shutting down');
    const key = aggregateKey(event);
    const now = Date.now();
    this.forgetIdle(now);
    const agg = this.aggregates.get(key);
    if (agg) {
      agg.count++;
      agg.lastTimestamp = event.lastTimestamp;
      agg.lastSeen = now;
      this.tell(event, 'aggregated');
      this.scheduleFlush(key, agg);
      return;
    }
    if (!this.take(objectKey(event), now)) return this.drop(event, 'too many events about this object');
    const namespace = event.metadata?.namespace ?? '';
    // A name of our own rather than generateName: the count updates address it.
    const named: CoreV1Event = {
      ...event,
      metadata: {
        ...event.metadata,
        name: `${event.involvedObject.name}.${randomBytes(8).toString('hex')}`,
        generateName: undefined,
      },
    };
    delete named.metadata.generateName;
    const created: Aggregate = {
      namespace,
      first: named,
      count: 1,
      written: 1,
      lastTimestamp: event.lastTimestamp,
      lastSeen: now,
      creating: true,
    };
    this.aggregates.set(key, created);
    this.send(
      event,
      'create',
      signal => this.opts.store.createEvent(namespace, named, { signal }),
      ok => {
        created.creating = false;
        if (!ok) {
          // Not in the API server: the next identical event tries a create again.
          if (this.aggregates.get(key) === created) this.aggregates.delete(key);
          return;
        }
        created.name = named.metadata.name;
        if (created.count > created.written) this.scheduleFlush(key, created);
      },
    );
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves once every event recorded so far has been written, failed or given up, counts included. */
  async settled(): Promise<void> {
    for (;;) {
      if (this.inFlight.size) {
        await Promise.all(this.inFlight.keys());
        continue;
      }
      const waiting = [...this.aggregates].filter(([, a]) => a.flush);
      if (waiting.length === 0) return;
      for (const [key, a] of waiting) {
        clearTimeout(a.flush);
        a.flush = undefined;
        this.flush(key, a, true);
      }
    }
  }

  /** Abandons the events in flight and drops later ones (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const a of this.aggregates.values()) clearTimeout(a.flush);
    this.aggregates.clear();
    for (const abort of this.inFlight.values()) abort.abort(new Error('shutting down'));
    while (this.inFlight.size) await Promise.all(this.inFlight.keys());
  }

  private tell(event: CoreV1Event, result: EventResult): void {
    try {
      this.opts.onResult?.(event, result);
    } catch (err) {
      this.opts.logger.error({ err }, 'event result callback failed');
    }
  }

  private drop(event: CoreV1Event, why: string): void {
    this.opts.logger.warn(
      {
        reason: event.reason,
        about: `${event.involvedObject.kind}/${event.involvedObject.name}`,
        namespace: event.metadata?.namespace ?? '',
        inFlight: this.inFlight.size,
      },
      `event dropped: ${why}`,
    );
    this.tell(event, 'dropped');
  }

  /** A token of the object's bucket, if there is one. */
  private take(key: string, now: number): boolean {
    const { burst = 25, refillMs = 10_000 } = this.opts;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refillMs);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private scheduleFlush(key: string, agg: Aggregate): void {
    if (agg.flush || agg.creating || this.closed) return;
    agg.flush = setTimeout(() => {
      agg.flush = undefined;
      this.flush(key, agg, false);
    }, this.opts.flushMs ?? 2000);
    agg.flush.unref();
  }

  private flush(key: string, agg: Aggregate, force: boolean): void {
    if (agg.count <= agg.written || agg.creating || !agg.name) return;
    if (!force && !this.take(objectKey(agg.first), Date.now())) return this.scheduleFlush(key, agg);
    const count = agg.count;
    const body = { count, lastTimestamp: agg.lastTimestamp };
    agg.creating = true;
    this.send(
      agg.first,
      'patch',
      signal => this.opts.store.patchEvent(agg.namespace, agg.name!, body, { signal }),
      (ok, err) => {
        agg.creating = false;
        if (ok) {
          agg.written = count;
        } else if (isApiError(err) && err.notFound && this.aggregates.get(key) === agg) {
          // The API server let the Event expire: the next identical event starts a new one.
          this.aggregates.delete(key);
          return;
        }
        if (agg.count > agg.written) this.scheduleFlush(key, agg);
      },
    );
  }

  private send(
    event: CoreV1Event,
    what: 'create' | 'patch',
    write: (signal: AbortSignal) => Promise<void>,
    done: (ok: boolean, err?: unknown) => void,
  ): void {
    const { logger, timeoutMs = 5000, maxInFlight = 64 } = this.opts;
    if (this.inFlight.size >= maxInFlight) {
      done(false);
      return this.drop(event, 'too many events in flight');
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    // Started in a microtask, so neither a synchronous throw nor a slow
    // store can reach the caller.
    const p: Promise<void> = Promise.resolve()
      .then(() => write(abort.signal))
      .then(
        () => {
          if (what === 'create') this.tell(event, 'sent');
          done(true);
        },
        (err: unknown) => {
          logger.warn(
            {
              reason: event.reason,
              about: `${event.involvedObject.kind}/${event.involvedObject.name}`,
              namespace: event.metadata?.namespace ?? '',
              write: what,
              err: (err as Error)?.message ?? String(err),
            },
            'could not record event',
          );
          this.tell(event, 'failed');
          done(false, err);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(p);
      });
    this.inFlight.set(p, abort);
  }

  private forgetIdle(now: number): void {
    const idleMs = this.opts.idleMs ?? 600_000;
    for (const [key, a] of this.aggregates) {
      // Insertion order is creation order: stop at the first one still in use.
      if (this.aggregates.size <= MAX_AGGREGATES && now - a.lastSeen < idleMs) break;
      if (a.creating || a.flush) continue;
      this.aggregates.delete(key);
    }
    if (this.buckets.size > MAX_AGGREGATES) {
      for (const [key, b] of this.buckets) {
        if (now - b.at > idleMs) this.buckets.delete(key);
      }
    }
  }
}
