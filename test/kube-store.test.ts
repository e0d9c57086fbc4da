// The client-node ClusterStore against the fake API server over real HTTP:
// what each call sends on the wire, what it returns (the server's JSON,
// untouched), and how every failure becomes an ApiError naming the call.
import t, { type Test } from 'tap';
import { KubeConfig, type CoreV1Event } from '@kubernetes/client-node';
import { createKubeStore, type KubeStoreOptions } from '../src/cluster/kube-store.js';
import { ApiError, type ClusterStore } from '../src/cluster/store.js';
import type { Sidecar } from '../src/vineyard/sidecar.js';
import { BUILTIN_RESOURCES, FakeApiServer, unusedUrl, type KubeObject } from './helpers/fake-apiserver.js';
import { fakeKubeConfig, writeFakeKubeconfig } from './helpers/kubeconfig.js';

const NS = 'vineyard-job';
const SIDECAR_API = 'k8s.v6d.io/v1alpha1';
const SIDECARS = `/apis/k8s.v6d.io/v1alpha1/namespaces/${NS}/sidecars`;

const sidecar = (name: string, namespace = NS): Sidecar & KubeObject =>
  ({
    apiVersion: SIDECAR_API,
    kind: 'Sidecar',
    metadata: { name, namespace },
    spec: { replicas: 2, vineyard: { socket: '/var/run/vineyard.sock' } },
    // Not in our Sidecar type: must survive the round trip.
    futureField: { nested: [1, 'two'] },
  }) as Sidecar & KubeObject;

const pod = (name: string, namespace: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels, annotations: { keep: 'me' } },
  spec: { containers: [{ name: 'app', image: 'busybox' }], unknownSpecField: true },
  status: { phase: 'Running', startTime: '2024-05-01T10:00:00Z' },
});

interface Env {
  api: FakeApiServer;
  store: ClusterStore;
}

async function setup(t: Test, objects: KubeObject[] = [], opts: KubeStoreOptions = {}): Promise<Env> {
  const api = await FakeApiServer.start({ objects });
  t.teardown(() => api.close());
  return { api, store: createKubeStore(fakeKubeConfig(api.url), opts) };
}

/** The ApiError a promise rejects with (fails the test when it resolves or throws something else). */
async function apiErrorOf(t: Test, p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    t.type(e, ApiError, 'rejects with an ApiError');
    return e as ApiError;
  }
  t.fail('expected the call to reject');
  return new ApiError('', -1, '', '');
}

t.test('getSidecar returns the server JSON untouched, or null when absent', async t => {
  const { api, store } = await setup(t, [sidecar('sidecar-sample')]);
  const got = await store.getSidecar(NS, 'sidecar-sample');
  t.same(
    got,
    api.get({ apiVersion: SIDECAR_API, kind: 'Sidecar', namespace: NS, name: 'sidecar-sample' }),
    'exactly the stored object',
  );
  t.same((got as KubeObject).futureField, { nested: [1, 'two'] }, 'unknown fields survive');
  t.equal(await store.getSidecar(NS, 'missing'), null);
  t.equal(await store.getSidecar('other-ns', 'sidecar-sample'), null, 'only the asked namespace');
  t.same(
    api.requests.map(r => `${r.method} ${r.path}`),
    [
      `GET ${SIDECARS}/sidecar-sample`,
      `GET ${SIDECARS}/missing`,
      'GET /apis/k8s.v6d.io/v1alpha1/namespaces/other-ns/sidecars/sidecar-sample',
    ],
  );
});

t.test('getVineyardd returns the object or null', async t => {
  const vineyardd = {
    apiVersion: SIDECAR_API,
    kind: 'Vineyardd',
    metadata: { name: 'vineyardd-sample', namespace: 'vineyard-system' },
    spec: { vineyard: { socket: '/var/run/vineyard-system/x' } },
  };
  const { store } = await setup(t, [vineyardd]);
  t.match(await store.getVineyardd('vineyard-system', 'vineyardd-sample'), {
    spec: { vineyard: { socket: '/var/run/vineyard-system/x' } },
  });
  t.equal(await store.getVineyardd('vineyard-system', 'nope'), null);
});

