// The generic server over real TLS: envelope, versions, HTTP/1.1 and HTTP/2,
// bad input, deadlines, operations endpoints and the shutdown drain.
import t from 'tap';
import https from 'node:https';
import fjp from 'fast-json-patch';
import { MemoryStore } from '../src/cluster/memory-store.js';
import type { Endpoint } from '../src/admission/endpoint.js';
import { allow, deny } from '../src/admission/mutator.js';
import { endpoints } from '../src/endpoints/table.js';
import { pino } from 'pino';
import { h1, h2, h2connect, podReview, startTestServer } from './helpers/server.js';

const sidecarCr = {
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'sc', namespace: 'default', uid: 'u-sc' },
  spec: { selector: 'app=a' },
};
const injectablePod = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'a-',
    labels: { app: 'a', 'sidecar.v6d.io/enabled': 'true' },
    annotations: { 'sidecar.v6d.io/name': 'sc' },
    ...extra,
  },
  spec: { containers: [{ name: 'app', image: 'busybox', command: ['/bin/sh', '-c', 'run'] }] },
});

let release: () => void = () => {};
const slow: Endpoint<undefined> = {
  path: '/slow',
  name: 'slow',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async ({ progress }) => {
    progress.step = 'get sidecars default/forever';
    await new Promise<void>(r => {
      release = r;
    });
    return { ctx: undefined };
  },
  mutators: [
    {
      name: 'label',
      mutate: (_r, _pod, _ctx, b) => {
        b.set(['metadata', 'labels', 'a/b~c'], 'x');
        return allow();
      },
    },
  ],
};
const denying: Endpoint<undefined> = {
  path: '/deny',
  name: 'deny',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async () => ({ ctx: undefined }),
  mutators: [{ name: 'no', mutate: () => deny('pod default/a: field spec.x is wrong; fix it', 403, ['careful']) }],
};
const throwing: Endpoint<undefined> = {
  path: '/throw',
  name: 'throw',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async () => ({ ctx: undefined }),
  mutators: [
    {
      name: 'bug',
      mutate: () => {
        throw new Error('boom');
      },
    },
  ],
};
// fast-json-patch refuses an array length that is not a number: the
// operation cannot be applied to the draft, so the mutator fails.
const badPatch: Endpoint<undefined> = {
  path: '/badpatch',
  name: 'badpatch',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async () => ({ ctx: undefined }),
  mutators: [
    {
      name: 'bad',
      mutate: (_r, _pod, _ctx, b) => {
        b.set(['spec', 'containers', 'length'], 'x');
        return allow();
      },
    },
  ],
};
const MANAGED = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }];
const seesMetadata: Endpoint<undefined> = {
  path: '/seesmeta',
  name: 'seesmeta',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async () => ({ ctx: undefined }),
  mutators: [
    {
      name: 'label',
      mutate: (_r, pod: any, _ctx, b) => {
        b.set(['metadata', 'labels', 'seen'], String(Array.isArray(pod.metadata.managedFields)));
        return allow();
      },
    },
  ],
};
const quiet: Endpoint<undefined> = {
  path: '/quiet',
  name: 'quiet',
  expects: { group: '', kind: 'Pod' },
  operations: ['CREATE'],
  mutating: true,
  resolve: async () => ({ ctx: undefined }),
  mutators: [{ name: 'none', mutate: () => allow() }],
};

const store = new MemoryStore([sidecarCr]);
const srv = await startTestServer({
  store,
  endpoints: [...endpoints, slow, denying, throwing, badPatch, quiet, seesMetadata],
  bodyLimit: 64 * 1024,
});
t.teardown(() => srv.close());

const decodePatch = (b64: string) => JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));

t.test('a v1 review is answered in v1 with uid, JSONPatch and the injection', async t => {
  const pod = injectablePod();
  const body = podReview(pod);
  const r = await h1(srv, 'POST', '/mutate-v1-pod-sidecar?timeout=10s', body);
  t.equal(r.status, 200);
  const out = r.json();
  t.equal(out.apiVersion, 'admission.k8s.io/v1');
  t.equal(out.kind, 'AdmissionReview');
  t.equal(out.response.uid, JSON.parse(body).request.uid);
  t.equal(out.response.allowed, true);
  t.equal(out.response.patchType, 'JSONPatch');
  const patched = fjp.applyPatch(structuredClone(pod), decodePatch(out.response.patch), true).newDocument as any;
  t.equal(patched.spec.containers[1].name, 'vineyard-sidecar');
});

