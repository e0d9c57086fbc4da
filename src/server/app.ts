// The HTTP side: routes, body parsing, AdmissionReview envelope, deadlines,
// metrics and one log line per review. It knows nothing about Vineyard: the
// endpoint table is handed in.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { BadReview, decodeReview, encodeReviewJson } from '../admission/review.js';
import type { ClusterStore } from '../cluster/store.js';
import type { PipelineConfig, Progress, AnyEndpoint } from '../admission/endpoint.js';
import { admissionEvent } from '../admission/endpoint.js';
import { denied, runPipeline, type Outcome } from '../admission/run.js';
import type { IncomingMessage } from 'node:http';
import { parseJsonBody } from './body.js';
import { drainOversizedBody, oversizeDrainBound } from './oversize.js';
import { budgetMs } from './deadline.js';
import { Metrics } from './metrics.js';
import { EventRecorder } from './event-recorder.js';
import { createTlsServer, type TlsMaterial, type WebhookServer } from './tls-server.js';

export interface AppOptions {
  tls: TlsMaterial;
  endpoints: readonly AnyEndpoint[];
  store: ClusterStore;
  config: PipelineConfig;
  logger: Logger;
  bodyLimit: number;
  metrics?: Metrics;
  /** Extra readiness conditions (certificates, first API answer); each returns a reason when not ready. */
  readiness?: Array<() => string | undefined>;
  /** Record Kubernetes Events through the store (each endpoint's event hook says which); none when absent. */
  events?: { instance: string; timeoutMs?: number; maxInFlight?: number };
}

export interface App {
  fastify: FastifyInstance;
  server: WebhookServer;
  metrics: Metrics;
  events?: EventRecorder;
  /**
   * Graceful shutdown: drain, stop accepting connections, send HTTP/2 GOAWAY,
   * wait for in-flight reviews (at most `timeoutMs`), then close everything.
   */
  shutdown(timeoutMs: number): Promise<void>;
  readonly draining: boolean;
  /** Why /readyz fails now (draining, a readiness check); undefined when ready. The metrics port asks too. */
  notReady(): string | undefined;
  inFlight(): number;
}

const errorBody = (statusCode: number, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code: statusCode,
  message,
});