t.test('a missing CRD is an error, not an absent object', async t => {
  const api = await FakeApiServer.start({ resources: BUILTIN_RESOURCES });
  t.teardown(() => api.close());
  const err = await apiErrorOf(t, createKubeStore(fakeKubeConfig(api.url)).getSidecar(NS, 'sidecar-sample'));
  t.match(err, { call: `get sidecars ${NS}/sidecar-sample`, status: 404, reason: 'NotFound' });
  t.match(err.message, /sidecars\.k8s\.v6d\.io.*CustomResourceDefinition installed/);
});

t.test('an empty name is refused before anything is sent', async t => {
  const { api, store } = await setup(t);
  const err = await apiErrorOf(t, store.getSidecar(NS, ''));
  t.match(err, { status: 400, reason: 'BadRequest' });
  t.equal(api.requests.length, 0);
});

t.test('createSidecar creates; a taken name is AlreadyExists', async t => {
  const { api, store } = await setup(t, [sidecar('taken')]);
  const created = await store.createSidecar(NS, sidecar('fresh'));
  t.match(created.metadata, { name: 'fresh', namespace: NS, uid: /\S/, resourceVersion: /^\d+$/ });
  t.same((created as KubeObject).futureField, { nested: [1, 'two'] });
  const [post] = api.writes();
  t.match(post, { method: 'POST', path: SIDECARS, contentType: 'application/json' });
  t.same(post?.body, sidecar('fresh'), 'the body is sent exactly as given');

  const err = await apiErrorOf(t, store.createSidecar(NS, sidecar('taken')));
  t.match(err, {
    call: `create sidecars ${NS}/taken`,
    status: 409,
    reason: 'AlreadyExists',
    alreadyExists: true,
    conflict: false,
  });
  t.equal(err.message, `create sidecars ${NS}/taken: sidecars.k8s.v6d.io "taken" already exists`);
});

t.test('updateSidecar is a PUT with optimistic concurrency', async t => {
  const { api, store } = await setup(t, [sidecar('s')]);
  const cur = (await store.getSidecar(NS, 's'))!;
  const updated = await store.updateSidecar(NS, { ...cur, spec: { ...cur.spec, replicas: 5 } });
  t.equal(updated.spec?.replicas, 5);
  t.not(updated.metadata.resourceVersion, cur.metadata.resourceVersion);
  t.same(
    api.writes().map(r => `${r.method} ${r.path}`),
    [`PUT ${SIDECARS}/s`],
  );

  const err = await apiErrorOf(t, store.updateSidecar(NS, { ...cur, spec: { replicas: 7 } }));
  t.match(err, {
    call: `update sidecars ${NS}/s`,
    status: 409,
    reason: 'Conflict',
    conflict: true,
    alreadyExists: false,
  });
  t.equal(
    api.get<Sidecar & KubeObject>({ apiVersion: SIDECAR_API, kind: 'Sidecar', namespace: NS, name: 's' })?.spec
      ?.replicas,
    5,
    'the stale write did not land',
  );
  const gone = await apiErrorOf(t, store.updateSidecar(NS, sidecar('gone')));
  t.match(gone, { status: 404, notFound: true });
});

