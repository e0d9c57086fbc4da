// secret mode against the in-memory CertApi: one CA shared through a Secret,
// per-replica serving certificates, caBundle injection, readiness.
import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import type { V1Secret } from '@kubernetes/client-node';
import { MemoryCertApi } from '../src/certs/memory-api.js';
import { startSecretMode, type SecretCertSource, type SecretModeOptions } from '../src/certs/secret-mode.js';
import { CA_CERT_KEY, CA_KEY_KEY, PREVIOUS_CERT_KEY } from '../src/certs/ca-secret.js';
import { issueCa } from '../src/certs/issue.js';
import { ApiError } from '../src/cluster/store.js';
import type { CertApi, WebhookKind } from '../src/certs/api.js';
import {
  CONFIG,
  NS,
  SVC,
  bundleFingerprints,
  decodeBundle,
  issuerIn,
  mutatingConfig,
  validatingConfig,
} from './helpers/certs.js';

const DAY = 86_400_000;
const SECRET = 'vineyard-webhook-ca';
const M: WebhookKind = 'MutatingWebhookConfiguration';
const V: WebhookKind = 'ValidatingWebhookConfiguration';
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

function apiWithConfigs(): MemoryCertApi {
  return new MemoryCertApi([
    { kind: M, object: mutatingConfig() },
    { kind: V, object: validatingConfig() },
  ]);
}

interface Counted {
  rotated: string[];
  injectionFailures: number;
  expiry: Record<string, Date>;
}

async function start(
  t: Test,
  api: CertApi,
  extra: Partial<SecretModeOptions> = {},
): Promise<SecretCertSource & { counted: Counted }> {
  const counted: Counted = { rotated: [], injectionFailures: 0, expiry: {} };
  const src = await startSecretMode({
    api,
    namespace: NS,
    secretName: SECRET,
    serviceName: SVC,
    webhookConfigurations: [
      { kind: M, name: CONFIG },
      { kind: V, name: CONFIG },
    ],
    caValidityMs: 365 * DAY,
    certValidityMs: 30 * DAY,
    checkIntervalMs: 600_000,
    propagationMs: 0,
    log: quiet,
    events: {
      rotated: r => counted.rotated.push(r),
      injectionFailed: () => counted.injectionFailures++,
      expiry: (r, d) => {
        counted.expiry[r] = d;
      },
    },
    ...extra,
  });
  t.teardown(() => src.close());
  return Object.assign(src, { counted });
}

const secretCa = (api: MemoryCertApi): string => decodeBundle(api.secrets.get(`${NS}/${SECRET}`)?.data?.[CA_CERT_KEY]);
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

t.test('first start: creates the labelled CA Secret, injects our webhooks only, serves from the CA', async t => {
  const api = apiWithConfigs();
  const src = await start(t, api);
  const secret = api.secrets.get(`${NS}/${SECRET}`)!;
  t.match(secret.metadata?.labels, {
    'app.kubernetes.io/name': 'vineyard-webhook',
    'app.kubernetes.io/component': 'webhook-ca',
  });
  t.ok(secret.data?.[CA_CERT_KEY] && secret.data?.[CA_KEY_KEY]);
  t.equal(secret.type, 'Opaque');
  const ca = secretCa(api);
  t.ok(issuerIn(ca, src.current().cert), "the serving certificate chains to the Secret's CA");
  t.ok(new X509Certificate(src.current().cert).checkHost(`${SVC}.${NS}.svc`));

  const m = api.webhookConfiguration(M, CONFIG)!;
  t.same(bundleFingerprints(m.webhooks![0]!.clientConfig.caBundle), [fp(ca)], 'added where there was none');
  t.same(bundleFingerprints(m.webhooks![1]!.clientConfig.caBundle), [fp(ca)], 'replaced a placeholder');
  t.equal(m.webhooks![2]!.clientConfig.caBundle, 'b3RoZXI=', "another Service's webhook is left alone");
  t.equal(m.webhooks![3]!.clientConfig.caBundle, 'dXJs', 'a URL webhook is left alone');
  t.same(bundleFingerprints(api.webhookConfiguration(V, CONFIG)!.webhooks![0]!.clientConfig.caBundle), [fp(ca)]);

  t.same(
    api.writes.map(w => `${w.verb} ${w.resource}`),
    ['create secrets', 'patch mutatingwebhookconfigurations', 'patch validatingwebhookconfigurations'],
  );
  t.equal(src.notReady(), undefined);
  t.same(src.counted.rotated.sort(), ['ca', 'serving']);
  t.equal(src.counted.expiry.serving?.getTime(), new X509Certificate(src.current().cert).validToDate.getTime());
});

