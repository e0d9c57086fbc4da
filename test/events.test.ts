// Kubernetes Events and the skip/denial metrics: which event an admission
// leaves (pure), and the real server recording them through the API (a fake
// API server) without ever changing or holding up the admission answer.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import fc from 'fast-check';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { AdmissionRequest, JsonObject } from '../src/admission/types.js';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import type { ClusterStore } from '../src/cluster/store.js';
import { endpoints } from '../src/endpoints/table.js';
import { admissionEvent, defaultPipelineConfig } from '../src/admission/endpoint.js';
import { EVENT_MESSAGE_LIMIT, EVENT_REASONS, truncateUtf8 } from '../src/endpoints/pod/events.js';
import { denied, runPipeline, type Outcome } from '../src/admission/run.js';
import { buildApp } from '../src/server/app.js';
import { EventRecorder } from '../src/server/event-recorder.js';
import { Metrics } from '../src/server/metrics.js';
import * as names from '../src/vineyard/names.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { h1, podReview, testCerts } from './helpers/server.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';

const NS = 'vineyard-job';
const RS = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: 'job-deployment-55664458f8',
  uid: '3c1e1a2b-6f1e-4a9a-9a57-0c2b8d1f4e11',
  controller: true,
  blockOwnerDeletion: true,
};
const byName = (name: string) => endpoints.find(e => e.name === name)!;
const sidecar = byName('sidecar');
const NOW = new Date('2026-03-01T12:34:56.789Z');

function pod(
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
  owners: unknown[] = [RS],
): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'job-deployment-55664458f8-',
      namespace: NS,
      labels,
      annotations,
      ownerReferences: owners,
    },
    spec: { containers: [{ name: 'job', image: 'busybox', command: ['/bin/sh', '-c', 'python3 /job.py'] }] },
  } as JsonObject;
}
const injectable = (
  annotations: Record<string, string> = { [names.SIDECAR_NAME_ANNOTATION]: 'default' },
  owners?: unknown[],
) => pod({ app: 'job-deployment', [names.SIDECAR_ENABLED_LABEL]: 'true' }, annotations, owners);

function request(object: JsonObject, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace: NS,
    object,
    dryRun: false,
    ...extra,
  };
}

async function decide(
  endpointName: string,
  req: AdmissionRequest,
  store: ClusterStore = new MemoryStore(),
): Promise<{ outcome: Outcome; event?: CoreV1Event }> {
  const endpoint = byName(endpointName);
  const outcome = await runPipeline(endpoint, req, { store, config: defaultPipelineConfig });
  return {
    outcome,
    event: admissionEvent({ endpoint, request: req, outcome, now: NOW, instance: 'vineyard-webhook-7f9-abcde' }),
  };
}

