// The built server's logs as an operator meets them: a dead stdout stops the
// logs and nothing else; the first line says what runs and where; text on
// request; nothing calls the TLS port http://.
import t, { type Test as Tap } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FIXTURE_RESOURCES, h1, sampleSidecarPodReview } from './helpers/server.js';
import { endpoints } from '../src/endpoints/table.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const RESOURCES = FIXTURE_RESOURCES;
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

const serveArgs = (dir: string, extra: string[] = []) => [
  CLI,
  'serve',
  '--standalone',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--metrics-port',
  '0',
  '--cert-dir',
  dir,
  '--resources',
  RESOURCES,
  ...extra,
];

const review = sampleSidecarPodReview;

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const exited = (child: ChildProcess) => new Promise<number | null>(res => child.once('exit', res));

t.test('a dead stdout: the server keeps answering and exits on the first SIGTERM', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-logs-'));
  // The reader holds the only read end of the server's stdout and passes the lines on.
  const reader = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const server = spawn(process.execPath, serveArgs(dir), { stdio: ['ignore', reader.stdin!, 'pipe'] });
  reader.stdin!.destroy();
  t.teardown(() => {
    server.kill('SIGKILL');
    reader.kill('SIGKILL');
  });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });

  const port = await within(
    30_000,
    'the listening line',
    new Promise<number>((resolve, reject) => {
      createInterface({ input: reader.stdout! }).on('line', l => {
        const j = JSON.parse(l) as { msg: string; port: number };
        if (j.msg === 'vineyard-webhook listening') resolve(j.port);
      });
      server.once('exit', code => reject(new Error(`server exited ${code}: ${stderr}`)));
    }),
  );
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const srv = { port, ca };
  t.equal(
    (await h1(srv, 'POST', '/mutate-v1-pod-sidecar', review())).json().response.patchType,
    'JSONPatch',
    'a review before',
  );

  const readerGone = exited(reader);
  reader.kill('SIGKILL');
  await readerGone;

  for (let i = 0; i < 5; i++) {
    const r = await within(
      5000,
      `review ${i} after the reader died`,
      h1(srv, 'POST', '/mutate-v1-pod-sidecar', review()),
    );
    t.equal(r.json().response.patchType, 'JSONPatch', `review ${i} after the reader died is answered`);
  }
  t.equal((await within(5000, '/healthz', h1(srv, 'GET', '/healthz'))).status, 200, '/healthz answers');
  t.equal((await within(5000, '/readyz', h1(srv, 'GET', '/readyz'))).status, 200, '/readyz answers');
  t.match(
    stderr,
    /cannot write logs to file descriptor 1 \(EPIPE\): logging stopped, the server keeps serving/,
    'says once, on stderr, that logging stopped',
  );
  t.equal(stderr.match(/logging stopped/g)?.length, 1, 'once');

  const exit = exited(server);
  server.kill('SIGTERM');
  t.equal(await within(10_000, 'exit after SIGTERM', exit), 0, 'exits 0 on the first SIGTERM');
});

async function linesOf(t: Tap, args: string[]): Promise<{ lines: string[]; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vw-logs-'));
  const server = spawn(process.execPath, serveArgs(dir, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    server.kill('SIGKILL');
  });
  const lines: string[] = [];
  const port = await within(
    30_000,
    'the listening line',
    new Promise<number>((resolve, reject) => {
      createInterface({ input: server.stdout! }).on('line', l => {
        lines.push(l);
        const m = /vineyard-webhook listening/.test(l) && /\bport[=":]+(\d+)/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', code => reject(new Error(`server exited ${code}`)));
    }),
  );
  await h1({ port, ca: readFileSync(join(dir, 'ca.crt'), 'utf8') }, 'POST', '/mutate-v1-pod-sidecar', review());
  const exit = exited(server);
  server.kill('SIGTERM');
  t.equal(await exit, 0, 'exits 0 on SIGTERM');
  return { lines, port };
}

/** No line calls the TLS port http:// (fastify's own "Server listening at http://..." among them). */
function noPlainHttpForTls(t: Tap, lines: string[], port: number) {
  t.notOk(
    lines.some(l => /Server listening at/.test(l)),
    'no fastify listen line',
  );
  const plain = lines.flatMap(l => [...l.matchAll(/http:\/\/[^\s",]*?:(\d+)/g)].map(m => Number(m[1])));
  t.notOk(plain.includes(port), 'no http:// URL for the TLS port');
}

t.test(
  'JSON by default: the first line has the version, the mode and the endpoints; no http:// for the TLS port',
  async t => {
    const { lines, port } = await linesOf(t, []);
    const entries = lines.map(l => JSON.parse(l) as Record<string, unknown>);
    t.match(
      entries[0],
      {
        msg: `vineyard-webhook ${VERSION} starting`,
        version: VERSION,
        node: process.version,
        mode: 'standalone',
        certMode: 'self',
        listen: 'https://127.0.0.1:0',
        webhooks: endpoints.map(e => e.path),
      },
      'the first line',
    );
    t.match(
      entries.find(e => e.msg === 'vineyard-webhook listening'),
      { url: /^https:\/\/127\.0\.0\.1:\d+$/ },
    );
    noPlainHttpForTls(t, lines, port);
    t.equal(entries.filter(e => e.msg === 'review').length, 1, 'one line per review');
  },
);

t.test('--log-format text: local time, level names, one line per review', async t => {
  const { lines, port } = await linesOf(t, ['--log-format', 'text']);
  for (const l of lines)
    t.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (INFO |WARN |ERROR|DEBUG|FATAL|TRACE) \S/, `a text line: ${l}`);
  t.match(lines[0], ` INFO  vineyard-webhook ${VERSION} starting version=${VERSION}`);
  const reviews = lines.filter(l => / INFO  review /.test(l));
  t.equal(reviews.length, 1, 'one line per review');
  t.match(reviews[0], /decision=patched .*durationMs=/);
  noPlainHttpForTls(t, lines, port);
});