t.test('a restart reuses the CA and writes nothing', async t => {
  const api = apiWithConfigs();
  const first = await start(t, api);
  await first.close();
  const writes = api.writes.length;
  const second = await start(t, api);
  t.equal(api.writes.length, writes, 'no create, update or patch');
  t.ok(issuerIn(secretCa(api), second.current().cert));
  t.not(second.current().cert, first.current().cert, 'each replica has its own serving certificate');
  await second.reconcile();
  t.equal(api.writes.length, writes, 'nor on the periodic check');
  t.equal(second.notReady(), undefined);
});

t.test('five replicas starting together end with one CA and five valid serving certificates', async t => {
  const api = apiWithConfigs();
  const sources = await Promise.all(Array.from({ length: 5 }, () => start(t, api)));
  t.equal(api.writes.filter(w => w.resource === 'secrets').length, 1, 'one Secret write: the winning create');
  const bundle = decodeBundle(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle);
  t.same(bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle), [
    fp(secretCa(api)),
  ]);
  for (const s of sources) {
    t.ok(issuerIn(bundle, s.current().cert), 'trusted by the bundle');
    t.equal(s.notReady(), undefined);
  }
  t.equal(new Set(sources.map(s => s.current().cert)).size, 5);
  t.equal(new Set(sources.map(s => s.caBundle())).size, 1, 'every replica has the same bundle');
});

t.test('a caBundle wiped by re-applying the manifests is re-injected on the next check', async t => {
  const api = apiWithConfigs();
  const src = await start(t, api, { checkIntervalMs: 50 });
  const ca = secretCa(api);
  api.putWebhookConfiguration(M, mutatingConfig());
  t.same(bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle), [], 'wiped');
  // The periodic check repairs it; wait for the patch (the test's timeout bounds the wait).
  while (!api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle)
    await new Promise(r => setTimeout(r, 20));
  const m = api.webhookConfiguration(M, CONFIG)!;
  t.same(bundleFingerprints(m.webhooks![0]!.clientConfig.caBundle), [fp(ca)]);
  t.same(bundleFingerprints(m.webhooks![1]!.clientConfig.caBundle), [fp(ca)]);
  t.equal(src.notReady(), undefined);
});

t.test('a missing webhook configuration is not fatal and is injected once it appears', async t => {
  const api = new MemoryCertApi([{ kind: V, object: validatingConfig() }]);
  const src = await start(t, api);
  t.equal(src.notReady(), undefined, 'ready: nothing calls us through a configuration that does not exist');
  api.putWebhookConfiguration(M, mutatingConfig());
  await src.reconcile();
  t.same(bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle), [
    fp(secretCa(api)),
  ]);
});

t.test('not ready while a bundle cannot be injected; counted; ready once it can', async t => {
  const api = apiWithConfigs();
  const patch = api.patchWebhookConfiguration.bind(api);
  let forbidden = true;
  api.patchWebhookConfiguration = async (kind, name, ops) => {
    if (forbidden && kind === V)
      throw new ApiError(`patch validatingwebhookconfigurations ${name}`, 403, 'Forbidden', 'forbidden: RBAC');
    return patch(kind, name, ops);
  };
  const src = await start(t, api);
  t.match(
    src.notReady(),
    /caBundle of ValidatingWebhookConfiguration vineyard-webhook (does not hold|has not been read)/,
  );
  t.equal(src.counted.injectionFailures, 1);
  forbidden = false;
  await src.reconcile();
  t.equal(src.notReady(), undefined);
});

t.test('API unreachable at start: a temporary certificate, not ready, recovers without a restart', async t => {
  const api = apiWithConfigs();
  const read = api.readSecret.bind(api);
  let down = true;
  api.readSecret = async (ns, name) => {
    if (down) throw new ApiError(`get secrets ${ns}/${name}`, 0, '', 'connect ECONNREFUSED 10.96.0.1:443');
    return read(ns, name);
  };
  const src = await start(t, api);
  t.match(
    src.notReady(),
    /no serving certificate from the CA in Secret vineyard-system\/vineyard-webhook-ca yet: get secrets .*ECONNREFUSED/,
  );
  const temporary = src.current().cert;
  t.ok(
    new X509Certificate(temporary).checkHost(`${SVC}.${NS}.svc`),
    'the temporary certificate still names the Service',
  );
  const changed = new Promise(r => src.onChange(r));
  down = false;
  await src.reconcile();
  await changed;
  t.ok(issuerIn(secretCa(api), src.current().cert));
  t.equal(src.notReady(), undefined);
});

