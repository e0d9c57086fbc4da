// The fake API server answers the way kube-apiserver does for the calls this
// project makes: Status bodies for NotFound / AlreadyExists / Conflict /
// Invalid, one global resourceVersion, the three patch types, label
// selectors, dryRun, and injected failures.
import t, { type Test } from 'tap';
import { FakeApiServer, unusedUrl } from './helpers/fake-apiserver.js';

const SIDECARS = '/apis/k8s.v6d.io/v1alpha1/namespaces/vineyard-job/sidecars';
const PODS = '/api/v1/namespaces/vineyard-job/pods';

const sidecar = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'vineyard-job' },
  spec: { replicas: 2 },
  ...extra,
});
const pod = (name: string, namespace: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
});

interface Answer {
  status: number;
  body: any;
}

async function call(
  api: FakeApiServer,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  const res = await fetch(api.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text };
}

async function started(t: Test, objects: Record<string, unknown>[] = []): Promise<FakeApiServer> {
  const api = await FakeApiServer.start({ objects });
  t.teardown(() => api.close());
  return api;
}

t.test('GET of a missing object is a NotFound Status naming the resource', async t => {
  const api = await started(t);
  const got = await call(api, 'GET', `${SIDECARS}/x`);
  t.equal(got.status, 404);
  t.same(got.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'sidecars.k8s.v6d.io "x" not found',
    reason: 'NotFound',
    details: { name: 'x', group: 'k8s.v6d.io', kind: 'sidecars' },
    code: 404,
  });
  const core = await call(api, 'GET', `${PODS}/p`);
  t.equal(core.body.message, 'pods "p" not found', 'core resources are named without a group');
  t.same(core.body.details, { name: 'p', kind: 'pods' });
});

t.test('a resource type that is not served is a NotFound without details', async t => {
  const api = await started(t);
  const got = await call(api, 'GET', '/apis/example.com/v1/namespaces/a/widgets/w');
  t.equal(got.status, 404);
  t.equal(got.body.message, 'the server could not find the requested resource');
  t.same(got.body.details, {});
});

