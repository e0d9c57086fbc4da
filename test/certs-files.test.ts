// files mode: a pair written by someone else (cert-manager through a mounted
// Secret), reloaded when the kubelet swaps the volume's `..data` symlink, and
// never replaced by a half-written or mismatched pair.
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { issueCa, issueServing, type KeyPairPem } from '../src/certs/issue.js';
import { filesInDir, startFilesMode, type FilesCertSource } from '../src/certs/files-mode.js';
import type { TlsMaterial } from '../src/server/tls-server.js';

const DAY = 86_400_000;
// The source's watchers and timers are unref'd (they must not keep a server alive);
// this keeps the test process alive while it waits for them.
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));
const ca = await issueCa('files-test-ca', { validityMs: 30 * DAY });
const pairA = await issueServing(ca, { commonName: 'a.test', sans: ['a.test'], validityMs: DAY });
const pairB = await issueServing(ca, { commonName: 'b.test', sans: ['b.test'], validityMs: DAY });

/** A logger whose lines a test can wait for: event-driven, no sleeps. */
function capturingLogger() {
  const lines: Array<{ msg: string; err?: string }> = [];
  const waiters: Array<{ match: RegExp; resolve: () => void }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      const line = JSON.parse(String(chunk));
      lines.push(line);
      for (const w of [...waiters])
        if (w.match.test(`${line.msg} ${line.err ?? ''}`)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      done();
    },
  });
  return {
    log: pino({ level: 'info' }, stream),
    lines,
    next: (match: RegExp) => new Promise<void>(resolve => waiters.push({ match, resolve })),
  };
}

const nextChange = (src: FilesCertSource) => new Promise<TlsMaterial>(resolve => src.onChange(resolve));

/** The layout the kubelet's atomic writer makes: files are symlinks through `..data` into a timestamped directory. */
async function kubeletVolume(t: Test, pair: KeyPairPem) {
  const dir = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let generation = 0;
  const publish = async (p: KeyPairPem) => {
    const data = `..2030_01_01_00_00_0${++generation}`;
    await mkdir(join(dir, data));
    await writeFile(join(dir, data, 'tls.crt'), p.cert);
    await writeFile(join(dir, data, 'tls.key'), p.key);
    await writeFile(join(dir, data, 'ca.crt'), ca.cert);
    await symlink(data, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await publish(pair);
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', f), join(dir, f));
  return { dir, publish };
}

t.test('a kubelet symlink swap is picked up without a restart', async t => {
  const { dir, publish } = await kubeletVolume(t, pairA);
  const { log } = capturingLogger();
  const src = await startFilesMode({ ...filesInDir(dir), log, debounceMs: 20 });
  t.teardown(() => src.close());
  t.equal(src.current().cert, pairA.cert);
  t.equal(src.notReady(), undefined);
  const changed = nextChange(src);
  await publish(pairB);
  const m = await changed;
  t.equal(m.cert, pairB.cert);
  t.equal(m.key, pairB.key);
  t.equal(src.current().cert, pairB.cert);
});

t.test('a half-written certificate is rejected and the old pair kept', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'tls.crt'), pairA.cert);
  await writeFile(join(dir, 'tls.key'), pairA.key);
  const { log, next } = capturingLogger();
  const src = await startFilesMode({ ...filesInDir(dir), log, debounceMs: 20 });
  t.teardown(() => src.close());

  const rejected = next(/rejected.*not a usable pair/);
  await writeFile(join(dir, 'tls.crt'), pairB.cert.slice(0, pairB.cert.length / 2));
  await rejected;
  t.equal(src.current().cert, pairA.cert, 'still serving the old pair');

  const changed = nextChange(src);
  await writeFile(join(dir, 'tls.crt'), pairB.cert);
  await writeFile(join(dir, 'tls.key'), pairB.key);
  t.equal((await changed).cert, pairB.cert, 'the complete pair is taken');
});

t.test('a certificate with the key of another is rejected', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'tls.crt'), pairA.cert);
  await writeFile(join(dir, 'tls.key'), pairA.key);
  const { log } = capturingLogger();
  const src = await startFilesMode({ ...filesInDir(dir), log, debounceMs: 20 });
  t.teardown(() => src.close());
  await writeFile(join(dir, 'tls.crt'), pairB.cert);
  const r = await src.reload();
  t.match(r, { rejected: /does not belong to the certificate/ });
  t.equal(src.current().cert, pairA.cert);
});

t.test('--tls-cert-file and --tls-key-file in separate directories are both watched', async t => {
  const root = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'crt'));
  await mkdir(join(root, 'key'));
  const certFile = join(root, 'crt', 'serving.pem');
  const keyFile = join(root, 'key', 'serving-key.pem');
  await writeFile(certFile, pairA.cert);
  await writeFile(keyFile, pairA.key);
  const { log, next } = capturingLogger();
  const src = await startFilesMode({ certFile, keyFile, log, debounceMs: 20 });
  t.teardown(() => src.close());
  // Certificate first: until its key follows, the pair is mismatched and refused.
  const rejected = next(/rejected/);
  await writeFile(certFile, pairB.cert);
  await rejected;
  t.equal(src.current().cert, pairA.cert);
  const changed = nextChange(src);
  await writeFile(keyFile, pairB.key);
  t.equal((await changed).cert, pairB.cert);
});

t.test('no files at start: the error names the files and the fix', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { log } = capturingLogger();
  await t.rejects(
    startFilesMode({ ...filesInDir(dir), log, startTimeoutMs: 0 }),
    /--cert-mode files: cannot read the certificate pair: .*tls\.(crt|key).*Mount the Secret/s,
  );
});

t.test('files that appear shortly after start are waited for', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { log, next } = capturingLogger();
  const firstMiss = next(/rejected/);
  const starting = startFilesMode({ ...filesInDir(dir), log, debounceMs: 20, startTimeoutMs: 60_000 });
  await firstMiss;
  await writeFile(join(dir, 'tls.key'), pairA.key);
  await writeFile(join(dir, 'tls.crt'), pairA.cert);
  const src = await starting;
  t.teardown(() => src.close());
  t.equal(src.current().cert, pairA.cert);
});

t.test('startServer --cert-mode files: a swapped Secret volume is served without a restart', async t => {
  const https = await import('node:https');
  const { parseServeArgs } = await import('../src/config.js');
  const { startServer } = await import('../src/serve.js');
  const { dir, publish } = await kubeletVolume(t, pairA);
  const cfg = {
    ...parseServeArgs(
      ['--standalone', '--cert-mode', 'files', '--cert-dir', dir, '--host', '127.0.0.1', '--log-level', 'silent'],
      {},
    ),
    port: 0,
    metricsPort: 0,
  };
  const running = await startServer(cfg, pino({ level: 'silent' }));
  t.teardown(() => running.shutdown());
  const peer = (servername: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: running.port, path: '/healthz', servername, ca: ca.cert, agent: false },
          res => {
            const cn = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN;
            res.resume();
            res.on('end', () => resolve(String(cn)));
          },
        )
        .on('error', reject);
    });
  t.equal(await peer('a.test'), 'a.test');
  const changed = new Promise(r => running.certs.onChange(r));
  await publish(pairB);
  await changed;
  t.equal(await peer('b.test'), 'b.test', 'the new pair is served on new connections');
});
