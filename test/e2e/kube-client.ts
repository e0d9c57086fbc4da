// The suite's own API client: plain REST over HTTPS with a bearer token, so a
// test says exactly which request it makes (dryRun, generateName, raw status
// answers) and the webhook's client is never the thing under test twice.
import https from 'node:https';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [field: string]: any;
}

export interface KubeList<T = KubeObject> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export interface RawReply {
  status: number;
  body: string;
}

/** A Status answer from the API server, kept whole so tests can assert on its message. */
export class KubeStatusError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      /* not JSON */
    }
    super(`${method} ${path}: ${status} ${message}`);
  }
}

/** The REST path of a resource: core (`v1`) or a group version (`apps/v1`). */
export function resourcePath(apiVersion: string, resource: string, namespace?: string, name?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${resource}${name ? `/${name}` : ''}`;
}

export class KubeClient {
  private readonly agent: https.Agent;

  constructor(
    readonly url: string,
    private readonly ca: string,
    private readonly token: string,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca });
  }

  raw(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RawReply> {
    const payload =
      body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.url}${path}`,
        {
          method,
          agent: this.agent,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer in 60s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async request<T = KubeObject>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.raw(method, path, body, contentType);
    if (r.status < 200 || r.status > 299) throw new KubeStatusError(method, path, r.status, r.body);
    return JSON.parse(r.body) as T;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** null on 404. */
  async find<T = KubeObject>(path: string): Promise<T | null> {
    const r = await this.raw('GET', path);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new KubeStatusError('GET', path, r.status, r.body);
    return JSON.parse(r.body) as T;
  }

  list<T = KubeObject>(path: string, labelSelector?: string): Promise<KubeList<T>> {
    return this.get<KubeList<T>>(labelSelector ? `${path}?labelSelector=${encodeURIComponent(labelSelector)}` : path);
  }

  create<T = KubeObject>(path: string, obj: unknown, opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('POST', opts.dryRun ? `${path}?dryRun=All` : path, obj);
  }

  update<T = KubeObject>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('PUT', path, obj);
  }

  mergePatch<T = KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  async delete(path: string, gracePeriodSeconds = 0): Promise<void> {
    const r = await this.raw('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds });
    if (r.status !== 200 && r.status !== 202 && r.status !== 404)
      throw new KubeStatusError('DELETE', path, r.status, r.body);
  }

  /** Creates an object from its own apiVersion/kind; `resource` is the plural. */
  apply<T = KubeObject>(obj: KubeObject, resource: string): Promise<T> {
    return this.create<T>(resourcePath(obj.apiVersion!, resource, obj.metadata?.namespace), obj);
  }

  close(): void {
    this.agent.destroy();
  }
}
