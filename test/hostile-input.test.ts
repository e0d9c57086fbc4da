// A catalogue of malformed and hostile reviews sent to every endpoint over
// the real server (TLS, HTTP/1.1): each gets an HTTP 4xx with a Status body,
// or an AdmissionReview whose denial is a 4xx with a readable message naming
// the field (or an allow, with a patch that applies, where that is the right
// answer), and the server serves the next request. test/server.test.ts holds
// the catalogue of bodies that are not AdmissionReviews at all.
import t, { type Test } from 'tap';
import https from 'node:https';
import fjp from 'fast-json-patch';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { endpoints } from '../src/endpoints/table.js';
import type { Endpoint } from '../src/admission/endpoint.js';
import { h1, startTestServer } from './helpers/server.js';
import { PROTOTYPES, prototypeSnapshot } from './helpers/fuzz-checks.js';
import { podDisplayName, podNamespace } from '../src/endpoints/pod/pod-name.js';

const sidecarCr = {
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'sc', namespace: 'default', uid: 'u-sc' },
  spec: { selector: 'app=a' },
};
const srv = await startTestServer({ store: new MemoryStore([sidecarCr]) });
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
t.teardown(async () => {
  agent.destroy();
  await srv.close();
});

type Json = Record<string, any>;

const goodPod = (): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'demo',
    namespace: 'default',
    labels: {
      app: 'a',
      'sidecar.v6d.io/enabled': 'true',
      'scheduling.k8s.v6d.io/vineyardd': 'vineyardd-sample',
      'assembly.v6d.io/enabled': 'true',
      'assembly.v6d.io/type': 'local',
    },
    annotations: { 'sidecar.v6d.io/name': 'sc', 'scheduling.k8s.v6d.io/required': 'job-a' },
  },
  spec: {
    containers: [
      { name: 'app', image: 'busybox', command: ['/bin/sh', '-c', 'run'], env: [{ name: 'A', value: 'b' }] },
    ],
  },
});
const goodSidecar = (): Json => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'sidecar-sample', namespace: 'default', labels: { app: 'a' }, annotations: {} },
  spec: { selector: 'app=a' },
});

const isPod = (e: Endpoint<unknown>) => e.expects.kind === 'Pod';

