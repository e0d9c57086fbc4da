// Kubernetes API failures injected with the fake API server, through the
// client-node store and the real server: 500s, a storm of 409s, refused and
// reset connections, and answers that never come. Every review is answered
// before its deadline with a denial naming the failing call (or, for the
// best-effort Vineyardd read, a warning); only what is safe to repeat is
// repeated (the request log says so); and when everything is closed, no
// socket or timer is left behind.
import t, { type Test } from 'tap';
import https from 'node:https';
import type { AdmissionRequest } from '../src/admission/types.js';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { FakeApiServer, unusedUrl, type RecordedRequest } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { h1, startTestServer, type TestServer } from './helpers/server.js';

/** Resources that keep the process alive, by type: compared before and after. */
const activeResources = () =>
  process.getActiveResourcesInfo().reduce<Record<string, number>>((m, r) => ({ ...m, [r]: (m[r] ?? 0) + 1 }), {});
const baseline = activeResources();

const NS = 'jobs';
const SIDECARS = `/apis/k8s.v6d.io/v1alpha1/namespaces/${NS}/sidecars`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const DEFAULT_CR = 'app-etl-default-sidecar';

const objects = () => [
  {
    apiVersion: 'k8s.v6d.io/v1alpha1',
    kind: 'Sidecar',
    metadata: { name: 'sc', namespace: NS },
    spec: { selector: 'app=x' },
  },
  {
    apiVersion: 'k8s.v6d.io/v1alpha1',
    kind: 'Sidecar',
    metadata: { name: DEFAULT_CR, namespace: NS },
    spec: { replicas: 1, selector: 'app=etl' },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-a-1', namespace: NS, labels: { app: 'job-a' } },
    spec: { containers: [{ name: 'main', image: 'job:1' }] },
  },
];

const podObject = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'etl-', namespace: NS, labels, annotations },
  spec: { containers: [{ name: 'app', image: 'busybox', command: ['/bin/sh', '-c', 'run'] }] },
});
const SIDECAR_POD = (name: string) =>
  podObject({ app: 'etl', 'sidecar.v6d.io/enabled': 'true' }, { 'sidecar.v6d.io/name': name });
const NEW_DEFAULT_POD = podObject(
  { app: 'fresh', 'sidecar.v6d.io/enabled': 'true' },
  { 'sidecar.v6d.io/name': 'default' },
);
const OPERATION_POD = podObject(
  { app: 'consumer', 'assembly.v6d.io/enabled': 'true', 'assembly.v6d.io/type': 'local' },
  { 'scheduling.k8s.v6d.io/required': 'job-a' },
);
const SCHEDULING_POD = podObject({ app: 'x', 'scheduling.k8s.v6d.io/vineyardd': 'vineyardd-sample' });

