// secret mode over real HTTP against the fake API server, through
// @kubernetes/client-node: concurrent first starts, restarts, caBundle drift,
// conflicts, and the whole server (startServer) answering a TLS client that
// trusts only the injected bundle, as kube-apiserver does.
import t, { type Test } from 'tap';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { V1MutatingWebhookConfiguration, V1Secret } from '@kubernetes/client-node';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig, writeFakeKubeconfig } from './helpers/kubeconfig.js';
import { createKubeCertApi } from '../src/certs/kube-api.js';
import { startSecretMode, type SecretCertSource, type SecretModeOptions } from '../src/certs/secret-mode.js';
import { CA_CERT_KEY } from '../src/certs/ca-secret.js';
import { parseServeArgs } from '../src/config.js';
import { startServer } from '../src/serve.js';
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

const DAY = 86_400_000;
const SECRET = 'vineyard-webhook-ca';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

const SECRET_REF = { apiVersion: 'v1', kind: 'Secret', namespace: NS, name: SECRET };
const MUTATING_REF = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  name: CONFIG,
};
const VALIDATING_REF = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  name: CONFIG,
};

async function fakeCluster(t: Test): Promise<FakeApiServer> {
  const api = await FakeApiServer.start({ objects: [mutatingConfig() as never, validatingConfig() as never] });
  t.teardown(() => api.close());
  return api;
}

// The fake stores plain JSON; these views give it client-node's shapes.
const webhookConfig = (api: FakeApiServer, ref: typeof MUTATING_REF) =>
  api.get(ref) as unknown as V1MutatingWebhookConfiguration;
const mutatingBundle = (api: FakeApiServer, i = 0) =>
  webhookConfig(api, MUTATING_REF).webhooks![i]!.clientConfig.caBundle;
const secretCa = (api: FakeApiServer) =>
  decodeBundle((api.get(SECRET_REF) as unknown as V1Secret | undefined)?.data?.[CA_CERT_KEY]);

/** One replica: its own client (own connections), as a separate pod would have. */
async function replica(t: Test, api: FakeApiServer, extra: Partial<SecretModeOptions> = {}): Promise<SecretCertSource> {
  const src = await startSecretMode({
    api: createKubeCertApi(fakeKubeConfig(api.url)),
    namespace: NS,
    secretName: SECRET,
    serviceName: SVC,
    webhookConfigurations: [
      { kind: 'MutatingWebhookConfiguration', name: CONFIG },
      { kind: 'ValidatingWebhookConfiguration', name: CONFIG },
    ],
    caValidityMs: 365 * DAY,
    certValidityMs: 30 * DAY,
    checkIntervalMs: 600_000,
    propagationMs: 0,
    log,
    ...extra,
  });
  t.teardown(() => src.close());
  return src;
}

t.test('five replicas starting at once create one CA; a restart writes nothing', async t => {
  const api = await fakeCluster(t);
  const replicas = await Promise.all(Array.from({ length: 5 }, () => replica(t, api)));

  const secretWrites = api.writes().filter(r => r.path.includes('/secrets'));
  t.equal(secretWrites.filter(r => r.status === 201).length, 1, 'one create succeeded');
  t.same(
    secretWrites.filter(r => r.status !== 201).map(r => r.status),
    secretWrites.slice(1).map(() => 409),
    "the others lost with AlreadyExists and read the winner's",
  );
  t.equal(secretWrites.filter(r => r.method === 'PUT').length, 0, 'nobody replaced the CA');
  const ca = secretCa(api);
  t.same(bundleFingerprints(mutatingBundle(api)), [new X509Certificate(ca).fingerprint256]);
  t.same(bundleFingerprints(mutatingBundle(api, 1)), [new X509Certificate(ca).fingerprint256]);
  t.same(bundleFingerprints(webhookConfig(api, VALIDATING_REF).webhooks![0]!.clientConfig.caBundle), [
    new X509Certificate(ca).fingerprint256,
  ]);
  for (const r of replicas) {
    t.ok(issuerIn(ca, r.current().cert), 'serving certificate signed by the one CA');
    t.equal(r.notReady(), undefined);
  }

  for (const patch of api.writes().filter(r => r.method === 'PATCH')) {
    t.equal(patch.contentType, 'application/json-patch+json');
    t.match((patch.body as unknown[])[0], { op: 'test', path: '/metadata/resourceVersion', value: String });
  }

  await Promise.all(replicas.map(r => r.close()));
  api.requests.length = 0;
  const restarted = await replica(t, api);
  await restarted.reconcile();
  t.same(api.writes(), [], 'a restart and its periodic check write nothing');
  t.ok(api.requests.length > 0, 'but it did read');
  t.ok(issuerIn(ca, restarted.current().cert));
});

