// The server's log destination batches lines per turn of the event loop: none
// may be lost or reordered, not even when the process exits right after
// logging.
import t from 'tap';
import { spawnSync } from 'node:child_process';

const DEST = new URL('../dist/log-destination.js', import.meta.url).href;
const PINO = import.meta.resolve('pino');

function runChild(body: string) {
  const script = `import { pino } from ${JSON.stringify(PINO)};
import { BatchedDestination } from ${JSON.stringify(DEST)};
const log = pino({ base: null, timestamp: false }, new BatchedDestination(1));
${body}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

const lines = (stdout: string) => stdout.trim().split('\n').map(l => JSON.parse(l).n);

t.test('lines come out in order, across many turns of the event loop', async t => {
  const r = runChild(`for (let i = 0; i < 3000; i++) { log.info({ n: i }); if (i % 7 === 0) await new Promise(r => setImmediate(r)); }`);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), Array.from({ length: 3000 }, (_, i) => i));
});

t.test('lines logged just before process.exit are written', async t => {
  const r = runChild(`for (let i = 0; i < 500; i++) log.info({ n: i }); process.exit(3);`);
  t.equal(r.status, 3);
  t.same(lines(r.stdout), Array.from({ length: 500 }, (_, i) => i));
});

t.test('flush() hands over what is pending', async t => {
  const r = runChild(`log.info({ n: 0 }); await new Promise(r => log.flush(r)); log.info({ n: 1 }); log.flush();`);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), [0, 1]);
});