export function buildApp(opts: AppOptions): App {
  const metrics = opts.metrics ?? new Metrics();
  let server!: WebhookServer;
  let draining = false;
  let inFlight = 0;
  const events =
    opts.events &&
    new EventRecorder({
      store: opts.store,
      logger: opts.logger,
      timeoutMs: opts.events.timeoutMs,
      maxInFlight: opts.events.maxInFlight,
      onResult: (event, result) => metrics.events.inc({ reason: event.reason ?? '', result }),
    });

  const fastify = Fastify({
    loggerInstance: opts.logger,
    // One line per review is logged by handleReview; fastify's own request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    // A pino child per request cost more than the review's own log line; the
    // lines that matter carry the review's uid instead of a request id.
    childLoggerFactory: logger => logger,
    bodyLimit: opts.bodyLimit,
    return503OnClosing: false,
    forceCloseConnections: false,
    serverFactory: handler => {
      server = createTlsServer(opts.tls, handler as never);
      return server as never;
    },
  }) as unknown as FastifyInstance;

  const deps = { store: opts.store, config: opts.config };

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(['application/json'], { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  // Callback hooks: an async hook costs a promise and a microtask per request.
  const counted = new WeakSet<FastifyRequest>();
  const done = (req: FastifyRequest) => {
    if (counted.delete(req)) inFlight--;
  };
  fastify.addHook('onRequest', (req, reply, next) => {
    inFlight++;
    counted.add(req);
    // Connection is a hop-by-hop header HTTP/2 forbids; h2 sessions get a GOAWAY instead.
    if (draining && req.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    next();
  });
  fastify.addHook('onResponse', (req, _reply, next) => {
    done(req);
    next();
  });
  fastify.addHook('onRequestAbort', (req, next) => {
    done(req);
    next();
  });
  fastify.addHook('onClose', async () => {
    await events?.close();
  });

  fastify.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status =
      err instanceof BadReview
        ? err.statusCode
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 413
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 415
            : err.statusCode && err.statusCode >= 400 && err.statusCode < 500
              ? err.statusCode
              : 500;
    const message =
      status === 413
        ? `the request body is larger than the limit of ${opts.bodyLimit} bytes (--body-limit)`
        : status === 415
          ? `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json`
          : status === 500
            ? 'internal error'
            : err.message;
    // fastify asks to close the connection after a body it could not parse;
    // HTTP/2 has no such header (Node warns and drops it): the stream ends anyway.
    if (req.raw.httpVersionMajor === 2) reply.removeHeader('connection');
    else if (status === 413)
      drainOversizedBody(req.raw as unknown as IncomingMessage, oversizeDrainBound(opts.bodyLimit));
    metrics.errors.inc({ kind: status === 500 ? 'internal' : `http_${status}` });
    // `reason`, not `msg`: pino's own msg would come second and JSON readers keep only one.
    if (status === 500) req.log.error({ err, url: req.url }, 'request failed');
    else req.log.warn({ url: req.url, status, reason: message }, 'bad request');
    void reply.code(status).type('application/json').send(errorBody(status, message));
  });

  fastify.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type('application/json')
      .send(
        errorBody(
          404,
          `no endpoint at ${req.method} ${req.url.split('?')[0]}; webhook paths: ${opts.endpoints.map(e => e.path).join(', ')}`,
        ),
      );
  });

  const readyReason = (): string | undefined => {
    if (draining) return 'shutting down';
    for (const check of opts.readiness ?? []) {
      const r = check();
      if (r) return r;
    }
    return undefined;
  };

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    const reason = readyReason();
    if (reason) return reply.code(503).send({ status: 'not ready', reason });
    return { status: 'ready' };
  });
  fastify.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  for (const endpoint of opts.endpoints) {
    fastify.post(endpoint.path, (req, reply) => handleReview(endpoint, req, reply));
  }

  async function handleReview(endpoint: AnyEndpoint, req: FastifyRequest, reply: FastifyReply) {
    const started = process.hrtime.bigint();
    const review = decodeReview(req.body);
    const { request } = review;
    const budget = budgetMs((req.query as Record<string, unknown> | undefined)?.timeout);
    const progress: Progress = { step: 'start' };
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Outcome>(resolve => {
      timer = setTimeout(() => {
        abort.abort(new Error(`deadline of ${Math.round(budget)} ms reached`));
        resolve(
          denied(
            504,
            `${endpoint.path}: could not decide within the webhook's ${Math.round(budget)} ms budget (waiting on: ${progress.step}); the pod was not admitted, retry or check the webhook's access to the Kubernetes API`,
            [],
            'deadline',
          ),
        );
      }, budget);
    });
    let outcome: Outcome;
    metrics.inFlight.inc({ webhook: endpoint.name });
    try {
      outcome = await Promise.race([runPipeline(endpoint, request, deps, progress, abort.signal), deadline]);
    } catch (err) {
      req.log.error({ err, uid: request.uid, endpoint: endpoint.name }, 'pipeline failed');
      outcome = denied(500, `${endpoint.path}: internal error while ${progress.step}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      metrics.inFlight.dec({ webhook: endpoint.name });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const meta =
      request.object && typeof request.object === 'object'
        ? (request.object as { metadata?: { name?: string; generateName?: string } }).metadata
        : undefined;
    metrics.requests.inc({ webhook: endpoint.name, operation: request.operation, result: outcome.decision });
    metrics.latency.observe({ webhook: endpoint.name }, seconds);
    if (outcome.patch.length) metrics.patchOps.inc({ webhook: endpoint.name }, outcome.patch.length);
    if (!outcome.response.allowed)
      metrics.denials.inc({
        webhook: endpoint.name,
        code: String(outcome.response.status?.code ?? 0),
        reason: outcome.category ?? 'rejected',
      });
    const { skip } = outcome;
    if (skip) metrics.skipped.inc({ webhook: endpoint.name, reason: skip.reason });
    req.log.info(
      {
        uid: request.uid,
        endpoint: endpoint.name,
        operation: request.operation,
        namespace: request.namespace,
        name: meta?.name || request.name || meta?.generateName,
        dryRun: request.dryRun === true,
        decision: outcome.decision,
        patchOps: outcome.patch.length,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        ...(outcome.category ? { category: outcome.category } : skip ? { skip: skip.reason } : {}),
        durationMs: Math.round(seconds * 1e4) / 10,
      },
      'review',
    );
    const sent = reply
      .type('application/json')
      .send(encodeReviewJson(review.apiVersion, request.uid, outcome.response, outcome.patch.length > 0));
    // After the answer is on its way: an event never delays or changes it.
    if (events) {
      try {
        events.record(admissionEvent({ endpoint, request, outcome, now: new Date(), instance: opts.events!.instance }));
      } catch (err) {
        req.log.error({ err, uid: request.uid }, 'could not build the admission event');
      }
    }
    return sent;
  }

  let closing: Promise<void> | undefined;
  const shutdown = (timeoutMs: number) =>
    (closing ??= (async () => {
      draining = true;
      for (const s of server.sessions) s.close(); // GOAWAY: open streams finish, no new ones
      // The listener stays open while reviews are in flight: closing it would
      // also close idle kept-alive connections on which the API server may be
      // sending a review right now. Responses meanwhile carry Connection: close.
      const until = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < until) await new Promise(r => setTimeout(r, 20));
      server.close();
      for (const sock of server.http1Sockets) sock.destroySoon();
      for (const s of server.sessions) s.destroy();
      await fastify.close();
    })());

  return {
    fastify,
    get server() {
      return server;
    },
    metrics,
    events,
    shutdown,
    get draining() {
      return draining;
    },
    notReady: () => readyReason(),
    inFlight: () => inFlight,
  };
}
