// Every fixture directory is a test, run three ways that must agree: the
// pipeline called directly, the real HTTPS server sent an AdmissionReview
// whose object carries managedFields as the API server sends it, and the
// mutate CLI's pod admission (pod CREATEs that are not dry runs, on pod
// endpoints). Each gives expected.yaml (or the expected denial) and exactly
// the warnings of expected-warnings.txt; its output sent through again gives
// no patch (reinvocation).
import t, { type Test } from 'tap';
import https from 'node:https';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { endpoints } from '../src/endpoints/table.js';
import { runPipeline } from '../src/admission/run.js';
import type { Endpoint } from '../src/admission/endpoint.js';
import type { AdmissionReview, JsonObject } from '../src/admission/types.js';
import type { PatchOperation } from '../src/admission/mutator.js';
import { admitPod } from '../src/cli/mutate/admit-pod.js';
import type { PodWebhook } from '../src/cli/mutate/pod-webhooks.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import {
  fixtureDirs,
  fixtureLayoutProblems,
  fixtureStore,
  loadFixture,
  withManagedFields,
  withoutManagedFields,
  writeExpected,
  writeExpectedWarnings,
  type Fixture,
} from './helpers/fixtures.js';
import { h1, startTestServer } from './helpers/server.js';

const update = process.env.UPDATE_FIXTURES === '1';

/** What a review came to, however it was sent: what the three paths must agree on. */
interface Result {
  allowed: boolean;
  /** The object after the patch, when allowed. */
  object?: unknown;
  denial?: { code: number | undefined; message: string };
  warnings: string[];
}

async function viaPipeline(t: Test, endpoint: Endpoint, fx: Fixture): Promise<Result> {
  const store = fixtureStore(fx.resources);
  const deps = { store, config: fx.config };
  const req = fx.review.request;
  const out = await runPipeline(endpoint, req, deps);
  const warnings = out.response.warnings ?? [];
  if (!out.response.allowed) {
    t.same(out.patch, [], 'a denial carries no patch');
    return {
      allowed: false,
      denial: { code: out.response.status?.code, message: out.response.status?.message ?? '' },
      warnings,
    };
  }
  t.equal(!!out.response.patch, out.patch.length > 0, 'patch field only with a change');
  t.equal(!!out.response.patchType, out.patch.length > 0, 'patchType only with a patch');
  // Validation on: the combined patch must apply to the object as sent.
  const object = patchedCopy(req.object, out.patch);
  const writes = store.writes.length;
  const second = await runPipeline(endpoint, { ...req, uid: `${req.uid}-again`, object: object as JsonObject }, deps);
  t.equal(second.response.allowed, true, 'reinvocation allowed');
  t.same(second.patch, [], 'reinvocation gives no patch');
  t.equal(store.writes.length, writes, 'reinvocation writes nothing');
  return { allowed: true, object, warnings };
}

async function viaServer(t: Test, endpoint: Endpoint, fx: Fixture): Promise<Result> {
  const srv = await startTestServer({ store: fixtureStore(fx.resources), config: fx.config });
  const agent = new https.Agent({ keepAlive: true });
  try {
    const sent = fx.review.request.object;
    const request = { ...fx.review.request, object: withManagedFields(sent) };
    if (request.oldObject) request.oldObject = withManagedFields(request.oldObject);
    const review: AdmissionReview = { ...fx.review, request };
    const post = async (body: AdmissionReview) => {
      const r = await h1(srv, 'POST', endpoint.path, JSON.stringify(body), {}, agent);
      t.equal(r.status, 200, `HTTP 200 (${r.body.slice(0, 200)})`);
      const answer = r.json();
      t.equal(answer.apiVersion, body.apiVersion, "the review's apiVersion");
      t.equal(answer.response?.uid, body.request.uid, "the request's uid");
      return answer.response as {
        allowed: boolean;
        patch?: string;
        patchType?: string;
        status?: { code?: number; message?: string };
        warnings?: string[];
      };
    };
    const res = await post(review);
    const warnings = res.warnings ?? [];
    if (!res.allowed) {
      t.equal(res.patch, undefined, 'a denial carries no patch');
      return { allowed: false, denial: { code: res.status?.code, message: res.status?.message ?? '' }, warnings };
    }
    const patch =
      res.patch === undefined
        ? []
        : (JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as PatchOperation[]);
    t.equal(res.patchType, patch.length ? 'JSONPatch' : undefined, 'patchType only with a patch');
    const object = patchedCopy(request.object, patch);
    t.same(
      (object as { metadata?: { managedFields?: unknown } } | null)?.metadata?.managedFields,
      (request.object as { metadata?: { managedFields?: unknown } } | null)?.metadata?.managedFields,
      'managedFields left as they were',
    );
    const again = await post({
      ...review,
      request: { ...request, uid: `${request.uid}-again`, object: object as JsonObject },
    });
    t.equal(again.allowed, true, 'reinvocation allowed');
    t.equal(again.patch, undefined, 'reinvocation gives no patch');
    return { allowed: true, object: withoutManagedFields(object, sent), warnings };
  } finally {
    agent.destroy();
    await srv.close();
  }
}

