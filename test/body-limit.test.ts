// A body over --body-limit is answered 413, and the answer reaches a client
// that is still sending: the server reads and drops the rest of the body (up
// to a bound) before it closes, so the client is not reset mid-upload with
// the answer unread.
import t from 'tap';
import tls from 'node:tls';
import { h2, h2connect, startTestServer, type TestServer } from './helpers/server.js';
import { oversizeDrainBound } from '../src/server/oversize.js';

const LIMIT = 64 * 1024;

interface RawReply {
  head: string;
  body: string;
  error?: string;
  sent: number;
}

/**
 * One HTTP/1.1 request over TLS with a body of `total` bytes, written in
 * `chunk`-byte pieces every `everyMs` (0: as fast as the socket takes them).
 * With `readLate`, nothing is read until the whole body is written (or the
 * write failed): what a client that only reads once it has sent sees.
 */
function upload(
  srv: TestServer,
  opts: { total: number; chunk: number; everyMs: number; chunked?: boolean; readLate?: boolean },
): Promise<RawReply> {
  return new Promise(resolve => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port: srv.port,
      servername: 'localhost',
      ca: srv.ca,
      ALPNProtocols: ['http/1.1'],
    });
    const got: Buffer[] = [];
    let sent = 0;
    let error: string | undefined;
    if (opts.readLate) sock.pause();
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    sock.on('close', () => {
      const text = Buffer.concat(got).toString('utf8');
      const at = text.indexOf('\r\n\r\n');
      resolve({
        head: at < 0 ? text : text.slice(0, at),
        body: at < 0 ? '' : text.slice(at + 4),
        sent,
        ...(error ? { error } : {}),
      });
    });
    sock.once('secureConnect', () => {
      sock.write(
        `POST /mutate-v1-pod HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.total}`}\r\n\r\n`,
      );
      const piece = Buffer.alloc(opts.chunk, 'x');
      const next = () => {
        if (sock.destroyed || !sock.writable) {
          sock.resume();
          return;
        }
        if (sent >= opts.total) {
          if (opts.chunked) sock.write('0\r\n\r\n');
          sock.resume();
          return;
        }
        const n = Math.min(opts.chunk, opts.total - sent);
        const data = n === opts.chunk ? piece : piece.subarray(0, n);
        sent += n;
        const ok = opts.chunked
          ? sock.write(`${n.toString(16)}\r\n`) && sock.write(data) && sock.write('\r\n')
          : sock.write(data);
        if (opts.everyMs) setTimeout(next, opts.everyMs);
        else if (ok) setImmediate(next);
        else sock.once('drain', next);
      };
      next();
    });
  });
}

const status = (r: RawReply) => Number(/^HTTP\/1\.1 (\d+)/.exec(r.head)?.[1] ?? 0);

t.test('413 reaches a client that is still sending', async t => {
  const srv = await startTestServer({ bodyLimit: LIMIT });
  t.teardown(() => srv.close());
  const cases: Array<[string, Parameters<typeof upload>[1]]> = [
    ['Content-Length, streamed slowly', { total: 2 * LIMIT, chunk: 8 * 1024, everyMs: 10 }],
    ['chunked, streamed slowly', { total: 2 * LIMIT, chunk: 8 * 1024, everyMs: 10, chunked: true }],
    [
      'Content-Length, as fast as it goes, read only after sending',
      { total: 2 * LIMIT, chunk: 16 * 1024, everyMs: 0, readLate: true },
    ],
    [
      'chunked, as fast as it goes, read only after sending',
      { total: 2 * LIMIT, chunk: 16 * 1024, everyMs: 0, chunked: true, readLate: true },
    ],
  ];
  for (const [name, opts] of cases) {
    const r = await upload(srv, opts);
    t.equal(status(r), 413, `${name}: status 413 (${r.error ?? 'no error'}, ${r.sent} bytes sent)`);
    t.match(r.body, /"code":413.*larger than the limit of 65536 bytes \(--body-limit\)/, `${name}: the Status body`);
    t.equal(r.sent, opts.total, `${name}: the whole body was taken`);
    t.match(r.head, /\r\nconnection: close/i, `${name}: the connection is not reused`);
  }
});

t.test('a body far over the limit is read only up to a bound, then the connection is closed', async t => {
  const srv = await startTestServer({ bodyLimit: LIMIT });
  t.teardown(() => srv.close());
  const bound = oversizeDrainBound(LIMIT);
  const total = 8 * bound;
  const r = await upload(srv, { total, chunk: 64 * 1024, everyMs: 0 });
  t.equal(status(r), 413, 'answered 413 first');
  t.ok(r.sent < total, `cut off before the end (${r.sent} of ${total} bytes written)`);
});

t.test('the next connection after a 413 is served', async t => {
  const srv = await startTestServer({ bodyLimit: LIMIT });
  t.teardown(() => srv.close());
  const r = await upload(srv, { total: 2 * LIMIT, chunk: 16 * 1024, everyMs: 0 });
  t.equal(status(r), 413);
  const session = h2connect(srv);
  t.teardown(() => session.destroy());
  const ok = await h2(session, 'GET', '/healthz');
  t.equal(ok.status, 200);
});

t.test('HTTP/2: the 413 reaches the client, and the session serves the next stream', async t => {
  const srv = await startTestServer({ bodyLimit: LIMIT });
  t.teardown(() => srv.close());
  const session = h2connect(srv);
  t.teardown(() => session.destroy());
  const r = await h2(session, 'POST', '/mutate-v1-pod', 'x'.repeat(2 * LIMIT));
  t.equal(r.status, 413);
  t.match(r.body, /larger than the limit/);
  t.equal((await h2(session, 'GET', '/healthz')).status, 200, 'same session, next stream');
});
