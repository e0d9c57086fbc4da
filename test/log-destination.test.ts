// The server's log destination: no line lost or reordered while the reader
// keeps up, and never a blocked or dead server when it does not (a closed
// descriptor, a reader that stopped reading).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';

const DEST = new URL('../dist/log-destination.js', import.meta.url).href;
const FORMAT = new URL('../dist/log-format.js', import.meta.url).href;
const PINO = import.meta.resolve('pino');

const script = (body: string) => `import { pino } from ${JSON.stringify(PINO)};
import { LogDestination } from ${JSON.stringify(DEST)};
${body}`;

function runChild(body: string) {
  return spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script(`const log = pino({ base: null, timestamp: false }, new LogDestination(1));\n${body}`),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map(l => JSON.parse(l).n);

t.test('lines come out in order, across many turns of the event loop', async t => {
  const r = runChild(
    `for (let i = 0; i < 3000; i++) { log.info({ n: i }); if (i % 7 === 0) await new Promise(r => setImmediate(r)); }`,
  );
  t.equal(r.status, 0, r.stderr);
  t.same(
    lines(r.stdout),
    Array.from({ length: 3000 }, (_, i) => i),
  );
});

t.test('lines logged just before process.exit are written', async t => {
  const r = runChild(`for (let i = 0; i < 500; i++) log.info({ n: i }); process.exit(3);`);
  t.equal(r.status, 3);
  t.same(
    lines(r.stdout),
    Array.from({ length: 500 }, (_, i) => i),
  );
});

t.test('flush() calls back once what was logged is written', async t => {
  const r = runChild(`log.info({ n: 0 }); await new Promise(r => log.flush(r)); log.info({ n: 1 }); log.flush();`);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), [0, 1]);
});

t.test('a closed descriptor (EBADF) stops logging, once, and nothing else', async t => {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script(`
const stops = [];
const dest = new LogDestination(99, { onStop: (err) => stops.push(err.code) });
const log = pino({ base: null }, dest);
log.info('one');
await new Promise(r => setTimeout(r, 100));
log.info('two');
const drained = await dest.drained(1000);
let ticks = 0;
await new Promise(r => { const i = setInterval(() => { if (++ticks === 3) { clearInterval(i); r(); } }, 5); });
process.stderr.write(JSON.stringify({ stops, stopped: dest.stopped, drained, ticks }));
log.info('three');
process.exit(0);`),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  t.equal(r.status, 0, 'exits: the exit handler does not retry a dead descriptor');
  t.same(JSON.parse(r.stderr), { stops: ['EBADF'], stopped: true, drained: true, ticks: 3 });
});

t.test(
  'a reader that stops reading: lines past the bound are dropped, the event loop keeps running, exit is not held',
  async t => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script(`
const dest = new LogDestination(1, { maxQueuedChars: 256 * 1024 });
const log = pino({ base: null }, dest);
const pad = 'x'.repeat(1000);
let lateMs = 0;
for (let i = 0; i < 2000; i++) {
  log.info({ i, pad });
  const at = Date.now();
  await new Promise(r => setTimeout(r, 1));
  lateMs = Math.max(lateMs, Date.now() - at);
}
const drained = await dest.drained(300);
process.stderr.write(JSON.stringify({ dropped: dest.dropped, drained, lateMs }));
process.exit(0);`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Never read: the pipe fills and stays full.
    child.stdout!.pause();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    const code = await new Promise<number | null>(resolve => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 30_000);
      child.once('exit', c => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdout!.destroy();
    t.equal(code, 0, `exits on its own: ${stderr}`);
    const r = JSON.parse(stderr) as { dropped: number; drained: boolean; lateMs: number };
    t.ok(r.dropped > 0, `lines past the bound were dropped (${r.dropped})`);
    t.equal(r.drained, false, 'drained() gives up instead of waiting for the reader');
    t.ok(r.lateMs < 1000, `no timer was held up by logging (worst ${r.lateMs} ms)`);
  },
);

t.test('text format: local time, level name, message, key=value; the stack only for errors', async t => {
  const { formatText } = (await import(FORMAT)) as typeof import('../src/log-format.js');
  const time = new Date(2025, 0, 2, 3, 4, 5, 6).getTime();
  t.equal(
    formatText(
      JSON.stringify({
        level: 30,
        time,
        service: 'vineyard-webhook',
        msg: 'review',
        uid: 'u-1',
        decision: 'patched',
        name: 'a b',
        dryRun: false,
        patchOps: 3,
      }),
    ),
    '2025-01-02 03:04:05.006 INFO  review uid=u-1 decision=patched name="a b" dryRun=false patchOps=3\n',
  );
  t.equal(
    formatText(JSON.stringify({ level: 40, time, msg: 'slow', err: { message: 'boom', stack: 'Error: boom\n at x' } })),
    '2025-01-02 03:04:05.006 WARN  slow err=boom\n',
  );
  t.equal(
    formatText(
      JSON.stringify({ level: 50, time, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }),
    ),
    '2025-01-02 03:04:05.006 ERROR failed err=boom\n    Error: boom\n    at x\n',
  );
  t.equal(formatText('not json\n'), 'not json\n');
});