function review(e: Endpoint<unknown>, object: unknown, request: Json = {}): Json {
  const version = e.expects.group ? 'v1alpha1' : 'v1';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${Math.random().toString(36).slice(2)}`,
      kind: { group: e.expects.group, version, kind: e.expects.kind },
      resource: { group: e.expects.group, version, resource: isPod(e) ? 'pods' : 'sidecars' },
      operation: 'CREATE',
      namespace: 'default',
      object,
      ...request,
    },
  };
}

/** What an endpoint must answer: an HTTP error, a denial, or an allow. */
type Expect = { http: number; message: RegExp } | { deny: RegExp; code?: number } | 'allow' | 'any';

interface Case {
  name: string;
  /** The review for the endpoint, or a raw body. */
  body: (e: Endpoint<unknown>) => Json | string;
  pod: Expect;
  sidecar: Expect;
}

/** A good object of the endpoint's kind with one change. */
const objectWith = (change: (o: Json) => void) => (e: Endpoint<unknown>) => {
  const o = isPod(e) ? goodPod() : goodSidecar();
  change(o);
  return review(e, o);
};
const requestWith = (change: (r: Json) => void) => (e: Endpoint<unknown>) => {
  const r = review(e, isPod(e) ? goodPod() : goodSidecar());
  change(r.request);
  return r;
};

const MiB = 1024 * 1024;

const cases: Case[] = [
  {
    name: 'a 10 MB body',
    body: objectWith(o => {
      o.metadata.annotations.pad = 'x'.repeat(10 * MiB);
    }),
    pod: { http: 413, message: /larger than the limit of 4194304 bytes/ },
    sidecar: { http: 413, message: /larger than the limit/ },
  },
  {
    name: 'a label value that is a number',
    body: objectWith(o => {
      o.metadata.labels.a = 1;
    }),
    pod: { deny: /metadata\.labels\.a must be a string, got the number 1/ },
    sidecar: { deny: /metadata\.labels\.a must be a string, got the number 1/ },
  },
  {
    name: 'the Sidecar name annotation a number',
    body: objectWith(o => {
      o.metadata.annotations['sidecar.v6d.io/name'] = 5;
    }),
    pod: { deny: /metadata\.annotations\["sidecar\.v6d\.io\/name"\] must be a string, got the number 5/ },
    sidecar: { deny: /must be a string, got the number 5/ },
  },
  {
    name: 'the name a number',
    body: objectWith(o => {
      o.metadata.name = 7;
    }),
    pod: { deny: /metadata\.name must be a string, got the number 7/ },
    sidecar: { deny: /metadata\.name must be a string, got the number 7/ },
  },
  {
    name: 'the name an object that breaks string conversion',
    body: objectWith(o => {
      o.metadata.name = JSON.parse('{"toString": 1, "valueOf": 1}');
    }),
    pod: { deny: /metadata\.name must be a string, got an object/ },
    sidecar: { deny: /metadata\.name must be a string, got an object/ },
  },
  // The API server encodes a pod without containers as `containers: null`: not a type error.
  {
    name: 'containers: null',
    body: objectWith(o => {
      o.spec.containers = null;
    }),
    pod: 'any',
    sidecar: 'any',
  },
  {
    name: 'containers: {}',
    body: objectWith(o => {
      o.spec.containers = {};
    }),
    pod: { deny: /spec\.containers must be a list, got an object/ },
    sidecar: 'any',
  },
  {
    name: 'containers: [null, 5, "x"]',
    body: objectWith(o => {
      o.spec.containers = [null, 5, 'x'];
    }),
    pod: { deny: /spec\.containers\[0\] must be an object, got null/ },
    sidecar: 'any',
  },
  {
    name: 'env: "x"',
    body: objectWith(o => {
      if (o.spec.containers) o.spec.containers[0].env = 'x';
    }),
    pod: { deny: /spec\.containers\[0\]\.env must be a list, got a string/ },
    sidecar: 'any',
  },
  {
    name: 'spec: []',
    body: objectWith(o => {
      o.spec = [];
    }),
    pod: { deny: /spec must be an object, got a list/ },
    sidecar: 'any',
  },
  {
    name: 'metadata: "x"',
    body: objectWith(o => {
      o.metadata = 'x';
    }),
    pod: { deny: /metadata must be an object, got a string/ },
    sidecar: { deny: /metadata must be an object, got a string/ },
  },
  {
    name: 'request.operation missing',
    body: requestWith(r => {
      delete r.operation;
    }),
    pod: { http: 400, message: /request\.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got null/ },
    sidecar: { http: 400, message: /request\.operation/ },
  },
  {
    name: 'request.kind missing',
    body: requestWith(r => {
      delete r.kind;
    }),
    pod: { http: 400, message: /request\.kind must be a \{group, version, kind\} object/ },
    sidecar: { http: 400, message: /request\.kind/ },
  },
  {
    name: 'request.name a number',
    body: requestWith(r => {
      r.name = 5;
    }),
    pod: { http: 400, message: /request\.name must be a string/ },
    sidecar: { http: 400, message: /request\.name must be a string/ },
  },
  {
    name: 'request.namespace an object',
    body: requestWith(r => {
      r.namespace = {};
    }),
    pod: { http: 400, message: /request\.namespace must be a string/ },
    sidecar: { http: 400, message: /request\.namespace/ },
  },
  {
    name: 'a huge label value the webhook reads (1 MiB)',
    body: objectWith(o => {
      o.metadata.labels['scheduling.k8s.v6d.io/vineyardd'] = 'v'.repeat(MiB);
    }),
    pod: {
      deny: /label scheduling\.k8s\.v6d\.io\/vineyardd is 1048576 characters long, more than the webhook's limit of 253/,
    },
    sidecar: 'any',
  },
  {
    name: 'a huge annotation value the webhook reads (3 MiB)',
    body: objectWith(o => {
      o.metadata.annotations['scheduling.k8s.v6d.io/required'] = 'job-a,'.repeat(MiB / 2);
    }),
    pod: {
      deny: /annotation scheduling\.k8s\.v6d\.io\/required is 3145728 characters long, more than the webhook's limit of 4096/,
    },
    sidecar: 'any',
  },
  {
    name: 'a huge container name (1 MiB)',
    body: objectWith(o => {
      o.spec.containers = [{ name: 'c'.repeat(MiB), image: 'busybox' }];
    }),
    pod: { deny: /spec\.containers\[0\]\.name is 1048576 characters long/ },
    sidecar: 'any',
  },
  {
    name: 'a huge annotation the webhook does not read (2 MiB)',
    body: objectWith(o => {
      o.metadata.annotations.note = 'n'.repeat(2 * MiB);
    }),
    pod: 'any',
    sidecar: 'any',
  },
  {
    name: 'a huge uid (1 MiB), echoed as it must be',
    body: requestWith(r => {
      r.uid = 'u'.repeat(MiB);
    }),
    pod: 'any',
    sidecar: 'any',
  },
  {
    // JSON.parse makes `__proto__` an own key; so does a spread of its result, and JSON.stringify sends it.
    name: 'a __proto__ annotation holding an object',
    body: objectWith(o => {
      o.metadata.annotations = { ...o.metadata.annotations, ...JSON.parse('{"__proto__": {"polluted": "yes"}}') };
    }),
    pod: { deny: /metadata\.annotations\.__proto__ must be a string, got an object/ },
    sidecar: { deny: /metadata\.annotations\.__proto__ must be a string/ },
  },
  {
    name: '__proto__ keys with string values',
    body: e =>
      JSON.stringify(review(e, isPod(e) ? goodPod() : goodSidecar())).replace(
        '"labels":{',
        '"labels":{"__proto__":"x","constructor":"prototype","a/b~c":"~1",',
      ),
    pod: 'any',
    sidecar: 'any',
  },
  {
    name: 'lone surrogates and control characters in strings',
    body: e =>
      JSON.stringify(review(e, isPod(e) ? goodPod() : goodSidecar())).replace(
        '"labels":{',
        '"labels":{"x":"\\ud800\\u0000\\n",',
      ),
    pod: 'any',
    sidecar: 'any',
  },
];

t.test('messages name a pod whose names are not strings without breaking', async t => {
  const name = JSON.parse('{"toString": 1, "valueOf": 1}');
  const req = {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace: 'default',
  } as const;
  t.equal(
    podDisplayName(req, { metadata: { name, generateName: name, namespace: name } } as never),
    'pod default/(unnamed)',
  );
  t.equal(podDisplayName({ ...req, name } as never, { metadata: { generateName: 'etl-' } }), 'pod default/etl-*');
  t.equal(podNamespace({ ...req, namespace: name } as never, { metadata: { namespace: name } } as never), 'default');
});

const readable = (message: unknown) => typeof message === 'string' && message.length > 20 && message.length < 2048;

async function checkAnswer(t: Test, e: Endpoint<unknown>, c: Case, body: Json | string) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const sentObject = (JSON.parse(text) as Json).request?.object;
  const r = await h1(srv, 'POST', `${e.path}?timeout=10s`, text, {}, agent);
  const expect = isPod(e) ? c.pod : c.sidecar;
  if (r.status !== 200) {
    t.ok(r.status >= 400 && r.status < 500, `HTTP ${r.status} is a 4xx`);
    t.match(r.json(), { kind: 'Status', code: r.status }, 'a Status body');
    t.ok(readable(r.json().message), `a readable message: ${r.json().message}`);
    if (typeof expect === 'object' && 'http' in expect) {
      t.equal(r.status, expect.http);
      t.match(r.json().message, expect.message);
    } else t.fail(`expected an AdmissionReview, got HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return;
  }
  const res = r.json().response;
  t.equal(res.uid, (JSON.parse(text) as Json).request.uid, 'the uid is echoed');
  if (!res.allowed) {
    t.ok(res.status.code >= 400 && res.status.code < 500, `denial code ${res.status.code} is a 4xx`);
    t.ok(readable(res.status.message), `a readable message: ${String(res.status.message).slice(0, 300)}`);
    t.notOk(res.patch, 'a denial has no patch');
  } else if (res.patch) {
    const patch = JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8'));
    t.notOk(fjp.validate(patch, structuredClone(sentObject)), 'the patch applies to the object sent');
  }
  if (expect === 'allow') t.equal(res.allowed, true, 'allowed');
  else if (typeof expect === 'object' && 'deny' in expect) {
    t.equal(res.allowed, false, 'denied');
    t.equal(res.status?.code, expect.code ?? 400);
    t.match(res.status?.message, expect.deny);
  } else if (typeof expect === 'object' && 'http' in expect)
    t.fail(`expected HTTP ${expect.http}, got an AdmissionReview`);
}

for (const c of cases) {
  t.test(c.name, async t => {
    for (const e of endpoints) {
      await t.test(e.name, async t => {
        await checkAnswer(t, e, c, c.body(e));
        // The next request on the same kept-alive connection (or a new one after a 413) is served.
        const next = await h1(
          srv,
          'POST',
          e.path,
          JSON.stringify(review(e, isPod(e) ? goodPod() : goodSidecar())),
          {},
          agent,
        );
        t.equal(next.status, 200, 'the next review is served');
        t.equal(typeof next.json().response.allowed, 'boolean');
      });
    }
    t.equal(prototypeSnapshot(), PROTOTYPES, 'no built-in prototype changed');
    t.equal(({} as Json).polluted, undefined);
  });
}
