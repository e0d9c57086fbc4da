// Prometheus metrics, one registry per server so tests can run several.
import { Counter, Histogram, Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VERSION } from '../version.js';
import { UsageError } from '../flags.js';

// The API server's own admission webhook latency buckets
// (apiserver_admission_webhook_admission_duration_seconds): 5 ms ... 25 s,
// so the two histograms can be read side by side.
export const LATENCY_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 25];

// `webhook`, not `endpoint`: Prometheus' operator adds an `endpoint` label
// (the scraped Service port) and would rename ours to `exported_endpoint`.
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'vineyard_webhook_requests_total',
    help: 'Admission reviews answered, by webhook, operation and result (allowed, patched, denied, error).',
    labelNames: ['webhook', 'operation', 'result'],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'vineyard_webhook_request_duration_seconds',
    help: 'Time to answer an admission review, by webhook.',
    labelNames: ['webhook'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'vineyard_webhook_requests_in_flight',
    help: 'Admission reviews being answered now, by webhook.',
    labelNames: ['webhook'],
    registers: [this.registry],
  });
  readonly patchOps = new Counter({
    name: 'vineyard_webhook_patch_operations_total',
    help: 'JSON Patch operations returned, by webhook.',
    labelNames: ['webhook'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'vineyard_webhook_errors_total',
    help: 'Requests that could not be answered as a review (bad input, internal errors, deadlines), by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly denials = new Counter({
    name: 'vineyard_webhook_denials_total',
    help: 'Denials, by webhook, HTTP status code and reason (rejected, bad-request, api-error, deadline, internal).',
    labelNames: ['webhook', 'code', 'reason'],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'vineyard_webhook_injection_skipped_total',
    help: 'Pods a pod webhook left unchanged, by webhook and reason (not-enabled, already-injected, no-vineyardd-label, operation-not-handled, nothing-to-change).',
    labelNames: ['webhook', 'reason'],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'vineyard_webhook_events_total',
    help: 'Kubernetes Events the webhook tried to record, by reason and result (sent, aggregated into an Event sent before, failed, dropped).',
    labelNames: ['reason', 'result'],
    registers: [this.registry],
  });
  readonly cacheState = new Gauge({
    name: 'vineyard_webhook_watch_cache_state',
    help: 'State of each watch cache, by resource: 1 for the state it is in (syncing, synced, absent), 0 for the others.',
    labelNames: ['resource', 'state'],
    registers: [this.registry],
  });
  readonly cacheReads = new Counter({
    name: 'vineyard_webhook_watch_cache_reads_total',
    help: 'Reads of a cached resource, by resource and result (hit: answered from memory; miss: read live).',
    labelNames: ['resource', 'result'],
    registers: [this.registry],
  });
  readonly countWrites = new Counter({
    name: 'vineyard_webhook_default_sidecar_count_writes_total',
    help: "Updates of a default Sidecar's spec.replicas to its live pods, by result (updated, conflict, failed).",
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly certExpiry = new Gauge({
    name: 'vineyard_webhook_certificate_expiry_timestamp_seconds',
    help: 'Expiry time of the certificates in use, by role (serving, ca).',
    labelNames: ['role'],
    registers: [this.registry],
  });
  readonly certRotations = new Counter({
    name: 'vineyard_webhook_certificate_rotations_total',
    help: 'Certificates issued or reloaded, by role.',
    labelNames: ['role'],
    registers: [this.registry],
  });
  readonly caBundleErrors = new Counter({
    name: 'vineyard_webhook_cabundle_injection_errors_total',
    help: 'Failed caBundle injections into webhook configurations.',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'vineyard_webhook_api_requests_total',
    help: 'Requests to the Kubernetes API, by verb, resource and HTTP status code (<error> when no answer came: refused, reset, timed out, aborted).',
    labelNames: ['verb', 'resource', 'code'],
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'vineyard_webhook_build_info',
    help: 'Always 1; the labels say which vineyard-webhook and which Node.js run.',
    labelNames: ['version', 'node'],
    registers: [this.registry],
  });

  constructor(defaults = true) {
    this.buildInfo.set({ version: VERSION, node: process.version }, 1);
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}

export interface MetricsServer {
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  /** Why the webhook is not ready (the TLS port's /readyz answers the same); undefined when it is. */
  notReady: () => string | undefined;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * Plain HTTP for what the kubelet and Prometheus read: /metrics, /healthz and
 * /readyz (as controller-runtime's :8080), so that neither needs the
 * webhook's CA nor skips checking its certificate. It reads no request body
 * and serves nothing a review could reach.
 */
export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { status: 'method not allowed', reason: 'GET only' });
    switch (path) {
      case '/metrics':
        opts.metrics.registry.metrics().then(
          text => {
            res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text);
          },
          () => json(res, 500, { status: 'error', reason: 'could not collect the metrics' }),
        );
        return;
      case '/healthz':
        return json(res, 200, { status: 'ok' });
      case '/readyz': {
        const reason = opts.notReady();
        return reason ? json(res, 503, { status: 'not ready', reason }) : json(res, 200, { status: 'ready' });
      }
      default:
        return json(res, 404, {
          status: 'not found',
          reason: `this port serves /metrics, /healthz and /readyz; the webhooks are on the TLS port`,
        });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new UsageError(
              `--metrics-port ${opts.port}: cannot listen on ${opts.host}:${opts.port} (${err.code}); choose another port, or 0 to serve metrics and probes on the TLS port only`,
            )
          : err,
      );
    });
    server.listen({ host: opts.host, port: opts.port }, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>(done => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
