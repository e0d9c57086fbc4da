// Prometheus metrics, one registry per server so tests can run several.
import { Counter, Histogram, Registry, Gauge, collectDefaultMetrics } from 'prom-client';

// The API server's own webhook latency buckets: 5 ms ... 2.5 s.
const LATENCY_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'vineyard_webhook_requests_total', help: 'Admission reviews answered, by endpoint, operation and result (allowed, patched, denied, error).', labelNames: ['endpoint', 'operation', 'result'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'vineyard_webhook_request_duration_seconds', help: 'Time to answer an admission review, by endpoint.', labelNames: ['endpoint'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly patchOps = new Counter({ name: 'vineyard_webhook_patch_operations_total', help: 'JSON Patch operations returned, by endpoint.', labelNames: ['endpoint'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'vineyard_webhook_errors_total', help: 'Requests that could not be answered as a review (bad input, internal errors, deadlines), by kind.', labelNames: ['kind'], registers: [this.registry] });
  readonly denials = new Counter({ name: 'vineyard_webhook_denials_total', help: 'Denials, by endpoint, HTTP status code and reason (rejected, bad-request, api-error, deadline, internal).', labelNames: ['endpoint', 'code', 'reason'], registers: [this.registry] });
  readonly skipped = new Counter({ name: 'vineyard_webhook_injection_skipped_total', help: 'Pods a pod endpoint left unchanged, by endpoint and reason (not-enabled, already-injected, no-vineyardd-label, operation-not-handled, nothing-to-change).', labelNames: ['endpoint', 'reason'], registers: [this.registry] });
  readonly events = new Counter({ name: 'vineyard_webhook_events_total', help: 'Kubernetes Events the webhook tried to record, by reason and result (sent, failed, dropped).', labelNames: ['reason', 'result'], registers: [this.registry] });
  readonly certExpiry = new Gauge({ name: 'vineyard_webhook_certificate_expiry_timestamp_seconds', help: 'Expiry time of the certificates in use, by role (serving, ca).', labelNames: ['role'], registers: [this.registry] });
  readonly certRotations = new Counter({ name: 'vineyard_webhook_certificate_rotations_total', help: 'Certificates issued or reloaded, by role.', labelNames: ['role'], registers: [this.registry] });
  readonly caBundleErrors = new Counter({ name: 'vineyard_webhook_cabundle_injection_errors_total', help: 'Failed caBundle injections into webhook configurations.', registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