t.test('which event an admission leaves', async t => {
  await t.test('injected: SidecarInjected on the controller, a valid core/v1 event', async t => {
    const { outcome, event } = await decide('sidecar', request(injectable()));
    t.equal(outcome.decision, 'patched');
    t.match(event, {
      metadata: { generateName: `${RS.name}.`, namespace: NS },
      involvedObject: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: RS.name, uid: RS.uid, namespace: NS },
      reason: EVENT_REASONS.injected,
      type: 'Normal',
      source: { component: 'vineyard-webhook' },
      count: 1,
      reportingComponent: 'vineyard-webhook',
      reportingInstance: 'vineyard-webhook-7f9-abcde',
    });
    t.equal(
      event!.message,
      `Injected the Vineyard sidecar into pod ${NS}/job-deployment-55664458f8-* from Sidecar ${NS}/app-job-deployment-default-sidecar (container mode)`,
    );
    t.same(event!.firstTimestamp, new Date('2026-03-01T12:34:56Z'), 'whole seconds, as metav1.Time');
    t.same(event!.lastTimestamp, event!.firstTimestamp);
    // core/v1 validation (kube-apiserver legacyValidateEvent) without eventTime:
    // the event's namespace is the involved object's.
    t.equal(event!.eventTime, undefined, 'no eventTime: the core/v1 shape');
    t.equal(event!.metadata.namespace, event!.involvedObject.namespace);
  });

  await t.test('a pod without a controller: the event is about its Namespace, in that namespace', async t => {
    const notController = [{ ...RS, controller: false }];
    const { event } = await decide('sidecar', request(injectable(undefined, notController)));
    t.same(event!.involvedObject, { apiVersion: 'v1', kind: 'Namespace', name: NS, namespace: NS });
    t.equal(event!.metadata.namespace, NS);
  });

  await t.test(
    'skipped: label not "true" gives InjectionSkipped with the reason; an injected pod gives none',
    async t => {
      const { event } = await decide('sidecar', request(pod({ app: 'x', [names.SIDECAR_ENABLED_LABEL]: 'false' })));
      t.equal(event?.reason, EVENT_REASONS.skipped);
      t.equal(event?.type, 'Normal');
      t.match(event?.message, `label ${names.SIDECAR_ENABLED_LABEL} is not "true"`);

      const injected = await decide(
        'sidecar',
        request(injectable({ [names.SIDECAR_STATUS_ANNOTATION]: '{"sidecar":"s","mode":"container"}' })),
      );
      t.equal(injected.outcome.decision, 'allowed');
      t.equal(injected.event, undefined, 'a reinvocation of an injected pod is no news');
    },
  );

  await t.test('denied: AdmissionDenied (Warning) with the message, from any pod endpoint', async t => {
    const { outcome, event } = await decide(
      'sidecar',
      request(injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'nope' })),
    );
    t.equal(outcome.response.allowed, false);
    t.equal(event?.reason, EVENT_REASONS.denied);
    t.equal(event?.type, 'Warning');
    t.match(
      event?.message,
      `/mutate-v1-pod-sidecar denied pod ${NS}/job-deployment-55664458f8-*: ${outcome.response.status!.message}`,
    );
    t.equal(event?.involvedObject.kind, 'ReplicaSet');

    const op = await decide(
      'operation',
      request(pod({ app: 'x', [names.ASSEMBLY_ENABLED_LABEL]: 'true', [names.ASSEMBLY_TYPE_LABEL]: 'bogus' })),
    );
    t.equal(op.outcome.response.allowed, false);
    t.equal(op.event?.reason, EVENT_REASONS.denied, 'the operation endpoint too');
  });

  await t.test("none for dry runs, other operations, other endpoints' successes, Sidecar CRs", async t => {
    t.equal((await decide('sidecar', request(injectable(), { dryRun: true }))).event, undefined, 'dry run (injected)');
    t.equal(
      (await decide('sidecar', request(injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'nope' }), { dryRun: true })))
        .event,
      undefined,
      'dry run (denied)',
    );
    t.equal(
      (await decide('sidecar', request(injectable(), { operation: 'UPDATE', oldObject: injectable() }))).event,
      undefined,
      'UPDATE',
    );
    const scheduled = await decide(
      'scheduling',
      request(pod({ app: 'x', [names.VINEYARDD_LABEL]: 'vineyardd-sample' })),
    );
    t.equal(scheduled.outcome.decision, 'patched');
    t.equal(scheduled.event, undefined, 'scheduling patches are not announced');
    const cr = {
      apiVersion: 'k8s.v6d.io/v1alpha1',
      kind: 'Sidecar',
      metadata: { name: 's', namespace: NS },
      spec: { replicas: -1 },
    };
    const validate = byName('sidecar-validate');
    const req = request(cr as JsonObject, { kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' } });
    const outcome = await runPipeline(validate, req, { store: new MemoryStore(), config: defaultPipelineConfig });
    t.equal(outcome.response.allowed, false);
    t.equal(
      admissionEvent({ endpoint: validate, request: req, outcome, now: NOW, instance: 'i' }),
      undefined,
      "a Sidecar CR's author sees the denial",
    );
  });

  await t.test('messages are cut to 1 KiB', async t => {
    const long = denied(403, `x${'é'.repeat(2000)}`);
    const event = admissionEvent({
      endpoint: sidecar,
      request: request(injectable()),
      outcome: long,
      now: NOW,
      instance: 'i',
    })!;
    t.ok(Buffer.byteLength(event.message!) <= EVENT_MESSAGE_LIMIT, 'at most 1024 bytes');
    t.ok(event.message!.endsWith('é...'), 'cut between characters, marked');
  });
});

