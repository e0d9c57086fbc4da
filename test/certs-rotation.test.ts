// Hot reload under load: with lifetimes of seconds, the running server goes
// through several serving-certificate renewals and a CA rotation while a
// client that trusts only the caBundle (as kube-apiserver does) keeps sending
// requests over fresh and kept-alive connections. Not one may fail.
import t from 'tap';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { MemoryCertApi } from '../src/certs/memory-api.js';
import { startSecretMode } from '../src/certs/secret-mode.js';
import { followCertificates } from '../src/certs/hot-reload.js';
import { buildApp } from '../src/server/app.js';
import { tlsOptions } from '../src/server/tls-server.js';
import { Metrics } from '../src/server/metrics.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { endpoints } from '../src/endpoints/table.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import {
  CONFIG,
  NS,
  SNI,
  SVC,
  bundleFingerprints,
  decodeBundle,
  issuerIn,
  mutatingConfig,
  validatingConfig,
} from './helpers/certs.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

interface Answer {
  status: number;
  reused: boolean;
  peer: string;
}

function get(port: number, opts: { ca?: string; agent?: https.Agent }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/healthz',
        servername: SNI,
        ...(opts.agent ? { agent: opts.agent } : { agent: false, ca: opts.ca }),
      },
      res => {
        const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket, peer }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

t.test('renewals and a CA rotation under steady traffic: zero failed requests', async t => {
  const api = new MemoryCertApi([
    { kind: 'MutatingWebhookConfiguration', object: mutatingConfig() },
    { kind: 'ValidatingWebhookConfiguration', object: validatingConfig() },
  ]);
  // What the API server trusts at any moment: the bundle in the configuration.
  const trusted = () =>
    decodeBundle(api.webhookConfiguration('MutatingWebhookConfiguration', CONFIG)!.webhooks![0]!.clientConfig.caBundle);

  const certs = await startSecretMode({
    api,
    namespace: NS,
    secretName: 'vineyard-webhook-ca',
    serviceName: SVC,
    webhookConfigurations: [
      { kind: 'MutatingWebhookConfiguration', name: CONFIG },
      { kind: 'ValidatingWebhookConfiguration', name: CONFIG },
    ],
    caValidityMs: 10_000,
    certValidityMs: 4_000,
    checkIntervalMs: 1_000,
    propagationMs: 300,
    log,
  });
  t.teardown(() => certs.close());
  const firstCa = new X509Certificate(certs.caBundle()).fingerprint256;

  // The invariant behind "no failed request": a certificate is served only once the bundle trusts its issuer.
  const served: string[] = [];
  certs.onChange(m => {
    if (!issuerIn(trusted(), m.cert)) t.fail('a serving certificate went live before the bundle held its CA');
    served.push(new X509Certificate(m.cert).fingerprint256);
  });

  const app = buildApp({
    tls: certs.current(),
    endpoints,
    store: new MemoryStore(),
    config: defaultPipelineConfig,
    logger: log,
    bodyLimit: 1 << 20,
    metrics: new Metrics(false),
    readiness: [() => certs.notReady()],
  });
  followCertificates(certs, app.server, tlsOptions, log);
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  t.teardown(async () => {
    for (const s of app.server.http1Sockets) s.destroy();
    await app.fastify.close();
  });

  const kept = new https.Agent({ keepAlive: true, maxSockets: 1, ca: trusted() });
  t.teardown(() => kept.destroy());

  const failures: string[] = [];
  const peersOnFreshConnections = new Set<string>();
  let keptRequests = 0;
  let keptReused = 0;
  const done = () => {
    const fps = bundleFingerprints(Buffer.from(trusted()).toString('base64'));
    return served.length >= 4 && !fps.includes(firstCa) && fps.length === 1;
  };
  const deadline = Date.now() + 16_000;
  while (!done() && Date.now() < deadline) {
    const [fresh, again] = await Promise.allSettled([get(port, { ca: trusted() }), get(port, { agent: kept })]);
    if (fresh.status === 'rejected') failures.push(`fresh connection: ${(fresh.reason as Error).message}`);
    else if (fresh.value.status !== 200) failures.push(`fresh connection: HTTP ${fresh.value.status}`);
    else peersOnFreshConnections.add(fresh.value.peer);
    if (again.status === 'rejected') failures.push(`kept-alive connection: ${(again.reason as Error).message}`);
    else if (again.value.status !== 200) failures.push(`kept-alive connection: HTTP ${again.value.status}`);
    else {
      keptRequests++;
      if (again.value.reused) keptReused++;
    }
    await new Promise(r => setTimeout(r, 25));
  }

  t.same(failures, [], 'no request failed');
  t.ok(done(), 'went through renewals, a CA rotation and the old CA leaving the bundle');
  t.ok(served.length >= 4, `serving certificates issued after the first: ${served.length}`);
  t.ok(
    peersOnFreshConnections.size >= 3,
    `fresh connections saw ${peersOnFreshConnections.size} different certificates: the new ones went live without a restart`,
  );
  t.equal(keptReused, keptRequests - 1, 'the kept-alive connection stayed the same one throughout');
  t.ok(issuerIn(trusted(), certs.current().cert), 'the final certificate chains to the final bundle');
  t.not(new X509Certificate(certs.caBundle()).fingerprint256, firstCa, 'served from the new CA');
  t.equal(certs.notReady(), undefined);
});

t.test('a pair TLS refuses is not installed: the server keeps its certificate', async t => {
  const { issueCa, issueServing } = await import('../src/certs/issue.js');
  const ca = await issueCa('reload-test-ca', { validityMs: 86_400_000 });
  const good = await issueServing(ca, { commonName: SNI, sans: [SNI], validityMs: 86_400_000 });
  const other = await issueServing(ca, { commonName: SNI, sans: [SNI], validityMs: 86_400_000 });
  let emit: (m: { key: string; cert: string }) => void = () => {};
  const source = {
    current: () => good,
    onChange: (fn: typeof emit) => {
      emit = fn;
    },
    notReady: () => undefined,
    close: async () => {},
  };
  const app = buildApp({
    tls: good,
    endpoints,
    store: new MemoryStore(),
    config: defaultPipelineConfig,
    logger: log,
    bodyLimit: 1 << 20,
    metrics: new Metrics(false),
  });
  followCertificates(source, app.server, tlsOptions, log);
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.fastify.close());
  const port = (app.server.address() as { port: number }).port;
  const served = async () => (await get(port, { ca: ca.cert })).peer;

  emit({ cert: other.cert, key: good.key }); // mismatched
  t.equal(await served(), new X509Certificate(good.cert).fingerprint256, 'still the good pair');
  emit(other);
  t.equal(await served(), new X509Certificate(other.cert).fingerprint256, 'a valid pair replaces it');
});