t.test('an empty placeholder Secret (from a chart) is filled in with an update', async t => {
  const api = apiWithConfigs();
  await api.createSecret(NS, {
    metadata: { name: SECRET, namespace: NS, labels: { team: 'x' } },
    type: 'Opaque',
  } as V1Secret);
  api.writes.length = 0;
  const src = await start(t, api);
  t.same(
    api.writes.filter(w => w.resource === 'secrets').map(w => w.verb),
    ['update'],
  );
  t.match(api.secrets.get(`${NS}/${SECRET}`)!.metadata?.labels, {
    team: 'x',
    'app.kubernetes.io/component': 'webhook-ca',
  });
  t.ok(issuerIn(secretCa(api), src.current().cert));
});

t.test('a CA with less than a third of its life left is rotated, the old one kept in the bundle', async t => {
  const api = apiWithConfigs();
  const old = await issueCa('vineyard-webhook-ca', { validityMs: 3 * DAY, now: new Date(Date.now() - 2.5 * DAY) });
  await api.createSecret(NS, {
    metadata: { name: SECRET, namespace: NS },
    type: 'Opaque',
    data: {
      [CA_CERT_KEY]: Buffer.from(old.cert).toString('base64'),
      [CA_KEY_KEY]: Buffer.from(old.key).toString('base64'),
    },
  } as V1Secret);
  const src = await start(t, api);
  const secret = api.secrets.get(`${NS}/${SECRET}`)!;
  t.equal(decodeBundle(secret.data?.[PREVIOUS_CERT_KEY]), old.cert, 'the old CA is kept as previous');
  const fresh = secretCa(api);
  t.not(fresh, old.cert);
  t.same(
    bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle),
    [fp(fresh), fp(old.cert)],
    'the bundle holds both, newest first',
  );
  t.ok(issuerIn(fresh, src.current().cert), 'a first start serves from the new CA: the bundle already holds it');
  t.ok(src.counted.rotated.includes('ca'));
});

t.test('a replica with a stale view of the Secret does not remove a newer CA from the bundle', async t => {
  const api = apiWithConfigs();
  const a = await start(t, api);
  // Replica B's next read of the Secret returns `stale` once: it raced with A's rotation.
  let stale: V1Secret | undefined;
  const bApi: CertApi = {
    readSecret: async (ns, name) => {
      const s = stale;
      stale = undefined;
      return s ? structuredClone(s) : api.readSecret(ns, name);
    },
    createSecret: (ns, s) => api.createSecret(ns, s),
    replaceSecret: (ns, s) => api.replaceSecret(ns, s),
    readWebhookConfiguration: (k, n) => api.readWebhookConfiguration(k, n),
    patchWebhookConfiguration: (k, n, p) => api.patchWebhookConfiguration(k, n, p),
  };
  const b = await start(t, bApi);
  const before = structuredClone(api.secrets.get(`${NS}/${SECRET}`)!);
  // A rotates: a newer CA in the Secret, the old one kept as previous, both injected.
  const newer = await issueCa('vineyard-webhook-ca', { validityMs: 365 * DAY, now: new Date(Date.now() + 1000) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await api.replaceSecret(NS, {
    ...before,
    data: {
      [CA_CERT_KEY]: b64(newer.cert),
      [CA_KEY_KEY]: b64(newer.key),
      'previous-ca.crt': before.data![CA_CERT_KEY]!,
      'previous-ca.key': before.data![CA_KEY_KEY]!,
    },
  });
  await a.reconcile();
  const both = bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle);
  t.same(both, [fp(newer.cert), fp(decodeBundle(before.data![CA_CERT_KEY]))]);
  const patches = api.writes.filter(w => w.verb === 'patch').length;

  stale = before;
  await b.reconcile();
  t.same(
    bundleFingerprints(api.webhookConfiguration(M, CONFIG)!.webhooks![0]!.clientConfig.caBundle),
    both,
    'the newer CA stays',
  );
  t.equal(api.writes.filter(w => w.verb === 'patch').length, patches, 'B wrote nothing: it re-read the Secret instead');
  t.equal(b.caBundle(), a.caBundle(), 'and now agrees with A');
});
