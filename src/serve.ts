// Wires the pieces for `vineyard-webhook serve`: store, certificates, server,
// signals. Everything here is start-up and shutdown; requests are in app.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { BatchedDestination } from './log-destination.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ServeConfig } from './config.js';
import { UsageError } from './flags.js';
import { MemoryStore } from './cluster/memory-store.js';
import { readManifests } from './cluster/resources.js';
import { findClusterConfig, SA_DIR } from './cluster/kubeconfig.js';
import type { ClusterStore } from './cluster/store.js';
import { endpoints } from './pipeline/endpoints.js';
import { buildApp, type App } from './server/app.js';
import { tlsOptions } from './server/tls-server.js';
import { Metrics } from './server/metrics.js';
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
  store: ClusterStore;
  certs: CertSource;
  /** Drains and closes; resolves when every connection is gone. */
  shutdown(): Promise<void>;
}

/**
 * JSON lines on stdout, written asynchronously in batches (log-destination.ts):
 * a synchronous write per review cost ~7% of a review's CPU. What is pending
 * is written on exit, and shutdown flushes explicitly. No redaction pass: log
 * calls carry chosen fields only, never objects that could hold keys or tokens.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'vineyard-webhook' } }, new BatchedDestination(1));
}

function ownNamespace(flag: string | undefined): string {
  if (flag) return flag;
  const file = join(SA_DIR, 'namespace');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  return WEBHOOK_NAMESPACE;
}

/** The store, and the cluster configuration when there is one (the certificates use it too). */
async function createStore(cfg: ServeConfig, log: Logger): Promise<{ store: ClusterStore; kc?: KubeConfig }> {
  const source = cfg.standalone ? { kind: 'none' as const } : findClusterConfig(cfg.kubeconfig);
  if (source.kind === 'none') {
    if (!cfg.standalone) log.warn('no cluster configuration found (no --kubeconfig, no in-cluster service account, no $KUBECONFIG, no ~/.kube/config): running standalone with an in-memory store');
    const seed = cfg.resources ? await readManifests(cfg.resources) : [];
    const store = new MemoryStore(seed);
    log.info({ resources: cfg.resources, objects: seed.length }, 'in-memory store ready');
    return { store };
  }
  // Loaded only in cluster mode: client-node is large and standalone mode never needs it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { createKubeStore } = await import('./cluster/kube-store.js');
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromFile(source.path);
  log.info({ cluster: kc.getCurrentCluster()?.server, source: source.kind }, 'using the Kubernetes API');
  return { store: createKubeStore(kc), kc };
}

function certMetrics(m: Metrics): CertEvents {
  return {
    expiry: (role, notAfter) => m.certExpiry.set({ role }, notAfter.getTime() / 1000),
    rotated: (role) => m.certRotations.inc({ role }),
    injectionFailed: () => m.caBundleErrors.inc(),
  };
}

async function createCertSource(cfg: ServeConfig, kc: KubeConfig | undefined, namespace: string, log: Logger, metrics: Metrics): Promise<CertSource> {
  const mode = cfg.certMode ?? (kc ? 'secret' : 'self');
  const events = certMetrics(metrics);
  if (mode === 'self') {
    const c = await loadOrCreateSelfCerts(cfg.certDir, cfg.certSans);
    log.info({ dir: c.dir, reused: c.reused, caBundle: join(c.dir, 'ca.crt') }, 'self-managed certificates');
    events.expiry('serving', certFacts(c.serving.cert).notAfter);
    events.expiry('ca', certFacts(c.ca).notAfter);
    return staticCertSource(c.serving);
  }
  if (mode === 'files') {
    const files = cfg.tlsCertFile && cfg.tlsKeyFile ? { certFile: cfg.tlsCertFile, keyFile: cfg.tlsKeyFile } : filesInDir(cfg.certDir);
    return startFilesMode({ ...files, log, events });
  }
  if (!kc) {
    throw new UsageError('--cert-mode secret keeps the CA in a Secret and needs a cluster: give --kubeconfig (or run in a pod), or use --cert-mode self or files');
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

export async function startServer(cfg: ServeConfig, log: Logger = createLogger(cfg.logLevel)): Promise<Running> {
  const { store, kc } = await createStore(cfg, log);
  const cluster = kc !== undefined;
  const namespace = ownNamespace(cfg.namespace);
  const metrics = new Metrics();
  const certs = await createCertSource(cfg, kc, namespace, log, metrics);
  let apiAnswered = !cluster;
  const app = buildApp({
    tls: certs.current(),
    endpoints,
    store,
    config: { sidecarMode: cfg.sidecarMode, schedulerName: cfg.schedulerName },
    logger: log,
    metrics,
    bodyLimit: cfg.bodyLimit,
    readiness: [() => certs.notReady(), () => (apiAnswered ? undefined : 'the Kubernetes API has not answered yet')],
    // In a cluster only: in memory, events would pile up unread. The hostname is the pod's name.
    ...(cluster ? { events: { instance: hostname() } } : {}),
  });
  followCertificates(certs, app.server, tlsOptions, log);
  if (cluster) {
    const pingApi = () => store.ping().then(() => { apiAnswered = true; }, (err) => log.warn({ err: (err as Error).message }, 'Kubernetes API not reachable yet'));
    void pingApi();
    const t = setInterval(() => { if (apiAnswered) clearInterval(t); else void pingApi(); }, 2000);
    t.unref();
  }
  await app.fastify.listen({ host: cfg.host, port: cfg.port });
  const port = (app.server.address() as AddressInfo).port;
  log.info({ host: cfg.host, port, namespace, mode: cluster ? 'cluster' : 'standalone', sidecarMode: cfg.sidecarMode }, 'vineyard-webhook listening');
  log.flush();

  let closing: Promise<void> | undefined;
  const shutdown = () => closing ??= (async () => {
    log.info({ inFlight: app.inFlight() }, 'draining');
    await app.shutdown(cfg.shutdownTimeoutMs);
    await certs.close();
    log.info('stopped');
    log.flush();
  })();
  return { app, port, store, certs, shutdown };
}
