// Wires the pieces for `vineyard-webhook serve`: store, certificates, server,
// signals. Everything here is start-up and shutdown; requests are in app.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';
import { LogDestination } from './log-destination.js';
import { TextDestination, type LogFormat } from './log-format.js';
import { VERSION } from './version.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ServeConfig } from './config.js';
import { UsageError } from './flags.js';
import { MemoryStore } from './cluster/memory-store.js';
import { ManifestError, readManifests } from './cluster/resources.js';
import { findClusterConfig, SA_DIR, type ClusterSource } from './cluster/kubeconfig.js';
import type { ClusterStore } from './cluster/store.js';
import type { ClusterRuntime } from './cluster/in-cluster.js';
import { endpoints } from './endpoints/table.js';
import { buildApp, type App } from './server/app.js';
import { tlsOptions } from './server/tls-server.js';
import { Metrics, startMetricsServer } from './server/metrics.js';
import { observeKubeCalls } from './cluster/kube-call.js';
import { loadOrCreateSelfCerts } from './certs/self.js';
import { staticCertSource, type CertEvents, type CertSource } from './certs/source.js';
import { filesInDir, startFilesMode } from './certs/files-mode.js';
import { startSecretMode } from './certs/secret-mode.js';
import { followCertificates } from './certs/hot-reload.js';
import { certFacts } from './certs/pem.js';
import { WEBHOOK_NAMESPACE } from './vineyard/names.js';

export interface Running {
  app: App;
  port: number;
  /** The plain-HTTP metrics and probes port; undefined when --metrics-port is 0. */
  metricsPort?: number;
  store: ClusterStore;
  certs: CertSource;
  /** Drains and closes; resolves when every connection is gone. */
  shutdown(): Promise<void>;
}

export interface ServerLog {
  log: Logger;
  /** Where the lines go; cli.ts waits on it (bounded) before exiting. */
  destination: LogDestination;
}

/**
 * Lines on stdout (log-destination.ts: asynchronous, and a dead stdout stops
 * logging, never serving): JSON, or text for a person (`format` undefined:
 * text when stdout is a terminal). No redaction pass: log calls carry chosen
 * fields only, never objects that could hold keys or tokens.
 */
export function createLogger(level: string, format?: LogFormat, fd = 1): ServerLog {
  const destination = new LogDestination(fd);
  const text = (format ?? (isatty(fd) ? 'text' : 'json')) === 'text';
  const log = pino(
    { level, base: { service: 'vineyard-webhook' } },
    text ? new TextDestination(destination) : destination,
  );
  return { log, destination };
}