t.test('truncateUtf8 keeps a prefix within the limit, never splitting a character', async () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 3, max: 400 }), (s, limit) => {
      const out = truncateUtf8(s, limit);
      if (Buffer.byteLength(s) <= limit) return out === s;
      const kept = out.slice(0, -3);
      return (
        Buffer.byteLength(out) <= limit &&
        out.endsWith('...') &&
        s.startsWith(kept) &&
        Buffer.from(kept).toString() === kept
      );
    }),
  );
});

t.test('skip reasons', async t => {
  const cases: Array<[string, AdmissionRequest, string | undefined]> = [
    ['sidecar', request(pod({ app: 'x' })), 'not-enabled'],
    ['sidecar', request(injectable({ [names.SIDECAR_STATUS_ANNOTATION]: '{}' })), 'already-injected'],
    [
      'sidecar',
      request(injectable(), { operation: 'DELETE', object: null, oldObject: injectable() }),
      'operation-not-handled',
    ],
    ['sidecar', request(injectable()), undefined],
    ['scheduling', request(pod({ app: 'x' })), 'no-vineyardd-label'],
    ['operation', request(pod({ app: 'x' })), undefined],
    [
      'sidecar-default',
      request({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', metadata: { name: 's' } } as JsonObject, {
        kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' },
      }),
      undefined,
    ],
  ];
  for (const [name, req, expected] of cases) {
    const { outcome } = await decide(name, req);
    t.equal(outcome.skip?.reason, expected, `${name} ${req.operation}: ${expected ?? 'no skip'}`);
  }
  const first = pod({ app: 'x' });
  const { outcome } = await decide('operation', request(first));
  t.equal(outcome.decision, 'patched');
  const again = request(patchedCopy(first, outcome.patch));
  t.equal(
    (await decide('operation', again)).outcome.skip?.reason,
    'nothing-to-change',
    'a pod that already has it all',
  );
});

// ---- through the real server, against a fake API server ----

interface Server {
  url: { port: number; ca: string };
  metrics: Metrics;
  events: EventRecorder;
  close(): Promise<void>;
}

async function startServer(
  t: Test,
  api: FakeApiServer,
  events: { timeoutMs?: number; maxInFlight?: number } = {},
): Promise<Server> {
  const c = await testCerts();
  const metrics = new Metrics(false);
  const app = buildApp({
    tls: c.serving,
    endpoints,
    store: createKubeStore(fakeKubeConfig(api.url)),
    config: defaultPipelineConfig,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    bodyLimit: 4 * 1024 * 1024,
    metrics,
    events: { instance: 'replica-1', ...events },
  });
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  let closing: Promise<void> | undefined;
  const server: Server = {
    url: { port: (app.server.address() as { port: number }).port, ca: c.ca },
    metrics,
    events: app.events!,
    close: () =>
      (closing ??= (async () => {
        for (const s of app.server.sessions) s.destroy();
        for (const s of app.server.http1Sockets) s.destroy();
        await app.fastify.close();
      })()),
  };
  t.teardown(() => server.close());
  return server;
}

const SIDECAR_SAMPLE = {
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'sidecar-sample', namespace: NS },
  spec: { replicas: 1, selector: 'app=etl' },
};
const EVENTS_PATH = `/api/v1/namespaces/${NS}/events`;

async function review(srv: Server, object: JsonObject, extra: Record<string, unknown> = {}) {
  const r = await h1(
    srv.url,
    'POST',
    '/mutate-v1-pod-sidecar?timeout=10s',
    podReview(object, { namespace: NS, ...extra }),
  );
  if (r.status !== 200) throw new Error(`review answered ${r.status}: ${r.body}`);
  const { uid: _uid, ...response } = r.json().response as Record<string, unknown>;
  return response;
}