t.test('listPods lists by selector in one namespace, as plain JSON', async t => {
  const { api, store } = await setup(t, [
    pod('a', NS, { app: 'x' }),
    pod('b', NS, { app: 'y' }),
    pod('c', 'elsewhere', { app: 'x' }),
  ]);
  const pods = await store.listPods(NS, 'app=x');
  t.same(
    pods.map(p => p.metadata?.name),
    ['a'],
  );
  t.same(api.requests[0]?.query, { labelSelector: 'app=x' });
  t.equal(api.requests[0]?.path, `/api/v1/namespaces/${NS}/pods`);
  const [a] = pods as unknown as Record<string, any>[];
  t.equal(typeof a?.status.startTime, 'string', 'timestamps stay strings, not Date objects');
  t.equal(a?.spec.unknownSpecField, true, 'unknown fields survive');
  t.same(await store.listPods(NS, 'app=none'), []);
});

t.test('patchPodLabels sends a merge patch of labels only, never an update', async t => {
  const { api, store } = await setup(t, [pod('p', NS, { keep: 'yes', change: 'old' })]);
  const before = api.get<any>({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p' });
  await store.patchPodLabels(NS, 'p', { change: 'new', added: 'x' });
  const writes = api.writes();
  t.same(
    writes.map(r => [r.method, r.path, r.contentType]),
    [['PATCH', `/api/v1/namespaces/${NS}/pods/p`, 'application/merge-patch+json']],
  );
  t.same(writes[0]?.body, { metadata: { labels: { change: 'new', added: 'x' } } }, 'the patch touches labels only');
  const after = api.get<any>({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p' });
  t.same(after.metadata.labels, { keep: 'yes', change: 'new', added: 'x' }, 'other labels are kept');
  t.same(
    { ...after, metadata: { ...after.metadata, labels: undefined, resourceVersion: undefined } },
    { ...before, metadata: { ...before.metadata, labels: undefined, resourceVersion: undefined } },
    'nothing else changed',
  );

  const err = await apiErrorOf(t, store.patchPodLabels(NS, 'gone', { a: 'b' }));
  t.match(err, { call: `patch pods ${NS}/gone`, status: 404, reason: 'NotFound' });
});

t.test('createEvent posts the event as given', async t => {
  const { api, store } = await setup(t);
  const event = {
    metadata: { generateName: 'sidecar-sample.', namespace: NS },
    involvedObject: { apiVersion: SIDECAR_API, kind: 'Sidecar', name: 'sidecar-sample', namespace: NS },
    reason: 'Created',
    message: 'created by vineyard-webhook',
    type: 'Normal',
    firstTimestamp: '2024-05-01T10:00:00Z',
    count: 1,
    reportingComponent: 'vineyard-webhook',
  } as unknown as CoreV1Event;
  await store.createEvent(NS, event);
  const [post] = api.writes();
  t.match(post, { method: 'POST', path: `/api/v1/namespaces/${NS}/events` });
  t.same(post?.body, event, 'sent exactly as given (no model round trip)');
  const stored = api.list<any>('v1', 'Event', NS);
  t.equal(stored.length, 1);
  t.match(stored[0].metadata.name, /^sidecar-sample\.[a-z0-9]{5}$/);
});

t.test('ping answers from /version; failures are ApiErrors', async t => {
  const { api, store } = await setup(t);
  await store.ping();
  t.match(api.requests[0], { method: 'GET', path: /^\/version\/?$/ });
  api.fail({ path: /^\/version/, status: 503 });
  t.match(await apiErrorOf(t, store.ping()), { call: 'get /version', status: 503, reason: 'ServiceUnavailable' });
});

t.test('HTTP failures map to status, reason and the server message; no retries', async t => {
  const { api, store } = await setup(t, [sidecar('s')]);
  api.fail({ status: 500, message: 'etcdserver: request timed out' });
  const internal = await apiErrorOf(t, store.getSidecar(NS, 's'));
  t.match(internal, { call: `get sidecars ${NS}/s`, status: 500, reason: 'InternalError' });
  t.equal(internal.message, `get sidecars ${NS}/s: etcdserver: request timed out`);
  t.equal(api.requests.length, 1, 'the store does not retry');

  api.fail({ status: 502, rawBody: '<html>\n  <h1>Bad Gateway</h1>\n</html>' });
  const proxy = await apiErrorOf(t, store.listPods(NS, 'a=b'));
  t.match(proxy, { call: `list pods ${NS} -l a=b`, status: 502, reason: 'BadGateway' });
  t.match(proxy.message, /HTTP 502: <html> <h1>Bad Gateway<\/h1> <\/html>/);

  api.fail({ status: 409, reason: 'Conflict', times: Infinity, method: 'PUT' });
  const cur = (await store.getSidecar(NS, 's'))!;
  t.match(await apiErrorOf(t, store.updateSidecar(NS, cur)), { status: 409, conflict: true });
});

t.test('no connection: refused and reset are status 0', async t => {
  const refused = await apiErrorOf(t, createKubeStore(fakeKubeConfig(await unusedUrl())).getSidecar(NS, 's'));
  t.match(refused, { call: `get sidecars ${NS}/s`, status: 0, reason: 'ConnectionFailed' });
  t.match(refused.message, /could not be reached: .*ECONNREFUSED/);

  const { api, store } = await setup(t, [sidecar('s')]);
  api.fail({ reset: true });
  t.match(await apiErrorOf(t, store.getSidecar(NS, 's')), { status: 0, reason: 'ConnectionFailed' });
});

t.test('aborting a call cancels the request on the wire', async t => {
  const { api, store } = await setup(t, [sidecar('s')]);
  api.fail({ hang: true });
  const ac = new AbortController();
  const arrived = api.nextRequest();
  const pending = store.getSidecar(NS, 's', { signal: ac.signal });
  const req = await arrived;
  ac.abort(new Error('review deadline'));
  const err = await apiErrorOf(t, pending);
  t.match(err, { call: `get sidecars ${NS}/s`, status: 0, reason: 'Aborted' });
  t.match(err.message, /review deadline/);
  await api.settled(req);
  t.equal(req.aborted, true, 'the server saw the client go away');
});

t.test('a hanging API server hits the per-call timeout', async t => {
  const { api, store } = await setup(t, [], { timeoutMs: 50 });
  api.fail({ hang: true, method: 'PATCH' });
  const arrived = api.nextRequest();
  const err = await apiErrorOf(t, store.patchPodLabels(NS, 'p', { a: 'b' }));
  t.match(err, { call: `patch pods ${NS}/p`, status: 0, reason: 'Timeout' });
  const req = await arrived;
  await api.settled(req);
  t.equal(req.aborted, true, 'the timed-out request was cancelled, not left open');
});

t.test('an already aborted signal sends nothing', async t => {
  const { api, store } = await setup(t);
  const err = await apiErrorOf(t, store.listPods(NS, 'a=b', { signal: AbortSignal.abort() }));
  t.match(err, { status: 0, reason: 'Aborted' });
  t.equal(api.requests.length, 0);
});

t.test('calls share connections instead of opening one each', async t => {
  const { api, store } = await setup(t, [sidecar('s')]);
  const calls = 6;
  for (let i = 0; i < calls / 2; i++) {
    await store.getSidecar(NS, 's');
    await store.listPods(NS, 'a=b');
  }
  // client-node alone builds a new agent, hence a new connection, per call.
  // (undici may open a second one while the first is being released.)
  t.ok(api.connections <= 2, `${api.connections} connections for ${calls} calls`);
});

t.test('a kubeconfig file pointing at the fake works like any cluster', async t => {
  const { api } = await setup(t, [sidecar('s')]);
  const file = writeFakeKubeconfig(api.url, { namespace: NS });
  t.teardown(() => file.remove());
  const kc = new KubeConfig();
  kc.loadFromFile(file.path);
  t.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, NS);
  t.match(await createKubeStore(kc).getSidecar(NS, 's'), { metadata: { name: 's' } });
  t.equal(api.requests[0]?.headers.authorization, 'Bearer fake-token');
});