/** Whether the mutate CLI would admit this fixture's object: only pods, only as created for real. */
const cliApplies = (endpoint: Endpoint, fx: Fixture): boolean => {
  const req = fx.review.request;
  const obj = req.object as { apiVersion?: unknown; kind?: unknown } | null;
  return (
    endpoint.expects.group === '' &&
    endpoint.expects.kind === 'Pod' &&
    req.operation === 'CREATE' &&
    !req.dryRun &&
    obj?.apiVersion === 'v1' &&
    obj.kind === 'Pod'
  );
};

async function viaCli(t: Test, endpoint: Endpoint, fx: Fixture): Promise<Result> {
  // This endpoint's webhook alone and without selectors: the fixture is about
  // the endpoint, and mutate-cli.test.ts covers the selectors.
  const hook: PodWebhook = { name: `${endpoint.name}.fixtures`, path: endpoint.path, reinvocationPolicy: 'IfNeeded' };
  const deps = { store: fixtureStore(fx.resources), config: fx.config, webhooks: [hook] };
  const namespace = fx.review.request.namespace ?? 'default';
  const pod = fx.review.request.object as JsonObject;
  const first = await admitPod(pod, namespace, {}, deps);
  t.same(first.calls, [hook.name], 'the webhook is called once');
  if (first.denial) {
    t.same(first.pod, pod, 'a denied pod is not changed');
    return {
      allowed: false,
      denial: { code: first.denial.code, message: first.denial.message },
      warnings: first.warnings,
    };
  }
  const again = await admitPod(first.pod, namespace, {}, deps);
  t.equal(again.denial, undefined, 'reinvocation allowed');
  t.same(again.pod, first.pod, 'reinvocation changes nothing');
  return { allowed: true, object: first.pod, warnings: first.warnings };
}

t.test('test/fixtures/ holds only what this runner reads', async t => {
  t.same(fixtureLayoutProblems({ updating: update }), [], 'no unknown directory or file, every case complete');
});

t.test('a misspelled or unknown fixture entry is reported', async t => {
  const root = mkdtempSync(join(tmpdir(), 'vw-fixtures-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text = 'x: 1\n') => {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const name = endpoints[0]!.name;
  write(`${name}/good/request.yaml`);
  write(`${name}/good/expected.yaml`);
  write(`${name}/typo/request.yaml`);
  write(`${name}/typo/expected-warning.txt`);
  write(`${name}/typo/expected.yaml`);
  write(`${name}/incomplete/request.yaml`);
  write(`${name}/both/request.yaml`);
  write(`${name}/both/expected.yaml`);
  write(`${name}/both/expected-denial.txt`);
  write(`${name}/stray.yaml`);
  write(`${name}x/case/request.yaml`);
  write('samples/review.json', '{}');
  const problems = fixtureLayoutProblems({ root });
  t.same(
    problems.map(p => p.split(':')[0]),
    [
      `test/fixtures/${name}/both`,
      `test/fixtures/${name}/incomplete`,
      `test/fixtures/${name}/stray.yaml`,
      `test/fixtures/${name}/typo/expected-warning.txt`,
      `test/fixtures/${name}x`,
    ],
    problems.join('\n'),
  );
  t.same(
    fixtureLayoutProblems({ root, updating: true }).length,
    4,
    'UPDATE_FIXTURES may write a missing expected.yaml',
  );
});

for (const endpoint of endpoints) {
  t.test(endpoint.name, async t => {
    const dirs = fixtureDirs(endpoint.name);
    t.ok(dirs.length > 0, `test/fixtures/${endpoint.name}/ holds cases`);
    for (const dir of dirs) {
      t.test(basename(dir), async t => {
        const fx = loadFixture(endpoint, dir);
        const pipeline = await viaPipeline(t, endpoint, fx);
        if (update) {
          if (pipeline.allowed && fx.expectedDenial === undefined) writeExpected(dir, pipeline.object);
          writeExpectedWarnings(dir, pipeline.warnings);
        } else {
          if (fx.expectedDenial !== undefined) {
            t.equal(pipeline.allowed, false, 'denied');
            t.match(pipeline.denial?.message ?? '', fx.expectedDenial, 'denial message');
          } else {
            t.equal(pipeline.allowed, true, `allowed (${pipeline.denial?.message ?? ''})`);
            t.same(pipeline.object, fx.expected, 'patched object is expected.yaml');
          }
          t.strictSame(pipeline.warnings, fx.expectedWarnings, 'exactly the warnings of expected-warnings.txt');
        }
        t.test('through the HTTPS server, managedFields stamped in', async t => {
          t.strictSame(await viaServer(t, endpoint, fx), pipeline, "the pipeline's answer");
        });
        if (cliApplies(endpoint, fx)) {
          t.test('through the mutate CLI', async t => {
            // The CLI reports each warning once, as the API server does.
            t.strictSame(
              await viaCli(t, endpoint, fx),
              { ...pipeline, warnings: [...new Set(pipeline.warnings)] },
              "the pipeline's answer",
            );
          });
        }
      });
    }
  });
}