const metric = (srv: Server, name: string) => srv.metrics.registry.getSingleMetricAsString(name);

t.test('the server records events through the Kubernetes API', async t => {
  const api = await FakeApiServer.start({ objects: [SIDECAR_SAMPLE] as never });
  t.teardown(() => api.close());
  const srv = await startServer(t, api);
  // As stored: JSON, so timestamps are strings.
  const recorded = () =>
    api.list('v1', 'Event', NS) as unknown as Array<Omit<CoreV1Event, 'metadata'> & { metadata: { name: string } }>;

  await t.test('injected: SidecarInjected on the ReplicaSet', async t => {
    const res = await review(srv, injectable());
    t.equal(res.allowed, true);
    await srv.events.settled();
    const [event, ...more] = recorded();
    t.same(more, [], 'one event');
    t.match(event, {
      reason: 'SidecarInjected',
      type: 'Normal',
      involvedObject: { kind: 'ReplicaSet', name: RS.name, uid: RS.uid, namespace: NS },
    });
    t.match(event!.metadata.name, new RegExp(`^${RS.name}\\.[a-z0-9]+$`), 'named by the API server from generateName');
    const post = api.requests.find(r => r.method === 'POST' && r.path === EVENTS_PATH)!;
    t.equal(post.status, 201);
    t.ok(
      api.get({
        apiVersion: 'k8s.v6d.io/v1alpha1',
        kind: 'Sidecar',
        namespace: NS,
        name: 'app-job-deployment-default-sidecar',
      }),
      'and the default Sidecar was created',
    );
  });

  await t.test('skipped: InjectionSkipped', async t => {
    await review(srv, pod({ app: 'x', [names.SIDECAR_ENABLED_LABEL]: 'false' }));
    await srv.events.settled();
    t.match(
      recorded().filter(e => e.reason === 'InjectionSkipped'),
      [{ type: 'Normal', message: /is not "true"/ }],
    );
    t.match(
      await metric(srv, 'vineyard_webhook_injection_skipped_total'),
      'vineyard_webhook_injection_skipped_total{webhook="sidecar",reason="not-enabled"} 1',
    );
  });

  await t.test('denied: AdmissionDenied with the message', async t => {
    const res = (await review(srv, injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'nope' }))) as {
      status: { message: string };
    };
    await srv.events.settled();
    const [event, ...more] = recorded().filter(e => e.reason === 'AdmissionDenied');
    t.same(more, [], 'one');
    t.match(event, { type: 'Warning', involvedObject: { kind: 'ReplicaSet' } });
    t.ok(event!.message!.endsWith(res.status.message), 'the denial message');
    t.match(
      await metric(srv, 'vineyard_webhook_denials_total'),
      'vineyard_webhook_denials_total{webhook="sidecar",code="403",reason="rejected"} 1',
    );
    const sent = await metric(srv, 'vineyard_webhook_events_total');
    for (const reason of ['SidecarInjected', 'InjectionSkipped', 'AdmissionDenied'])
      t.match(sent, `{reason="${reason}",result="sent"} 1`);
  });

  await t.test('dry run: no event', async t => {
    const before = api.requests.length;
    const res = await review(srv, injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' }), { dryRun: true });
    t.equal(res.allowed, true);
    const denial = await review(srv, injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'nope' }), { dryRun: true });
    t.equal(denial.allowed, false);
    await srv.events.settled();
    t.same(
      api.requests.slice(before).filter(r => r.path === EVENTS_PATH),
      [],
      'no event request',
    );
  });

  await t.test('an API failure denial is counted as api-error', async t => {
    api.fail({ method: 'GET', path: new RegExp(`/sidecars/sidecar-sample$`), status: 500 });
    const res = await review(srv, injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' }));
    t.equal(res.allowed, false);
    t.match(
      await metric(srv, 'vineyard_webhook_denials_total'),
      'vineyard_webhook_denials_total{webhook="sidecar",code="503",reason="api-error"} 1',
    );
    await srv.events.settled();
  });
});