const review = (object: unknown, extra: Partial<AdmissionRequest> = {}) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `u-${Math.random().toString(36).slice(2)}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: NS,
      object,
      ...extra,
    },
  });

interface Env {
  api: FakeApiServer;
  srv: TestServer;
  agent: https.Agent;
}

async function setup(t: Test, opts: { url?: string; callTimeoutMs?: number } = {}): Promise<Env> {
  const api = await FakeApiServer.start({ objects: objects() });
  const store = createKubeStore(
    fakeKubeConfig(opts.url ?? api.url),
    opts.callTimeoutMs ? { timeoutMs: opts.callTimeoutMs } : {},
  );
  const srv = await startTestServer({ store });
  // As the API server calls webhooks: HTTP/1.1, kept-alive connections.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(async () => {
    agent.destroy();
    await srv.close();
    await api.close();
  });
  return { api, srv, agent };
}

async function admit(env: Env, path: string, object: unknown, timeout = '10s', extra: Partial<AdmissionRequest> = {}) {
  const r = await h1(env.srv, 'POST', `${path}?timeout=${timeout}`, review(object, extra), {}, env.agent);
  return r.json().response as {
    allowed: boolean;
    patch?: string;
    warnings?: string[];
    status?: { code: number; message: string };
  };
}

const calls = (api: FakeApiServer, method: string, path: string | RegExp) =>
  api.requests.filter(r => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));

t.test('a 500 on a read: denial naming the call, and nothing else', async t => {
  const env = await setup(t);
  env.api.fail({ method: 'GET', path: `${SIDECARS}/sc`, status: 500, message: 'etcdserver: leader changed' });
  const res = await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc'));
  t.match(res, {
    allowed: false,
    status: { code: 503, message: /the Kubernetes API call failed: get sidecars jobs\/sc: etcdserver: leader changed/ },
  });
  t.equal(calls(env.api, 'GET', `${SIDECARS}/sc`).length, 1, 'one GET');
  t.same(env.api.writes(), [], 'no write');
});

t.test('a 500 on the create of the default Sidecar: denial naming it, and the POST is not repeated', async t => {
  const env = await setup(t);
  env.api.fail({ method: 'POST', path: SIDECARS, status: 500 });
  const res = await admit(env, '/mutate-v1-pod-sidecar', NEW_DEFAULT_POD);
  t.match(res, {
    allowed: false,
    status: { code: 503, message: /create sidecars jobs\/app-fresh-default-sidecar: injected failure: 500/ },
  });
  // The create may have landed before the 500: repeating it could count the pod twice.
  t.equal(calls(env.api, 'POST', SIDECARS).length, 1, 'one POST');
});

t.test(
  'an existing default Sidecar: admitted with one read and no write (its count is kept off the admission path)',
  async t => {
    const env = await setup(t);
    const res = await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('default'));
    t.equal(res.allowed, true);
    t.ok(res.patch, 'injected');
    t.same(
      env.api
        .writes()
        .map(r => `${r.method} ${r.path}`)
        .filter(w => !w.includes('/events')),
      [],
      'no write',
    );
    t.equal(calls(env.api, 'GET', `${SIDECARS}/${DEFAULT_CR}`).length, 1, 'one read');
  },
);

t.test(
  "a 500 on the PATCH of a required job's pod labels: denial naming it, and the PATCH is not repeated",
  async t => {
    const env = await setup(t);
    env.api.fail({ method: 'PATCH', status: 500 });
    const res = await admit(env, '/mutate-v1-pod', OPERATION_POD);
    t.match(res, { allowed: false, status: { code: 503, message: /patch pods jobs\/job-a-1: injected failure: 500/ } });
    t.equal(calls(env.api, 'PATCH', `${PODS}/job-a-1`).length, 1, 'one PATCH');
  },
);

t.test('a 500 on the Vineyardd read: allowed with the default socket and a warning naming the call', async t => {
  const env = await setup(t);
  env.api.fail({ method: 'GET', path: /vineyardds/, status: 500 });
  const res = await admit(env, '/mutate-v1-pod-scheduling', SCHEDULING_POD);
  t.equal(res.allowed, true);
  t.match(res.warnings, [
    /could not read Vineyardd vineyard-system\/vineyardd-sample \(get vineyardds vineyard-system\/vineyardd-sample: injected failure: 500\)/,
  ]);
  t.ok(res.patch, 'wired to the default socket');
});

t.test('a default Sidecar created by someone else first: its AlreadyExists is read back, not a denial', async t => {
  const env = await setup(t);
  env.api.fail({ method: 'POST', path: SIDECARS, status: 409, reason: 'AlreadyExists' });
  const res = await admit(env, '/mutate-v1-pod-sidecar', NEW_DEFAULT_POD);
  // The fake has no such Sidecar, so the read back finds nothing: the 409 is the denial.
  t.match(res, { allowed: false, status: { message: /create sidecars jobs\/app-fresh-default-sidecar/ } });
  t.equal(calls(env.api, 'POST', SIDECARS).length, 1, 'the create is not repeated');
  t.equal(
    calls(env.api, 'GET', `${SIDECARS}/app-fresh-default-sidecar`).length,
    2,
    'read before the create and once after AlreadyExists',
  );
});

t.test('connection refused: every endpoint answers, naming the call where it needed one', async t => {
  const env = await setup(t, { url: await unusedUrl() });
  const refused = /could not be reached: .*ECONNREFUSED/;
  t.match(await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc')), {
    allowed: false,
    status: { code: 503, message: /get sidecars jobs\/sc: / },
  });
  t.match((await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc'))).status?.message, refused);
  t.match(await admit(env, '/mutate-v1-pod-sidecar', NEW_DEFAULT_POD), {
    allowed: false,
    status: { code: 503, message: /get sidecars jobs\/app-fresh-default-sidecar: / },
  });
  t.match(await admit(env, '/mutate-v1-pod', OPERATION_POD), {
    allowed: false,
    status: { code: 503, message: /list pods jobs -l app=job-a: / },
  });
  const scheduling = await admit(env, '/mutate-v1-pod-scheduling', SCHEDULING_POD);
  t.match(scheduling, { allowed: true, warnings: [/could not read Vineyardd .*could not be reached/] });
  // The Sidecar endpoints make no call.
  const sidecar = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'cr',
      kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' },
      operation: 'CREATE',
      namespace: NS,
      object: { apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', metadata: { name: 's', namespace: NS }, spec: {} },
    },
  });
  t.match((await h1(env.srv, 'POST', '/mutate-k8s-v6d-io-v1alpha1-sidecar', sidecar, {}, env.agent)).json().response, {
    allowed: true,
    patchType: 'JSONPatch',
  });
  t.match(
    (await h1(env.srv, 'POST', '/validate-k8s-v6d-io-v1alpha1-sidecar', sidecar, {}, env.agent)).json().response,
    { allowed: true },
  );
});

t.test('a reset connection: denial naming the call; a read is not repeated either', async t => {
  const env = await setup(t);
  env.api.fail({ method: 'GET', path: `${SIDECARS}/sc`, reset: true });
  t.match(await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc')), {
    allowed: false,
    status: { code: 503, message: /get sidecars jobs\/sc: the API server could not be reached/ },
  });
  t.equal(calls(env.api, 'GET', `${SIDECARS}/sc`).length, 1);
});

/** The one request of the log matching, once the server saw its client go away. */
async function abandoned(t: Test, api: FakeApiServer, method: string, path: string | RegExp): Promise<RecordedRequest> {
  const [req, ...more] = calls(api, method, path);
  t.ok(req, `${method} ${path} was sent`);
  t.equal(more.length, 0, `${method} ${path} was sent once`);
  await api.settled(req!);
  t.equal(req!.aborted, true, `${method} ${path} was cancelled, not left open`);
  return req!;
}

t.test('answers that never come: a denial naming the call before the deadline, and the call is cancelled', async t => {
  const env = await setup(t);
  const cases: Array<[string, string | RegExp, string, unknown, RegExp]> = [
    ['GET', `${SIDECARS}/sc`, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc'), /waiting on: get sidecars jobs\/sc\)/],
    [
      'POST',
      SIDECARS,
      '/mutate-v1-pod-sidecar',
      NEW_DEFAULT_POD,
      /waiting on: create sidecars jobs\/app-fresh-default-sidecar\)/,
    ],
    ['GET', PODS, '/mutate-v1-pod', OPERATION_POD, /waiting on: list pods in jobs with app=job-a\)/],
    ['PATCH', `${PODS}/job-a-1`, '/mutate-v1-pod', OPERATION_POD, /waiting on: patch labels of pod jobs\/job-a-1\)/],
  ];
  for (const [method, path, endpoint, object, waiting] of cases) {
    env.api.requests.length = 0;
    const fault = env.api.fail({ method, path, hang: true });
    const res = await admit(env, endpoint, object, '1s');
    t.equal(fault.hits, 1, `${method} hung`);
    t.match(
      res,
      { allowed: false, status: { code: 504, message: /could not decide within the webhook's 900 ms budget/ } },
      `${method}: a 504 denial`,
    );
    t.match(res.status?.message, waiting, `${method}: names the call`);
    await abandoned(t, env.api, method, path);
    fault.remove();
  }
});

t.test('the per-call timeout cuts a hung call short of a long deadline', async t => {
  const env = await setup(t, { callTimeoutMs: 200 });
  env.api.fail({ method: 'GET', path: `${SIDECARS}/sc`, hang: true });
  const res = await admit(env, '/mutate-v1-pod-sidecar', SIDECAR_POD('sc'), '30s');
  t.match(res, {
    allowed: false,
    status: { code: 503, message: /get sidecars jobs\/sc: no answer from the API server within 200 ms/ },
  });
  await abandoned(t, env.api, 'GET', `${SIDECARS}/sc`);
  // The Vineyardd read is best effort: a hang is a warning, not a denial.
  env.api.fail({ method: 'GET', path: /vineyardds/, hang: true });
  const scheduling = await admit(env, '/mutate-v1-pod-scheduling', SCHEDULING_POD, '30s');
  t.match(scheduling, {
    allowed: true,
    warnings: [
      /could not read Vineyardd vineyard-system\/vineyardd-sample \(get vineyardds vineyard-system\/vineyardd-sample: no answer from the API server within 200 ms\)/,
    ],
  });
  await abandoned(t, env.api, 'GET', /vineyardds/);
});

t.test('a name or namespace that is not one URL path segment is refused before anything is sent', async t => {
  const api = await FakeApiServer.start({ objects: objects() });
  t.teardown(() => api.close());
  const store = createKubeStore(fakeKubeConfig(api.url));
  // `sidecars/.` would be the list of every Sidecar, `namespaces/..` every namespace.
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['get sidecars jobs/.', () => store.getSidecar(NS, '.')],
    ['get sidecars jobs/..', () => store.getSidecar(NS, '..')],
    ['get vineyardds ../x', () => store.getVineyardd('..', 'x')],
    ['get sidecars jobs/a/../sc', () => store.getSidecar(NS, 'a/../sc')],
    ['get sidecars jobs/%2e', () => store.getSidecar(NS, '%2e')],
    ['list pods ..', () => store.listPods('..', 'app=job-a')],
    ['patch pods jobs/..', () => store.patchPodLabels(NS, '..', { a: 'b' })],
    ['create sidecars ./x', () => store.createSidecar('.', { metadata: { name: 'x' } })],
  ];
  for (const [call, attempt] of attempts) {
    await t.rejects(
      attempt(),
      { status: 400, reason: 'BadRequest', message: /invalid resource (name|namespace) ".*": may not (be|contain)/ },
      call,
    );
  }
  t.same(api.requests, [], 'nothing was sent');
});

t.test('after every server and client is closed, no socket or timer is left', async t => {
  const LEAKS = ['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap', 'Timeout', 'Http2Session'];
  const leaked = () => LEAKS.filter(type => (activeResources()[type] ?? 0) > (baseline[type] ?? 0));
  // The teardowns of the tests above close what they opened; the last one may still be finishing.
  for (let i = 0; i < 100 && leaked().length; i++) await new Promise(r => setTimeout(r, 20));
  const now = activeResources();
  for (const type of LEAKS)
    t.ok((now[type] ?? 0) <= (baseline[type] ?? 0), `${type}: ${now[type] ?? 0} now, ${baseline[type] ?? 0} before`);
});
