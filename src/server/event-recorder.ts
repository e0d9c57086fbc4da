// Sends Kubernetes Events without ever holding up an admission: `record`
// returns at once, each send is cut off after a few seconds, at most a fixed
// number are in flight (more are dropped: when the API server is slow, the
// reviews matter more than their events), and every failure is logged and
// counted, never thrown.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterStore } from '../cluster/store.js';

export type EventResult = 'sent' | 'failed' | 'dropped';

export interface EventRecorderOptions {
  store: ClusterStore;
  logger: Logger;
  /** Longest wait for one event; default 5 s. */
  timeoutMs?: number;
  /** Events in flight at once before new ones are dropped; default 64. */
  maxInFlight?: number;
  /** Told how each event ended (metrics). */
  onResult?: (event: CoreV1Event, result: EventResult) => void;
}

export class EventRecorder {
  private readonly inFlight = new Map<Promise<void>, AbortController>();
  private closed = false;

  constructor(private readonly opts: EventRecorderOptions) {}

  record(event: CoreV1Event | undefined): void {
    if (!event) return;
    const { store, logger, timeoutMs = 5000, maxInFlight = 64, onResult } = this.opts;
    const about = `${event.involvedObject.kind}/${event.involvedObject.name}`;
    const namespace = event.metadata.namespace ?? '';
    const tell = (result: EventResult) => {
      try { onResult?.(event, result); } catch (err) { logger.error({ err }, 'event result callback failed'); }
    };
    if (this.closed || this.inFlight.size >= maxInFlight) {
      logger.warn({ reason: event.reason, about, namespace, inFlight: this.inFlight.size }, this.closed ? 'event dropped: shutting down' : 'event dropped: too many events in flight');
      tell('dropped');
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    // Started in a microtask, so neither a synchronous throw nor a slow
    // store can reach the caller.
    const done: Promise<void> = Promise.resolve()
      .then(() => store.createEvent(namespace, event, { signal: abort.signal }))
      .then(
        () => tell('sent'),
        (err: unknown) => {
          logger.warn({ reason: event.reason, about, namespace, err: (err as Error)?.message ?? String(err) }, 'could not record event');
          tell('failed');
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(done);
      });
    this.inFlight.set(done, abort);
  }

  get pending(): number { return this.inFlight.size; }

  /** Resolves once every event recorded so far has been sent, failed or given up. */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight.keys());
  }

  /** Abandons the events in flight and drops later ones (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const abort of this.inFlight.values()) abort.abort(new Error('shutting down'));
    await this.settled();
  }
}