t.test('a failing events API changes nothing in the admission answer', async t => {
  const api = await FakeApiServer.start({ objects: [SIDECAR_SAMPLE] as never });
  t.teardown(() => api.close());
  const srv = await startServer(t, api);
  const custom = injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' });

  const baseline = await review(srv, custom);
  await srv.events.settled();
  t.equal(baseline.allowed, true);
  t.ok(baseline.patch, 'injected');

  api.fail({ method: 'POST', path: EVENTS_PATH, status: 500, times: 2 });
  // Another workload's pod: a new Event, not a repeat of the first one's.
  const other = injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' }, [
    { ...RS, name: 'other-rs', uid: 'other-uid' },
  ]);
  t.same(await review(srv, other), baseline, '500 from the events API: the same answer');
  const denial = await review(srv, injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'nope' }));
  t.equal(denial.allowed, false, 'a denial is still a denial');
  await srv.events.settled();
  const counted = await metric(srv, 'vineyard_webhook_events_total');
  for (const line of [
    '{reason="SidecarInjected",result="sent"} 1',
    '{reason="SidecarInjected",result="failed"} 1',
    '{reason="AdmissionDenied",result="failed"} 1',
  ])
    t.match(counted, line);
});

t.test('a hanging events API neither delays the answer nor piles up', async t => {
  const api = await FakeApiServer.start({ objects: [SIDECAR_SAMPLE] as never });
  t.teardown(() => api.close());
  const srv = await startServer(t, api, { maxInFlight: 1 });
  const custom = injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' });
  api.fail({ method: 'POST', path: EVENTS_PATH, hang: true, times: Infinity });

  const eventRequest = api.nextRequest(r => r.method === 'POST' && r.path === EVENTS_PATH);
  const first = await review(srv, custom);
  t.equal(first.allowed, true, 'answered');
  const hung = await eventRequest;
  t.equal(hung.status, undefined, 'while its event is still unanswered');
  t.equal(srv.events.pending, 1);

  const second = await review(
    srv,
    injectable({ [names.SIDECAR_NAME_ANNOTATION]: 'sidecar-sample' }, [{ ...RS, name: 'other-rs', uid: 'other-uid' }]),
  );
  t.same(second, first, "the next review (another workload's pod) is answered the same");
  t.equal(srv.events.pending, 1, 'its event was dropped: one in flight at most');

  await srv.close();
  await api.settled(hung);
  t.equal(hung.aborted, true, 'shutdown gives up the hanging event');
  const counted = await metric(srv, 'vineyard_webhook_events_total');
  t.match(counted, '{reason="SidecarInjected",result="dropped"} 1');
  t.match(counted, '{reason="SidecarInjected",result="failed"} 1');
});

/** The Event of a pod the sidecar webhook denied. */
const deniedEvent = () =>
  admissionEvent({
    endpoint: sidecar,
    request: request(injectable()),
    outcome: denied(403, 'no'),
    now: NOW,
    instance: 'i',
  })!;

/** A logger at warn level and the lines it wrote. */
function warningLog() {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void warnings.push(s) });
  return { logger, warnings };
}

t.test('an event the API never answers is given up after the timeout', async t => {
  const { logger, warnings } = warningLog();
  const results: string[] = [];
  const never = {
    createEvent: (_ns: string, _e: CoreV1Event, opts?: { signal?: AbortSignal }) =>
      new Promise<void>((_resolve, reject) =>
        opts?.signal?.addEventListener('abort', () => reject(opts.signal!.reason as Error)),
      ),
  } as unknown as ClusterStore;
  const rec = new EventRecorder({ store: never, logger, timeoutMs: 20, onResult: (_e, r) => results.push(r) });
  rec.record(deniedEvent());
  await rec.settled();
  t.same(results, ['failed']);
  t.match(
    JSON.parse(warnings[0]!),
    { msg: 'could not record event', err: 'no answer within 20 ms', reason: 'AdmissionDenied' },
    'logged',
  );
});

