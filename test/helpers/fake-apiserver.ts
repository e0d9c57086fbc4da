// A Kubernetes-API-like HTTP server for tests: plain HTTP on 127.0.0.1, a
// random port, and the REST semantics of kube-apiserver for any resource in
// its table (see fake-registry.ts). Code under test talks to it through a
// KubeConfig (test/helpers/kubeconfig.ts) exactly as to a real cluster.
//
// Test controls: seed and read objects (`put`, `get`, `list`), a request log
// (`requests`, `writes()`), failure injection (`fail`: answer N matching
// requests with a status, delay, hang, or reset the connection), and `close()`,
// which destroys every socket, hanging ones included; after it the port
// refuses connections.
//
//   const api = await FakeApiServer.start({ objects: [sidecar] });
//   const kc = fakeKubeConfig(api.url);
//   api.fail({ method: 'PATCH', status: 500, times: 2 });
//   ...
//   t.same(api.writes().map(r => r.method), ['PATCH']);
//   await api.close();
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { apiVersionOf, DEFAULT_RESOURCES, ResourceTable, type ResourceType } from './fake-resources.js';
import { FakeRegistry, type KubeObject } from './fake-registry.js';
import { badRequest, failure, noSuchResource, reasonFor, type Reply } from './fake-status.js';

export type { KubeObject } from './fake-registry.js';
export { BUILTIN_RESOURCES, VINEYARD_RESOURCES, DEFAULT_RESOURCES, type ResourceType } from './fake-resources.js';

export interface RecordedRequest {
  method: string;
  /** The URL path without the query. */
  path: string;
  query: Record<string, string>;
  /** Media type without parameters, e.g. `application/merge-patch+json`. */
  contentType: string | undefined;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the raw text when it is not JSON, undefined without a body. */
  body: unknown;
  /** The status answered; undefined while pending, hung, or reset. */
  status?: number;
  /** The client closed the connection before the answer (abort, timeout). */
  aborted: boolean;
  /** Which TCP connection carried it (1 for the first the server accepted). */
  connection: number;
}

export interface FaultSpec {
  /** Only requests with this method (any when unset). */
  method?: string;
  /** Only this exact path, or paths the pattern matches (any when unset). */
  path?: string | RegExp;
  /** How many matching requests to affect; default 1, `Infinity` for a storm. */
  times?: number;
  /** Answer with this status and a Status body instead of serving the request. */
  status?: number;
  /** Status reason; defaults to the API server's reason for the code. */
  reason?: string;
  message?: string;
  /** Answer this text as text/plain instead of a Status (a proxy's error page). */
  rawBody?: string;
  /** Wait this long before answering (with `status`, or by serving the request). */
  delayMs?: number;
  /** Never answer; the socket stays open until the client gives up or close(). */
  hang?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
}

export interface Fault {
  /** Requests this fault has answered so far. */
  readonly hits: number;
  remove(): void;
}