t.test('v1beta1 is answered in v1beta1', async t => {
  const r = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(injectablePod(), {}, 'admission.k8s.io/v1beta1'));
  t.equal(r.json().apiVersion, 'admission.k8s.io/v1beta1');
  t.ok(r.json().response.patch);
});

t.test('HTTP/2 over ALPN serves the same review', async t => {
  const session = h2connect(srv);
  t.teardown(() => session.close());
  const r = await h2(session, 'POST', '/mutate-v1-pod-sidecar', podReview(injectablePod()));
  t.equal(r.status, 200);
  t.equal(r.json().response.patchType, 'JSONPatch');
  const health = await h2(session, 'GET', '/healthz');
  t.equal(health.status, 200);
});

t.test('HTTP/2: a body that is not JSON is a 400, without a connection header for Node to warn about', async t => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const session = h2connect(srv);
  t.teardown(() => session.close());
  const r = await h2(session, 'POST', '/mutate-v1-pod-sidecar', '{"apiVersion": ');
  t.equal(r.status, 400);
  t.match(r.json(), { code: 400 });
  await new Promise(res => setImmediate(res));
  t.same(
    warnings.filter(w => /connection header/i.test(w)),
    [],
  );
  const again = await h2(session, 'POST', '/mutate-v1-pod-sidecar', podReview(injectablePod()));
  t.equal(again.status, 200, 'the session serves the next review');
});

t.test('no change: no patch and no patchType', async t => {
  const r = await h1(srv, 'POST', '/quiet', podReview({ metadata: { name: 'x' }, spec: {} }));
  const res = r.json().response;
  t.equal(res.allowed, true);
  t.notOk('patch' in res);
  t.notOk('patchType' in res);
  t.notOk('warnings' in res, 'no warnings field without warnings');
});

t.test('warnings are returned when any', async t => {
  const pod = injectablePod();
  delete (pod.spec.containers[0] as any).command;
  const r = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(pod));
  t.match(r.json().response.warnings, [/has no command/]);
});

t.test('a denial carries allowed:false and status {code, message}', async t => {
  const r = await h1(srv, 'POST', '/deny', podReview({ metadata: { name: 'a' } }));
  const res = r.json().response;
  t.equal(res.allowed, false);
  t.same(res.status, { code: 403, message: 'pod default/a: field spec.x is wrong; fix it' });
  t.same(res.warnings, ['careful']);
  t.notOk('patch' in res);
});

t.test('a mutator that throws is a 500 denial, and the server keeps serving', async t => {
  const r = await h1(srv, 'POST', '/throw', podReview({ metadata: { name: 'a' } }));
  t.equal(r.status, 200);
  t.equal(r.json().response.allowed, false);
  t.equal(r.json().response.status.code, 500);
  t.match(r.json().response.status.message, /internal error/);
});

t.test('a patch that does not apply is never sent', async t => {
  const r = await h1(srv, 'POST', '/badpatch', podReview({ metadata: { name: 'a' }, spec: { containers: [] } }));
  t.equal(r.json().response.allowed, false);
  t.equal(r.json().response.status.code, 500);
  t.notOk('patch' in r.json().response);
});

t.test('fields the code does not know survive; managedFields are not touched', async t => {
  const pod: any = injectablePod({
    managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': {} } }],
  });
  pod.spec.initContainers = [
    { name: 'init', image: 'busybox', restartPolicy: 'Always', futureField: { deep: [1, 2] } },
  ];
  pod.spec.someFutureField = { enabled: true };
  const r = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(pod));
  const ops = decodePatch(r.json().response.patch) as Array<{ path: string }>;
  t.notOk(
    ops.some(o => o.path.includes('managedFields')),
    'no operation on managedFields',
  );
  const patched = fjp.applyPatch(structuredClone(pod), ops as any, true).newDocument as any;
  t.same(patched.spec.initContainers, pod.spec.initContainers);
  t.same(patched.spec.someFutureField, { enabled: true });
  t.same(patched.metadata.managedFields, pod.metadata.managedFields);
});

t.test('mutators see the object as sent, managedFields included, and its patch applies to it', async t => {
  const pod = { metadata: { name: 'a', managedFields: MANAGED }, spec: {} };
  const r = (await h1(srv, 'POST', '/seesmeta', podReview(pod))).json().response;
  t.equal(r.allowed, true);
  const patched = fjp.applyPatch(structuredClone(pod), decodePatch(r.patch), true).newDocument as any;
  t.same(patched.metadata, { ...pod.metadata, labels: { seen: 'true' } });
});