t.test('a wiped caBundle is repaired by the periodic check', async t => {
  const api = await fakeCluster(t);
  await replica(t, api, { checkIntervalMs: 100 });
  const ca = new X509Certificate(secretCa(api)).fingerprint256;
  api.put(mutatingConfig() as never); // kubectl apply of the manifests: caBundle gone again
  t.same(bundleFingerprints(mutatingBundle(api)), []);
  const repaired = await api.nextRequest(r => r.method === 'PATCH' && r.path.includes('mutatingwebhookconfigurations'));
  await api.settled(repaired);
  t.equal(repaired.status, 200);
  t.same(bundleFingerprints(mutatingBundle(api)), [ca]);
  t.same(bundleFingerprints(mutatingBundle(api, 1)), [ca]);
});

t.test('a conflicting patch is re-read and retried; a failing one is counted and retried later', async t => {
  const api = await fakeCluster(t);
  api.fail({ method: 'PATCH', path: /mutatingwebhookconfigurations/, status: 409, reason: 'Conflict', times: 1 });
  api.fail({ method: 'PATCH', path: /validatingwebhookconfigurations/, status: 500, times: 1 });
  let failures = 0;
  const src = await replica(t, api, {
    events: { expiry: () => {}, rotated: () => {}, injectionFailed: () => failures++ },
  });
  const ca = new X509Certificate(secretCa(api)).fingerprint256;
  t.same(bundleFingerprints(mutatingBundle(api)), [ca], 'the conflict was retried at once');
  t.equal(failures, 1, 'the 500 was counted');
  t.match(src.notReady(), /ValidatingWebhookConfiguration vineyard-webhook/);
  await src.reconcile();
  t.equal(src.notReady(), undefined, 'the next check injected it');
});

t.test('an API error names the object and the call', async t => {
  const api = await fakeCluster(t);
  api.fail({
    method: 'GET',
    path: /secrets/,
    status: 403,
    message:
      'secrets "vineyard-webhook-ca" is forbidden: User "system:serviceaccount:vineyard-system:vineyard-webhook" cannot get resource "secrets"',
    times: Infinity,
  });
  const src = await replica(t, api);
  t.match(
    src.notReady(),
    /Secret vineyard-system\/vineyard-webhook-ca yet: get secrets vineyard-system\/vineyard-webhook-ca: secrets "vineyard-webhook-ca" is forbidden/,
  );
});

function getReadyz(port: number, ca: string, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/readyz', servername, ca, agent: false }, res => {
        let body = '';
        res.on('data', c => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

async function untilReady(port: number, ca: string, servername: string): Promise<{ status: number; body: string }> {
  for (;;) {
    const r = await getReadyz(port, ca, servername);
    if (r.status === 200) return r;
    await new Promise(res => setTimeout(res, 50));
  }
}

t.test(
  'startServer --cert-mode secret: a client trusting only the injected bundle, with SNI <svc>.<ns>.svc, gets in',
  async t => {
    const api = await fakeCluster(t);
    const kubeconfig = writeFakeKubeconfig(api.url);
    t.teardown(() => kubeconfig.remove());
    const cfg = {
      ...parseServeArgs(
        [
          '--kubeconfig',
          kubeconfig.path,
          '--cert-mode',
          'secret',
          '--namespace',
          NS,
          '--host',
          '127.0.0.1',
          '--log-level',
          'silent',
        ],
        {},
      ),
      port: 0,
      metricsPort: 0,
    };
    const running = await startServer(cfg, log);
    t.teardown(() => running.shutdown());
    const bundle = decodeBundle(mutatingBundle(api));
    t.ok(bundle.includes('BEGIN CERTIFICATE'), 'the bundle was injected');
    const r = await untilReady(running.port, bundle, SNI);
    t.equal(r.status, 200);
    const metrics = await running.app.metrics.registry.metrics();
    t.match(metrics, /vineyard_webhook_certificate_expiry_timestamp_seconds\{role="serving"\} \d+/);
    t.match(metrics, /vineyard_webhook_certificate_rotations_total\{role="ca"\} 1/);
    await t.rejects(
      getReadyz(running.port, bundle, 'wrong.example.com'),
      /Hostname\/IP does not match|altnames/,
      'a name outside the SANs is refused',
    );
  },
);

t.test('startServer --cert-mode self --kubeconfig: cluster store, self-managed certificates', async t => {
  const api = await fakeCluster(t);
  const kubeconfig = writeFakeKubeconfig(api.url);
  const dir = await mkdtemp(join(tmpdir(), 'certs-self-'));
  t.teardown(() => {
    kubeconfig.remove();
    return rm(dir, { recursive: true, force: true });
  });
  const cfg = {
    ...parseServeArgs(
      [
        '--kubeconfig',
        kubeconfig.path,
        '--cert-mode',
        'self',
        '--cert-dir',
        dir,
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
      ],
      {},
    ),
    port: 0,
    metricsPort: 0,
  };
  const running = await startServer(cfg, log);
  t.teardown(() => running.shutdown());
  const r = await untilReady(running.port, await readFile(join(dir, 'ca.crt'), 'utf8'), 'localhost');
  t.equal(r.status, 200);
  t.same(api.writes(), [], 'self mode writes nothing to the cluster');
});