export interface FakeApiServerOptions {
  /** Objects present from the start (see `put`). */
  objects?: readonly KubeObject[];
  /** Resource types served; default: common built-ins plus the Vineyard CRDs. */
  resources?: readonly ResourceType[];
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

interface ActiveFault {
  spec: FaultSpec;
  left: number;
  hits: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class FakeApiServer {
  /** Every request in arrival order; `requests.length = 0` forgets them. */
  readonly requests: RecordedRequest[] = [];
  readonly table: ResourceTable;
  private readonly registry: FakeRegistry;
  private readonly faults: ActiveFault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly socketIds = new WeakMap<Socket, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly finished = new Map<RecordedRequest, Promise<void>>();
  private readonly waiters: { match: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }[] = [];
  private closed = false;
  private listening = 0;
  private accepted = 0;

  private constructor(
    private readonly server: Server,
    opts: FakeApiServerOptions,
  ) {
    this.table = new ResourceTable(opts.resources ?? DEFAULT_RESOURCES);
    this.registry = new FakeRegistry(this.table);
    for (const o of opts.objects ?? []) this.put(o);
    server.on('connection', s => {
      this.socketIds.set(s, ++this.accepted);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req, res) => void this.onRequest(req, res));
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = createServer();
    const fake = new FakeApiServer(server, opts);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.listening = (server.address() as AddressInfo).port;
    return fake;
  }

  /** Stays valid after close(), when the port refuses connections. */
  get port(): number {
    return this.listening;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** TCP connections accepted so far: tells whether a client reuses connections. */
  get connections(): number {
    return this.accepted;
  }

  /** The requests that change something (POST, PUT, PATCH, DELETE), dry runs included. */
  writes(): RecordedRequest[] {
    return this.requests.filter(r => WRITE_METHODS.has(r.method));
  }

  /** Resolves with the next request `match` accepts (already logged ones do not count). */
  nextRequest(match: (r: RecordedRequest) => boolean = () => true): Promise<RecordedRequest> {
    return new Promise(resolve => this.waiters.push({ match, resolve }));
  }

  /** Resolves once the server has answered `req` or its client has gone away. */
  settled(req: RecordedRequest): Promise<void> {
    return this.finished.get(req) ?? Promise.resolve();
  }

  /** Stores an object (overwriting), assigning uid, creationTimestamp and a new resourceVersion. */
  put<T extends KubeObject>(obj: T): T {
    return this.registry.seed(obj) as T;
  }

  get<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined {
    return this.registry.find(this.type(ref.apiVersion, ref.kind), ref.namespace, ref.name) as T | undefined;
  }

  list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace?: string): T[] {
    return this.registry.list(this.type(apiVersion, kind), namespace) as T[];
  }

  delete(ref: ObjectRef): boolean {
    return this.registry.remove(this.type(ref.apiVersion, ref.kind), ref.namespace, ref.name);
  }

  /** The latest resourceVersion handed out (one counter for every write). */
  get resourceVersion(): string {
    return this.registry.resourceVersion;
  }

  private type(apiVersion: string, kind: string): ResourceType {
    const t = this.table.byKind(apiVersion, kind);
    if (!t) throw new Error(`fake API server: no resource type for ${apiVersion} ${kind}`);
    return t;
  }

  fail(spec: FaultSpec): Fault {
    const f: ActiveFault = { spec, left: spec.times ?? 1, hits: 0 };
    this.faults.push(f);
    return {
      get hits() {
        return f.hits;
      },
      remove: () => {
        const i = this.faults.indexOf(f);
        if (i >= 0) this.faults.splice(i, 1);
      },
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const done = new Promise<void>(resolve => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await done;
  }

  private takeFault(method: string, path: string): FaultSpec | undefined {
    const f = this.faults.find(
      ({ spec, left }) =>
        left > 0 &&
        (!spec.method || spec.method.toUpperCase() === method) &&
        (spec.path === undefined || (typeof spec.path === 'string' ? spec.path === path : spec.path.test(path))),
    );
    if (!f) return undefined;
    f.left--;
    f.hits++;
    return f.spec;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away while sending
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let badJson = false;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type']?.split(';')[0]!.trim().toLowerCase(),
      headers: req.headers,
      body,
      aborted: false,
      connection: this.socketIds.get(req.socket) ?? 0,
    };
    this.requests.push(rec);
    this.finished.set(
      rec,
      new Promise(resolve =>
        res.on('close', () => {
          if (!res.writableFinished) rec.aborted = true;
          resolve();
        }),
      ),
    );
    for (const w of this.waiters.filter(w => w.match(rec))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(rec);
    }

    const fault = this.takeFault(rec.method, rec.path);
    if (fault?.delayMs) await this.sleep(fault.delayMs);
    if (this.closed || res.destroyed) return;
    if (fault?.hang) return;
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.rawBody !== undefined) {
      rec.status = fault.status ?? 502;
      res.writeHead(rec.status, { 'content-type': 'text/plain' }).end(fault.rawBody);
      return;
    }
    if (
      !fault?.status &&
      !badJson &&
      rec.method === 'GET' &&
      url.searchParams.has('watch') &&
      url.searchParams.get('watch') !== 'false'
    ) {
      const target = this.table.parse(rec.path.length > 1 ? rec.path.replace(/\/+$/, '') : rec.path);
      if (target && target.name === undefined && !target.subresource) {
        rec.status = 200;
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        const stop = this.registry.watch(target, url.searchParams, e => res.write(`${JSON.stringify(e)}\n`));
        res.on('close', stop);
        return;
      }
    }
    const reply = fault?.status
      ? failure(
          fault.status,
          fault.reason ?? reasonFor(fault.status),
          fault.message ?? `injected failure: ${fault.status}`,
          {},
        )
      : badJson
        ? badRequest('the body of the request is not valid JSON')
        : this.route(rec, url);
    rec.status = reply.status;
    if (typeof reply.body === 'string') res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body);
    else res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  }

  private route(rec: RecordedRequest, url: URL): Reply {
    const path = rec.path.length > 1 ? rec.path.replace(/\/+$/, '') : rec.path;
    if (rec.method === 'GET') {
      const discovery = this.discovery(path);
      if (discovery) return discovery;
    }
    const target = this.table.parse(path);
    if (!target) return noSuchResource();
    return this.registry.handle({
      method: rec.method,
      path: target,
      query: url.searchParams,
      contentType: rec.contentType ?? '',
      body: rec.body,
    });
  }

  /** The read-only endpoints clients use as a readiness ping or for discovery. */
  private discovery(path: string): Reply | undefined {
    const types = this.table.all();
    switch (path) {
      case '/version':
        return { status: 200, body: { major: '1', minor: '33', gitVersion: 'v1.33.0-fake', platform: 'linux/amd64' } };
      case '/healthz':
      case '/readyz':
      case '/livez':
        return { status: 200, body: 'ok' };
      case '/api':
        return {
          status: 200,
          body: {
            kind: 'APIVersions',
            versions: ['v1'],
            serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
          },
        };
      case '/apis': {
        const groups = [...new Map(types.filter(t => t.group).map(t => [t.group, t])).values()].map(t => {
          const gv = { groupVersion: apiVersionOf(t), version: t.version };
          return { name: t.group, versions: [gv], preferredVersion: gv };
        });
        return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups } };
      }
    }
    const gv =
      path === '/api/v1' ? 'v1' : /^\/apis\/[^/]+\/[^/]+$/.test(path) ? path.slice('/apis/'.length) : undefined;
    const served = types.filter(t => apiVersionOf(t) === gv);
    if (!gv || served.length === 0) return undefined;
    const resources = served.map(t => ({
      name: t.plural,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
    }));
    return { status: 200, body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources } };
  }
}

/** A URL where nothing listens: requests to it are refused. */
export async function unusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