t.test('JSON Pointer segments are escaped (label keys with / and ~)', async t => {
  const pending = h1(srv, 'POST', '/slow', podReview({ metadata: { name: 'a' } }));
  await new Promise(r => setTimeout(r, 50));
  release();
  const ops = decodePatch((await pending).json().response.patch);
  t.same(ops, [{ op: 'add', path: '/metadata/labels', value: { 'a/b~c': 'x' } }]);
});

t.test('bad input gets a clear 4xx and the server serves the next request', async t => {
  const cases: Array<[string, string | Buffer | undefined, Record<string, string>, number, RegExp]> = [
    ['not JSON', 'hello', {}, 400, /not valid JSON/],
    ['truncated JSON', '{"apiVersion":"admission.k8s.io/v1","kind":"Admi', {}, 400, /not valid JSON/],
    ['empty body', '', {}, 400, /empty/],
    ['wrong content type', '{}', { 'content-type': 'text/plain' }, 415, /content type/],
    ['body over the limit', JSON.stringify({ pad: 'x'.repeat(70 * 1024) }), {}, 413, /larger than the limit/],
    [
      'missing request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      {},
      400,
      /request is missing/,
    ],
    [
      'missing uid',
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { kind: { kind: 'Pod' }, operation: 'CREATE' },
      }),
      {},
      400,
      /uid/,
    ],
    [
      'unknown apiVersion',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: {} }),
      {},
      400,
      /apiVersion/,
    ],
    ['a JSON array', '[]', {}, 400, /AdmissionReview/],
    ['deeply nested JSON', '['.repeat(10_000) + ']'.repeat(10_000), {}, 400, /deeper than/],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), {}, 400, /UTF-8/],
    [
      'object is an array',
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'u', kind: { kind: 'Pod' }, operation: 'CREATE', object: [] },
      }),
      {},
      400,
      /request.object/,
    ],
  ];
  for (const [name, body, headers, status, message] of cases) {
    const r = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', body, headers);
    t.equal(r.status, status, `${name}: status`);
    t.match(r.json().message, message, `${name}: message`);
    t.equal(r.json().kind, 'Status', `${name}: a Status body`);
  }
  const after = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(injectablePod()));
  t.equal(after.json().response.allowed, true, 'still serving');
});

t.test('the same pod sent again with another uid: each answered with its own uid', async t => {
  const pod = injectablePod({ labels: { app: 'again', 'sidecar.v6d.io/enabled': 'true' } });
  const uids = ['again-uid-1', 'again-uid-2', 'again-uid-3'];
  const answers: any[] = [];
  for (const uid of uids)
    answers.push((await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(pod, { uid }))).json());
  t.same(
    answers.map(a => a.response.uid),
    uids,
    'every answer echoes its own uid',
  );
  t.ok(
    answers.every(a => a.response.allowed && a.response.patch === answers[0].response.patch),
    'the same patch for every one',
  );
  t.notMatch(await srv.app.metrics.registry.metrics(), /replayed/, 'no replay metric');
});

t.test('the bad-request log line keeps its reason next to the message', async t => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line));
      },
    },
  );
  const own = await startTestServer({ store, logger });
  t.teardown(() => own.close());
  const r = await h1(own, 'POST', '/mutate-v1-pod-sidecar', '{"apiVersion":');
  t.equal(r.status, 400);
  const line = lines.find(l => l.msg === 'bad request');
  t.ok(line, 'one warning line for the bad request');
  t.equal(line?.status, 400);
  t.equal(line?.reason, r.json().message, 'the reason is the message the client got');
});

t.test('reviews that decode but cannot be handled are denials naming the problem', async t => {
  const wrongKind = await h1(
    srv,
    'POST',
    '/mutate-v1-pod-sidecar',
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u1',
        kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' },
        operation: 'CREATE',
        object: sidecarCr,
      },
    }),
  );
  t.equal(wrongKind.json().response.uid, 'u1');
  t.equal(wrongKind.json().response.allowed, false);
  t.match(wrongKind.json().response.status, { code: 400, message: /admits Pod objects, got k8s.v6d.io\/Sidecar/ });
  const nullObject = await h1(srv, 'POST', '/mutate-v1-pod-sidecar', podReview(null));
  t.match(nullObject.json().response.status, { code: 400, message: /request.object must be a Pod/ });
  const del = await h1(
    srv,
    'POST',
    '/mutate-v1-pod-sidecar',
    podReview(null, { operation: 'DELETE', oldObject: injectablePod() }),
  );
  t.same(del.json().response.allowed, true, 'DELETE with object null is allowed');
});

