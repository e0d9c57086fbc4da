// The benchmark harness (bench/): it runs end to end in a second, and it
// fails on wrong answers. Nothing here is about speed.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { makeChecker } from '../bench/check.js';
import { SCENARIOS } from '../bench/scenarios.js';
import { endpoints } from '../src/endpoints/table.js';
import { runPipeline } from '../src/admission/run.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { readManifests } from '../src/cluster/resources.js';
import { writeResources } from '../bench/scenarios.js';

const ROOT = new URL('../', import.meta.url).pathname;

const answer = (s: (typeof SCENARIOS)[number], uid: string, response: Record<string, unknown>) =>
  Buffer.from(
    JSON.stringify({ apiVersion: s.review.apiVersion, kind: 'AdmissionReview', response: { uid, ...response } }),
  );

t.test("every scenario: the webhook pipeline's own answer passes the check", async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore(await readManifests(writeResources(dir)));
  for (const s of SCENARIOS) {
    const endpoint = endpoints.find(e => e.path === s.path)!;
    const review = JSON.parse(JSON.stringify(s.review));
    const out = await runPipeline(endpoint, review.request, {
      store,
      config: { sidecarMode: 'injected', schedulerName: '' },
    });
    t.equal(makeChecker(s)(review.request.uid, 200, answer(s, review.request.uid, out.response)), undefined, s.name);
  }
});

t.test('wrong answers are caught', async t => {
  const s = SCENARIOS.find(x => x.name === 'inject-default-3k')!;
  const check = makeChecker(s);
  const noop = makeChecker(SCENARIOS.find(x => !x.patches)!);
  const b64 = (ops: unknown) => Buffer.from(JSON.stringify(ops)).toString('base64');
  const good = fjp.compare(s.review.request.object as object, { ...(s.review.request.object as object), extra: 1 });
  t.match(check('u', 500, Buffer.from('oops')), /HTTP 500/);
  t.match(check('u', 200, Buffer.from('{')), /not JSON/);
  t.match(check('u', 200, answer(s, 'other', { allowed: true })), /is not the request's u/);
  t.match(
    check(
      'u',
      200,
      Buffer.from(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1beta1',
          kind: 'AdmissionReview',
          response: { uid: 'u', allowed: true },
        }),
      ),
    ),
    /not an admission.k8s.io\/v1 AdmissionReview/,
  );
  t.match(check('u', 200, answer(s, 'u', { allowed: false, status: { code: 403 } })), /not allowed/);
  t.match(check('u', 200, answer(s, 'u', { allowed: true })), /no patch came/);
  t.match(
    check(
      'u',
      200,
      answer(s, 'u', {
        allowed: true,
        patchType: 'JSONPatch',
        patch: b64([{ op: 'replace', path: '/spec/nodeName', value: 'x' }]),
      }),
    ),
    /does not apply/,
  );
  t.match(
    check('u', 200, answer(s, 'u', { allowed: true, patchType: 'JSONPatch', patch: b64(good) })),
    /no vineyard-sidecar container/,
    'a patch that applies but misses the point',
  );
  t.match(
    noop('u', 200, answer(s, 'u', { allowed: true, patchType: 'JSONPatch', patch: b64(good) })),
    /needs no change/,
  );
  t.equal(
    makeChecker(s, { ceiling: true })('u', 200, answer(s, 'u', { allowed: true })),
    undefined,
    'the ceiling is only checked for its envelope',
  );
});

t.test(
  'npm run bench -- --quick runs end to end and writes its results',
  { skip: !existsSync(join(ROOT, 'dist/cli.js')) && 'dist/ is not built (npm test builds it)' },
  async t => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'r.json');
    const r = spawnSync(
      process.execPath,
      [
        'bench/run.js',
        '--quick',
        '--scenarios',
        'inject-default-3k',
        '--saturation',
        '0.5',
        '--duration',
        '0.5',
        '--warmup',
        '0',
        '--workers',
        '1',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    t.equal(r.status, 0, `exit 0\n${r.stdout}\n${r.stderr}`);
    t.match(r.stdout, /inject-default-3k/, 'the table names the scenario');
    const results = JSON.parse(readFileSync(out, 'utf8'));
    t.same(results.failures, []);
    t.equal(typeof results.cpus, 'number');
    t.equal(results.node, process.version);
    const sc = results.scenarios[0];
    t.ok(sc.saturation.answered > 0 && sc.fixedRate.answered > 0, 'answers were checked in both phases');
    t.ok(sc.ceiling.answered > 0, 'the ceiling ran');
    t.ok(sc.frame.answered > 0 && sc.frame.failed === 0, 'the frame ran and answered every review');
    t.equal(typeof sc.saturation.ratioToFrame, 'number', 'the webhook is set against the frame');
    t.match(r.stdout, /CPU per review at saturation[\s\S]*inject-default-3k/, 'the split of CPU per review is printed');
  },
);

t.test('the generator dials again when the server closes an idle connection', async t => {
  // Open loop, a review every 500 ms: the connection in use sits idle past this
  // server's 300 ms keep-alive timeout between reviews, as connections do past
  // the webhook's 120 s in a soak.
  const { loadOrCreateSelfCerts } = await import('../src/certs/self.js');
  const { GeneratorPool } = await import('../bench/pool.js');
  const { createServer } = await import('node:https');
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const certs = await loadOrCreateSelfCerts(join(dir, 'certs'));
  let closedIdle = 0;
  const server = createServer({ ...certs.serving }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const body = JSON.stringify({
        apiVersion: review.apiVersion,
        kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: true },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.keepAliveTimeout = 300;
  (server as unknown as { keepAliveTimeoutBuffer: number }).keepAliveTimeoutBuffer = 0; // Node 24 adds 1 s by default
  server.on('secureConnection', sock =>
    sock.on('close', () => {
      closedIdle++;
    }),
  );
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const pool = new GeneratorPool(1, 4, certs.ca);
  t.teardown(() => pool.close());
  await pool.scenario(SCENARIOS.find(x => x.name === 'inject-default-3k'));
  const port = (server.address() as { port: number }).port;
  await pool.connect(port);
  const [r] = await pool.run({ mode: 'open', port, durationMs: 2600, rate: 2, ceiling: true });
  t.ok(closedIdle > 0, `the server closed idle connections (${closedIdle})`);
  t.equal(r!.failed, 0, `no failures: ${JSON.stringify(r!.errorCounts)}`);
  t.equal(r!.answered, r!.sent, 'every review sent was answered');
  t.ok(r!.sent >= 5, `the reviews due were sent (${r!.sent})`);
});