t.test('the recorder never throws, even when the store does', async t => {
  const { logger, warnings } = warningLog();
  const results: string[] = [];
  const throwing = {
    createEvent: () => {
      throw new Error('sync boom');
    },
  } as unknown as ClusterStore;
  const rec = new EventRecorder({ store: throwing, logger, onResult: (_e, r) => results.push(r) });
  const event = deniedEvent();
  t.doesNotThrow(() => rec.record(event));
  rec.record(undefined);
  await rec.settled();
  t.same(results, ['failed']);
  t.match(JSON.parse(warnings[0]!), { msg: 'could not record event', err: 'sync boom' }, 'logged');
  await rec.close();
  rec.record(event);
  t.same(results, ['failed', 'dropped'], 'after close, events are dropped');
});

// ---- aggregation ----

t.test('identical events are aggregated: one create, then count updates at most once per flush interval', async t => {
  const store = new MemoryStore();
  const results: string[] = [];
  const rec = new EventRecorder({
    store,
    logger: pino({ level: 'silent' }),
    flushMs: 50,
    onResult: (_e, r) => results.push(r),
  });
  const event = deniedEvent();
  for (let i = 0; i < 200; i++) rec.record({ ...event, lastTimestamp: new Date(NOW.getTime() + i * 1000) });
  await rec.settled();
  t.equal(store.events.length, 1, 'one Event');
  t.equal(store.events[0]!.count, 200, 'counting every occurrence');
  t.same(store.events[0]!.lastTimestamp, new Date(NOW.getTime() + 199_000), 'lastTimestamp of the last one');
  t.same(store.events[0]!.firstTimestamp, event.firstTimestamp, 'firstTimestamp of the first one');
  t.match(
    store.events[0]!.metadata.name,
    /^job-deployment-55664458f8\.[0-9a-f]{16}$/,
    "a name of the recorder's own, not generateName",
  );
  const writes = store.writes.map(w => w.verb);
  t.ok(writes.length <= 3, `a handful of writes for 200 events (${writes.join(', ')})`);
  t.equal(results.filter(r => r === 'sent').length, 1);
  t.equal(results.filter(r => r === 'aggregated').length, 199);

  // Later repeats raise the same Event's count.
  rec.record(event);
  await rec.settled();
  t.equal(store.events.length, 1);
  t.equal(store.events[0]!.count, 201);
});

t.test('different messages or objects are different Events; one object is rate limited', async t => {
  const store = new MemoryStore();
  const results: string[] = [];
  const rec = new EventRecorder({
    store,
    logger: pino({ level: 'silent' }),
    burst: 3,
    refillMs: 60_000,
    onResult: (_e, r) => results.push(r),
  });
  const event = deniedEvent();
  for (let i = 0; i < 5; i++) rec.record({ ...event, message: `denied ${i}` });
  rec.record({ ...event, involvedObject: { ...event.involvedObject, name: 'other', uid: 'other-uid' } });
  await rec.settled();
  t.equal(store.events.length, 4, 'three about the first object (its burst), one about the other');
  t.equal(results.filter(r => r === 'sent').length, 4);
  t.equal(results.filter(r => r === 'dropped').length, 2, 'the rest dropped, not queued');
});

t.test('an Event the API server let expire is created again', async t => {
  const store = new MemoryStore();
  const rec = new EventRecorder({ store, logger: pino({ level: 'silent' }), flushMs: 10 });
  const event = deniedEvent();
  rec.record(event);
  await rec.settled();
  store.events.length = 0;
  rec.record(event);
  await rec.settled();
  t.equal(store.events.length, 0, 'the count update found no Event');
  rec.record(event);
  await rec.settled();
  t.equal(store.events.length, 1, 'the next one creates a new Event');
  t.equal(store.events[0]!.count, 1);
});