t.test('unknown paths and methods answer 404 JSON', async t => {
  const r = await h1(srv, 'POST', '/mutate-v1-pods', '{}');
  t.equal(r.status, 404);
  t.match(r.json(), { kind: 'Status', code: 404, message: /webhook paths: \/mutate-v1-pod-sidecar/ });
  const get = await h1(srv, 'GET', '/mutate-v1-pod');
  t.equal(get.status, 404);
});

t.test('a review that cannot finish in time is denied before the API server gives up', async t => {
  const started = Date.now();
  const r = await h1(srv, 'POST', '/slow?timeout=2s', podReview({ metadata: { name: 'a' } }));
  const elapsed = Date.now() - started;
  release();
  const res = r.json().response;
  t.equal(res.allowed, false);
  t.equal(res.status.code, 504);
  t.match(res.status.message, /waiting on: get sidecars default\/forever/);
  t.ok(elapsed < 2000, `answered before the API server's 2s timeout (took ${elapsed} ms)`);
});

t.test('keep-alive outlives the API server idle timeout (90 s)', async t => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const a = await h1(srv, 'POST', '/quiet', podReview({ metadata: { name: 'a' } }), {}, agent);
  t.match(a.headers['keep-alive'], /timeout=120/);
  const b = await h1(srv, 'POST', '/quiet', podReview({ metadata: { name: 'b' } }), {}, agent);
  t.equal(b.status, 200, 'second request on the kept-alive socket');
});

t.test('healthz, readyz and metrics', async t => {
  t.equal((await h1(srv, 'GET', '/healthz')).status, 200);
  t.equal((await h1(srv, 'GET', '/readyz')).status, 200);
  const m = await h1(srv, 'GET', '/metrics');
  t.equal(m.status, 200);
  t.match(m.body, /vineyard_webhook_requests_total\{webhook="sidecar",operation="CREATE",result="patched"\} \d+/);
  t.match(m.body, /vineyard_webhook_request_duration_seconds_bucket\{le="0.005",webhook="sidecar"\}/);
  t.match(m.body, /vineyard_webhook_patch_operations_total\{webhook="sidecar"\} \d+/);
  t.match(m.body, /vineyard_webhook_denials_total\{webhook="deny",code="403",reason="rejected"\} \d+/);
  t.match(m.body, /vineyard_webhook_errors_total\{kind="http_415"\} \d+/);
});

t.test('readyz fails with the reason while a readiness check fails', async t => {
  let reason: string | undefined = 'certificates not loaded';
  const s = await startTestServer({ readiness: [() => reason] });
  t.teardown(() => s.close());
  const r = await h1(s, 'GET', '/readyz');
  t.equal(r.status, 503);
  t.match(r.json(), { reason: 'certificates not loaded' });
  reason = undefined;
  t.equal((await h1(s, 'GET', '/readyz')).status, 200);
});

t.test(
  'shutdown drain: in-flight and late requests are answered, readyz fails at once, then the server closes',
  async t => {
    const s = await startTestServer({ endpoints: [slow, quiet] });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
    t.teardown(() => agent.destroy());
    // Open a kept-alive connection first, so a request can arrive on it during the drain.
    await h1(s, 'POST', '/quiet', podReview({ metadata: { name: 'warm' } }), {}, agent);
    const session = h2connect(s);
    const inflight = h1(s, 'POST', '/slow', podReview({ metadata: { name: 'a' } }));
    const inflightH2 = h2(session, 'POST', '/quiet', podReview({ metadata: { name: 'h2' } }));
    await new Promise(r => setTimeout(r, 50));
    const done = s.app.shutdown(5000);
    t.equal(s.app.draining, true);
    const late = await h1(s, 'POST', '/quiet', podReview({ metadata: { name: 'late' } }), {}, agent);
    t.equal(late.status, 200, 'a request on an open connection during the drain is served');
    t.equal(late.headers.connection, 'close', 'with Connection: close');
    // The listener stays open while a review is in flight, so this is answered.
    const ready = await h1(s, 'GET', '/readyz', undefined, {}, agent);
    t.equal(ready.status, 503, 'readyz fails during the drain');
    release();
    const r = await inflight;
    t.equal(r.status, 200, 'the request in flight at shutdown completes');
    t.equal(r.json().response.allowed, true);
    t.equal((await inflightH2).status, 200, 'the HTTP/2 stream completes');
    await done;
    session.destroy();
    await t.rejects(h1(s, 'GET', '/healthz'), 'no new connections after the drain');
  },
);
