// The listening socket: TLS only, HTTP/2 by ALPN with HTTP/1.1 fallback (what
// kube-apiserver speaks), keep-alive above the API server's 90 s idle timeout
// so it never posts onto a connection we are closing.
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

const KEEP_ALIVE_MS = 120_000;

export interface TlsMaterial {
  key: string;
  cert: string;
}

export type WebhookServer = http2.Http2SecureServer & {
  /** Sockets of HTTP/1.1 connections, so a drain can close the idle ones. */
  http1Sockets: Set<Socket>;
  sessions: Set<http2.ServerHttp2Session>;
};

export function tlsOptions(m: TlsMaterial): SecureContextOptions {
  return { key: m.key, cert: m.cert, minVersion: 'TLSv1.2' };
}

export function createTlsServer(
  material: TlsMaterial,
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
): WebhookServer {
  const server = http2.createSecureServer(
    { ...tlsOptions(material), allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] },
    handler,
  ) as WebhookServer;
  // allowHTTP1 hands HTTP/1.1 sockets to Node's http1 machinery, which reads these.
  const s = server as unknown as { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number };
  s.keepAliveTimeout = KEEP_ALIVE_MS;
  s.headersTimeout = 60_000;
  s.requestTimeout = 60_000;
  server.http1Sockets = new Set();
  server.sessions = new Set();
  server.on('secureConnection', sock => {
    if (sock.alpnProtocol === 'h2') return;
    server.http1Sockets.add(sock);
    sock.once('close', () => server.http1Sockets.delete(sock));
  });
  server.on('session', session => {
    server.sessions.add(session);
    session.setTimeout(KEEP_ALIVE_MS, () => session.close());
    session.once('close', () => server.sessions.delete(session));
  });
  return server;
}
