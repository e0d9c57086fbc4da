// Starts the real server (TLS, fastify, pipeline) in-process on 127.0.0.1 with
// a throwaway dev CA, and talks to it over HTTP/1.1 and HTTP/2.
import https from 'node:https';
import http2 from 'node:http2';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp, type App } from '../../src/server/app.js';
import { loadOrCreateSelfCerts } from '../../src/certs/self.js';
import { MemoryStore } from '../../src/cluster/memory-store.js';
import type { ClusterStore } from '../../src/cluster/store.js';
import { endpoints as realEndpoints } from '../../src/endpoints/table.js';
import type { Endpoint, PipelineConfig } from '../../src/admission/endpoint.js';
import { defaultPipelineConfig } from '../../src/admission/endpoint.js';
import { Metrics } from '../../src/server/metrics.js';

let certs: Promise<Awaited<ReturnType<typeof loadOrCreateSelfCerts>>> | undefined;
/** One dev CA per test process: key generation is the slow part. */
export const testCerts = () => (certs ??= loadOrCreateSelfCerts(mkdtempSync(join(tmpdir(), 'vw-certs-'))));

export interface TestServer {
  app: App;
  port: number;
  ca: string;
  store: ClusterStore;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    endpoints?: readonly Endpoint<any>[];
    store?: ClusterStore;
    config?: Partial<PipelineConfig>;
    bodyLimit?: number;
    readiness?: Array<() => string | undefined>;
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const c = await testCerts();
  const store = opts.store ?? new MemoryStore();
  const app = buildApp({
    tls: c.serving,
    endpoints: opts.endpoints ?? realEndpoints,
    store,
    config: { ...defaultPipelineConfig, ...opts.config },
    logger: opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
    metrics: new Metrics(false),
    readiness: opts.readiness,
  });
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return {
    app,
    port,
    ca: c.ca,
    store,
    close: async () => {
      for (const s of app.server.sessions) s.destroy();
      for (const s of app.server.http1Sockets) s.destroy();
      await app.fastify.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = any>(): T;
}

const reply = (status: number, headers: Reply['headers'], body: string): Reply => ({
  status,
  headers,
  body,
  json: () => JSON.parse(body),
});

/** One HTTP/1.1 request over TLS; pass an agent to reuse a kept-alive connection. */
export function h1(
  srv: { port: number; ca: string },
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  agent?: https.Agent,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: srv.port,
        method,
        path,
        ca: srv.ca,
        agent: agent ?? false,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(reply(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'))));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export function h2connect(srv: { port: number; ca: string }): http2.ClientHttp2Session {
  return http2.connect(`https://localhost:${srv.port}`, { ca: srv.ca });
}

export function h2(session: http2.ClientHttp2Session, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': method,
      ':path': path,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    });
    let status = 0;
    let headers: Reply['headers'] = {};
    const chunks: Buffer[] = [];
    stream.on('response', h => {
      status = Number(h[':status']);
      headers = h as Reply['headers'];
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(reply(status, headers, Buffer.concat(chunks).toString('utf8'))));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
    else stream.end();
  });
}

export function podReview(
  object: unknown,
  extra: Record<string, unknown> = {},
  apiVersion = 'admission.k8s.io/v1',
): string {
  return JSON.stringify({
    apiVersion,
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${Math.random().toString(36).slice(2)}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'default',
      object,
      ...extra,
    },
  });
}

/** The Sidecar and Vineyardd CRs (and namespaces) the standalone servers of the tests are seeded with. */
export const FIXTURE_RESOURCES = new URL('../fixtures/resources', import.meta.url).pathname;

/** A review of a pod in vineyard-job naming the sample Sidecar of FIXTURE_RESOURCES: it gets the sidecar. */
export const sampleSidecarPodReview = () =>
  podReview(
    {
      metadata: {
        generateName: 'w-',
        labels: { app: 'job-deployment-with-custom-sidecar', 'sidecar.v6d.io/enabled': 'true' },
        annotations: { 'sidecar.v6d.io/name': 'sidecar-sample' },
      },
      spec: { containers: [{ name: 'job', image: 'x', command: ['/bin/sh', '-c', 'python3 /job.py'] }] },
    },
    { namespace: 'vineyard-job' },
  );