t.test('create sets server metadata; a second create is AlreadyExists', async t => {
  const api = await started(t);
  const created = await call(api, 'POST', SIDECARS, sidecar('s', { extra: { kept: true } }));
  t.equal(created.status, 201);
  t.match(created.body.metadata, {
    name: 's',
    namespace: 'vineyard-job',
    generation: 1,
    resourceVersion: /^\d+$/,
    uid: /^[0-9a-f-]{36}$/,
    creationTimestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
  });
  t.same(created.body.extra, { kept: true }, 'unknown fields survive');
  t.same(
    api.get({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', namespace: 'vineyard-job', name: 's' }),
    created.body,
  );

  const again = await call(api, 'POST', SIDECARS, sidecar('s'));
  t.equal(again.status, 409);
  t.match(again.body, {
    reason: 'AlreadyExists',
    message: 'sidecars.k8s.v6d.io "s" already exists',
    details: { name: 's', group: 'k8s.v6d.io', kind: 'sidecars' },
    code: 409,
  });
});

t.test('generateName picks a free name; no name at all is Invalid', async t => {
  const api = await started(t);
  const made = await call(api, 'POST', SIDECARS, { kind: 'Sidecar', metadata: { generateName: 'sc-' } });
  t.equal(made.status, 201);
  t.match(made.body.metadata.name, /^sc-[a-z0-9]{5}$/);
  t.equal(made.body.apiVersion, 'k8s.v6d.io/v1alpha1', 'apiVersion defaults from the URL');
  const nameless = await call(api, 'POST', SIDECARS, { metadata: {} });
  t.equal(nameless.status, 422);
  t.equal(nameless.body.reason, 'Invalid');
});

t.test('a body for another namespace is refused', async t => {
  const api = await started(t);
  const got = await call(api, 'POST', SIDECARS, { ...sidecar('s'), metadata: { name: 's', namespace: 'other' } });
  t.equal(got.status, 400);
  t.equal(got.body.reason, 'BadRequest');
});

t.test('resourceVersion increases on every write; a stale update is a Conflict', async t => {
  const api = await started(t, [sidecar('s')]);
  const first = await call(api, 'GET', `${SIDECARS}/s`);
  await call(api, 'POST', PODS, pod('p', 'vineyard-job', {}));
  const updated = await call(api, 'PUT', `${SIDECARS}/s`, { ...first.body, spec: { replicas: 3 } });
  t.equal(updated.status, 200);
  t.ok(
    Number(updated.body.metadata.resourceVersion) > Number(first.body.metadata.resourceVersion) + 1,
    'the pod create took a version too',
  );
  t.equal(updated.body.metadata.generation, 2, 'a spec change bumps generation');
  t.equal(updated.body.metadata.uid, first.body.metadata.uid);

  const stale = await call(api, 'PUT', `${SIDECARS}/s`, { ...first.body, spec: { replicas: 4 } });
  t.equal(stale.status, 409);
  t.match(stale.body, {
    reason: 'Conflict',
    message: /^Operation cannot be fulfilled on sidecars\.k8s\.v6d\.io "s": the object has been modified/,
  });
  t.equal(
    api.get<any>({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', namespace: 'vineyard-job', name: 's' })?.spec
      .replicas,
    3,
    'the stale write did not land',
  );

  const missing = await call(api, 'PUT', `${SIDECARS}/nope`, sidecar('nope'));
  t.equal(missing.status, 404, 'update does not create');
  const renamed = await call(api, 'PUT', `${SIDECARS}/s`, sidecar('other'));
  t.equal(renamed.status, 400, 'the body name must match the URL');
});

t.test('merge and strategic merge patches merge; JSON patch applies RFC 6902', async t => {
  const api = await started(t, [pod('p', 'vineyard-job', { a: '1', b: '2' })]);
  const merged = await call(
    api,
    'PATCH',
    `${PODS}/p`,
    { metadata: { labels: { b: null, c: '3' } } },
    'application/merge-patch+json',
  );
  t.equal(merged.status, 200);
  t.same(merged.body.metadata.labels, { a: '1', c: '3' });
  const strategic = await call(
    api,
    'PATCH',
    `${PODS}/p`,
    { metadata: { labels: { d: '4' } } },
    'application/strategic-merge-patch+json',
  );
  t.same(strategic.body.metadata.labels, { a: '1', c: '3', d: '4' });
  const json = await call(
    api,
    'PATCH',
    `${PODS}/p`,
    [
      { op: 'test', path: '/metadata/labels/a', value: '1' },
      { op: 'remove', path: '/metadata/labels/a' },
    ],
    'application/json-patch+json',
  );
  t.same(json.body.metadata.labels, { c: '3', d: '4' });

  const failedTest = await call(
    api,
    'PATCH',
    `${PODS}/p`,
    [
      { op: 'test', path: '/metadata/labels/c', value: 'nope' },
      { op: 'remove', path: '/metadata/labels/c' },
    ],
    'application/json-patch+json',
  );
  t.equal(failedTest.status, 422);
  t.equal(failedTest.body.reason, 'Invalid');
  t.same(api.list<any>('v1', 'Pod')[0]?.metadata.labels, { c: '3', d: '4' }, 'a failed test op changes nothing');

  const objectAsJsonPatch = await call(api, 'PATCH', `${PODS}/p`, { metadata: {} }, 'application/json-patch+json');
  t.equal(objectAsJsonPatch.status, 400, 'an object sent as a JSON patch is a BadRequest');
  const plainJson = await call(api, 'PATCH', `${PODS}/p`, { metadata: {} }, 'application/json');
  t.equal(plainJson.status, 415, 'a patch needs a patch media type');
  t.equal(plainJson.body.reason, 'UnsupportedMediaType');
  const stale = await call(
    api,
    'PATCH',
    `${PODS}/p`,
    { metadata: { resourceVersion: '1', labels: { e: '5' } } },
    'application/merge-patch+json',
  );
  t.equal(stale.status, 409, 'a resourceVersion in a patch is a precondition');
});

t.test('labelSelector lists matching objects in one namespace, or across all', async t => {
  const api = await started(t, [
    pod('a', 'vineyard-job', { app: 'x', tier: 'web' }),
    pod('b', 'vineyard-job', { app: 'y' }),
    pod('c', 'other', { app: 'x' }),
  ]);
  const inNs = await call(api, 'GET', `${PODS}?labelSelector=${encodeURIComponent('app=x')}`);
  t.equal(inNs.body.kind, 'PodList');
  t.equal(inNs.body.apiVersion, 'v1');
  t.same(
    inNs.body.items.map((p: any) => p.metadata.name),
    ['a'],
  );
  t.equal(inNs.body.items[0].kind, undefined, 'built-in list items carry no kind, as from the real server');
  t.equal(inNs.body.metadata.resourceVersion, api.resourceVersion);
  const all = await call(api, 'GET', `/api/v1/pods?labelSelector=${encodeURIComponent('app=x')}`);
  t.same(
    all.body.items.map((p: any) => p.metadata.name),
    ['c', 'a'],
    'in etcd key order: namespace, then name',
  );
  const notEq = await call(api, 'GET', `${PODS}?labelSelector=${encodeURIComponent('app!=x,!tier')}`);
  t.same(
    notEq.body.items.map((p: any) => p.metadata.name),
    ['b'],
  );
});

t.test('dryRun=All answers as if written but persists nothing', async t => {
  const api = await started(t, [sidecar('s')]);
  const rv = api.resourceVersion;
  const created = await call(api, 'POST', `${SIDECARS}?dryRun=All`, sidecar('new'));
  t.equal(created.status, 201);
  const patched = await call(
    api,
    'PATCH',
    `${SIDECARS}/s?dryRun=All`,
    { spec: { replicas: 9 } },
    'application/merge-patch+json',
  );
  t.equal(patched.body.spec.replicas, 9);
  const removed = await call(api, 'DELETE', `${SIDECARS}/s?dryRun=All`);
  t.equal(removed.status, 200);
  t.equal(api.list('k8s.v6d.io/v1alpha1', 'Sidecar').length, 1);
  t.equal(
    api.get<any>({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', namespace: 'vineyard-job', name: 's' })?.spec
      .replicas,
    2,
  );
  t.equal(api.resourceVersion, rv, 'no version was spent');
  t.same(
    api.writes().map(r => [r.method, r.query.dryRun]),
    [
      ['POST', 'All'],
      ['PATCH', 'All'],
      ['DELETE', 'All'],
    ],
    'the log shows the dry runs',
  );
});

t.test('cluster-scoped resources live at /apis/{group}/{version}/{resource}', async t => {
  const api = await started(t);
  const path = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
  const created = await call(api, 'POST', path, { metadata: { name: 'vineyard', namespace: 'ignored' }, webhooks: [] });
  t.equal(created.status, 201);
  t.equal(created.body.metadata.namespace, undefined, 'cluster-scoped objects have no namespace');
  const got = await call(api, 'GET', `${path}/vineyard`);
  t.equal(got.body.kind, 'MutatingWebhookConfiguration');
  const deleted = await call(api, 'DELETE', `${path}/vineyard`);
  t.match(deleted.body, {
    kind: 'Status',
    status: 'Success',
    details: { name: 'vineyard', kind: 'mutatingwebhookconfigurations' },
  });
  t.equal((await call(api, 'GET', `${path}/vineyard`)).status, 404);
});

t.test('readiness and discovery endpoints answer', async t => {
  const api = await started(t);
  t.equal((await call(api, 'GET', '/version')).body.major, '1');
  t.equal((await call(api, 'GET', '/version/')).status, 200, 'client-node asks for /version/');
  t.same((await call(api, 'GET', '/api')).body.versions, ['v1']);
  t.ok((await call(api, 'GET', '/apis')).body.groups.some((g: any) => g.name === 'k8s.v6d.io'));
});

t.test('injected faults answer N matching requests, then the server serves again', async t => {
  const api = await started(t, [sidecar('s')]);
  const storm = api.fail({ method: 'GET', path: /\/sidecars\//, status: 409, reason: 'Conflict', times: 2 });
  t.equal((await call(api, 'GET', `${SIDECARS}/s`)).body.reason, 'Conflict');
  t.equal((await call(api, 'GET', `${PODS}`)).status, 200, 'other paths are not affected');
  t.equal((await call(api, 'GET', `${SIDECARS}/s`)).status, 409);
  t.equal((await call(api, 'GET', `${SIDECARS}/s`)).status, 200);
  t.equal(storm.hits, 2);

  api.fail({ status: 500 });
  const internal = await call(api, 'GET', `${SIDECARS}/s`);
  t.match(internal, { status: 500, body: { kind: 'Status', reason: 'InternalError', code: 500 } });
  api.fail({ status: 502, rawBody: '<html>bad gateway</html>' });
  t.same(await call(api, 'GET', `${SIDECARS}/s`), { status: 502, body: '<html>bad gateway</html>' });
  api.fail({ delayMs: 1 });
  t.equal((await call(api, 'GET', `${SIDECARS}/s`)).status, 200, 'a delay alone still serves the request');
  api.fail({ reset: true });
  await t.rejects(call(api, 'GET', `${SIDECARS}/s`), 'a reset connection gives no answer');
});

t.test('a hung request stays open until the client aborts, and is logged as aborted', async t => {
  const api = await started(t, [sidecar('s')]);
  api.fail({ hang: true });
  const ac = new AbortController();
  const arrived = api.nextRequest();
  const pending = fetch(`${api.url}${SIDECARS}/s`, { signal: ac.signal });
  const req = await arrived;
  ac.abort();
  await t.rejects(pending);
  await api.settled(req);
  t.equal(req.aborted, true);
  t.equal(req.status, undefined);
});

t.test('close() ends hanging requests; a closed port refuses connections', async t => {
  const api = await FakeApiServer.start();
  api.fail({ hang: true });
  const arrived = api.nextRequest();
  const pending = fetch(`${api.url}/version`);
  await arrived;
  await api.close();
  await t.rejects(pending, 'the hanging request fails instead of keeping the process alive');
  await t.rejects(fetch(`${api.url}/version`), 'nothing listens after close');
  await t.rejects(fetch(`${await unusedUrl()}/version`), 'nothing listens on an unused port');
});
