// `self` mode's certificate directory: reused while good, re-issued when not,
// and never overwritten when a file is there but cannot be read.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { loadOrCreateSelfCerts } from '../src/certs/self.js';

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'self-certs-')), 'certs');

t.test('a first start issues a CA and a serving pair; the next reuses them', async t => {
  const dir = freshDir();
  const first = await loadOrCreateSelfCerts(dir);
  t.equal(first.reused, false);
  for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) t.ok(existsSync(join(dir, f)), `${f} written`);
  const second = await loadOrCreateSelfCerts(dir);
  t.equal(second.reused, true);
  t.equal(second.serving.cert, first.serving.cert);
});

t.test('a SAN the serving certificate lacks: a new serving pair from the same CA', async t => {
  const dir = freshDir();
  const first = await loadOrCreateSelfCerts(dir);
  const next = await loadOrCreateSelfCerts(dir, ['webhook.example.internal']);
  t.equal(next.reused, false);
  t.equal(next.ca, first.ca, 'the CA is kept');
  t.match(new X509Certificate(next.serving.cert).subjectAltName ?? '', /DNS:webhook\.example\.internal/);
});

t.test('a CA key that exists but cannot be read stops the start; the CA is not replaced', async t => {
  const dir = freshDir();
  await loadOrCreateSelfCerts(dir);
  const caBefore = readFileSync(join(dir, 'ca.crt'), 'utf8');
  // A symlink loop: the file is there, reading it fails (ELOOP), even as root.
  // A new SAN makes the start issue a serving pair, which needs the CA key.
  const loop = join(dir, 'ca.key');
  rmSync(loop);
  symlinkSync(loop, loop);
  await t.rejects(
    loadOrCreateSelfCerts(dir, ['another.example.internal']),
    /cannot read .*ca\.key: .*remove it to have a new one issued/,
  );
  t.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), caBefore, 'ca.crt untouched');
});