/** `https://host:port`, brackets around an IPv6 address. */
export const urlOf = (scheme: 'http' | 'https', host: string, port: number) =>
  `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

function ownNamespace(flag: string | undefined): string {
  if (flag) return flag;
  const file = join(SA_DIR, 'namespace');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  return WEBHOOK_NAMESPACE;
}

/** The objects of --resources; a file that cannot be read or a document that is not an object is a usage error naming it. */
async function seedManifests(path: string): Promise<unknown[]> {
  try {
    return await readManifests(path);
  } catch (e) {
    const message = (e as Error).message;
    throw new UsageError(
      e instanceof ManifestError ? `--resources: ${message}` : `--resources: cannot read ${path}: ${message}`,
    );
  }
}

/** The store, and the cluster configuration and runtime when there is one (the certificates use it too). */
async function createStore(
  cfg: ServeConfig,
  source: ClusterSource,
  log: Logger,
  metrics: Metrics,
): Promise<{ store: ClusterStore; kc?: KubeConfig; runtime?: ClusterRuntime }> {
  if (source.kind === 'none') {
    if (!cfg.standalone)
      log.warn(
        'no cluster configuration found (no --kubeconfig, no in-cluster service account, no $KUBECONFIG, no ~/.kube/config): running standalone with an in-memory store',
      );
    const seed = cfg.resources ? await seedManifests(cfg.resources) : [];
    const store = new MemoryStore(seed);
    log.info({ resources: cfg.resources, objects: seed.length }, 'in-memory store ready');
    return { store };
  }
  // Loaded only in cluster mode: client-node is large and standalone mode never needs it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { startClusterRuntime } = await import('./cluster/in-cluster.js');
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromFile(source.path);
  log.info({ cluster: kc.getCurrentCluster()?.server, source: source.kind }, 'using the Kubernetes API');
  const runtime = startClusterRuntime(kc, {
    log,
    onCacheState: (resource, state) => {
      for (const st of ['syncing', 'synced', 'absent'] as const)
        metrics.cacheState.set({ resource, state: st }, st === state ? 1 : 0);
    },
    onCacheRead: (resource, result) => metrics.cacheReads.inc({ resource, result }),
    onCountWrite: result => metrics.countWrites.inc({ result }),
  });
  return { store: runtime.store, kc, runtime };
}

function certMetrics(m: Metrics): CertEvents {
  return {
    expiry: (role, notAfter) => m.certExpiry.set({ role }, notAfter.getTime() / 1000),
    rotated: role => m.certRotations.inc({ role }),
    injectionFailed: () => m.caBundleErrors.inc(),
  };
}

async function createCertSource(
  cfg: ServeConfig,
  mode: 'self' | 'files' | 'secret',
  kc: KubeConfig | undefined,
  namespace: string,
  log: Logger,
  metrics: Metrics,
): Promise<CertSource> {
  const events = certMetrics(metrics);
  if (mode === 'self') {
    const c = await loadOrCreateSelfCerts(cfg.certDir, cfg.certSans);
    log.info({ dir: c.dir, reused: c.reused, caBundle: join(c.dir, 'ca.crt') }, 'self-managed certificates');
    events.expiry('serving', certFacts(c.serving.cert).notAfter);
    events.expiry('ca', certFacts(c.ca).notAfter);
    return staticCertSource(c.serving);
  }
  if (mode === 'files') {
    const files =
      cfg.tlsCertFile && cfg.tlsKeyFile
        ? { certFile: cfg.tlsCertFile, keyFile: cfg.tlsKeyFile }
        : filesInDir(cfg.certDir);
    return startFilesMode({ ...files, log, events });
  }
  if (!kc) {
    throw new UsageError(
      '--cert-mode secret keeps the CA in a Secret and needs a cluster: give --kubeconfig (or run in a pod), or use --cert-mode self or files',
    );
  }
  const { createKubeCertApi } = await import('./certs/kube-api.js');
  const webhookConfigurations = [
    { kind: 'MutatingWebhookConfiguration' as const, name: cfg.mutatingWebhookConfiguration },
    { kind: 'ValidatingWebhookConfiguration' as const, name: cfg.validatingWebhookConfiguration },
  ].filter(r => r.name !== '');
  return startSecretMode({
    api: createKubeCertApi(kc),
    namespace,
    secretName: cfg.secretName,
    serviceName: cfg.serviceName,
    webhookConfigurations,
    extraSans: cfg.certSans,
    caValidityMs: cfg.caValidityMs,
    certValidityMs: cfg.certValidityMs,
    log,
    events,
  });
}

export async function startServer(
  cfg: ServeConfig,
  log: Logger = createLogger(cfg.logLevel, cfg.logFormat).log,
): Promise<Running> {
  const source: ClusterSource = cfg.standalone ? { kind: 'none' } : findClusterConfig(cfg.kubeconfig);
  const certMode = cfg.certMode ?? (source.kind === 'none' ? 'self' : 'secret');
  // The first line says what this is and how it runs, so that a log read
  // later (or a bug report) answers those questions itself.
  log.info(
    {
      version: VERSION,
      node: process.version,
      mode: source.kind === 'none' ? 'standalone' : 'cluster',
      certMode,
      sidecarMode: cfg.sidecarMode,
      listen: urlOf('https', cfg.host, cfg.port),
      ...(cfg.metricsPort ? { metrics: `${urlOf('http', cfg.host, cfg.metricsPort)}/metrics` } : {}),
      webhooks: endpoints.map(e => e.path),
    },
    `vineyard-webhook ${VERSION} starting`,
  );
  const metrics = new Metrics();
  // Before the store exists: its caches start calling the API at once.
  observeKubeCalls((verb, resource, code) => metrics.apiRequests.inc({ verb, resource, code }));
  const { store, kc, runtime } = await createStore(cfg, source, log, metrics);
  const cluster = kc !== undefined;
  const namespace = ownNamespace(cfg.namespace);
  const certs = await createCertSource(cfg, certMode, kc, namespace, log, metrics);
  let apiAnswered = !cluster;
  const app = buildApp({
    tls: certs.current(),
    endpoints,
    store,
    config: {
      sidecarMode: cfg.sidecarMode,
      schedulerName: cfg.schedulerName,
      placement: cfg.placement,
      schedulingNoData: cfg.schedulingNoData,
      operationTimeoutMs: cfg.operationTimeoutMs,
      sidecarMeta: cfg.sidecarMeta,
    },
    logger: log,
    metrics,
    bodyLimit: cfg.bodyLimit,
    readiness: [
      () => certs.notReady(),
      () => (apiAnswered ? undefined : 'the Kubernetes API has not answered yet'),
      () => runtime?.notReady(),
    ],
    // In a cluster only: in memory, events would pile up unread. The hostname is the pod's name.
    ...(cluster ? { events: { instance: hostname() } } : {}),
  });
  followCertificates(certs, app.server, tlsOptions, log);
  if (cluster) {
    const pingApi = () =>
      store.ping().then(
        () => {
          apiAnswered = true;
        },
        err => log.warn({ err: (err as Error).message }, 'Kubernetes API not reachable yet'),
      );
    void pingApi();
    const t = setInterval(() => {
      if (apiAnswered) clearInterval(t);
      else void pingApi();
    }, 2000);
    t.unref();
  }
  // Listening here rather than through fastify.listen, which logs
  // "Server listening at http://..." for this TLS-only server.
  await app.fastify.ready();
  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject);
    app.server.listen({ host: cfg.host, port: cfg.port }, () => {
      app.server.off('error', reject);
      resolve();
    });
  });
  const port = (app.server.address() as AddressInfo).port;
  const metricsServer = cfg.metricsPort
    ? await startMetricsServer({
        host: cfg.host,
        port: cfg.metricsPort,
        metrics,
        notReady: () => app.notReady(),
      }).catch(async (err: unknown) => {
        await app.shutdown(0);
        throw err;
      })
    : undefined;
  log.info(
    {
      url: urlOf('https', cfg.host, port),
      host: cfg.host,
      port,
      ...(metricsServer
        ? { metrics: `${urlOf('http', cfg.host, metricsServer.port)}/metrics`, metricsPort: metricsServer.port }
        : {}),
      namespace,
      mode: cluster ? 'cluster' : 'standalone',
    },
    'vineyard-webhook listening',
  );
  log.flush();

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      log.info({ inFlight: app.inFlight() }, 'draining');
      await app.shutdown(cfg.shutdownTimeoutMs);
      // Closed after the drain: its /readyz said 'shutting down' meanwhile.
      await metricsServer?.close();
      await certs.close();
      await runtime?.stop();
      log.info('stopped');
      log.flush();
    })());
  return { app, port, ...(metricsServer ? { metricsPort: metricsServer.port } : {}), store, certs, shutdown };
}
