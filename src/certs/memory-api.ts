// CertApi in memory, with the API server's concurrency rules: AlreadyExists on
// create, Conflict on a stale resourceVersion, 422 on a failed JSON Patch test.
// Used by tests and by anything that wants secret mode without a cluster.
import type { V1Secret } from '@kubernetes/client-node';
import { ApiError } from '../cluster/store.js';
import { patchedCopy } from '../jsonpatch/patched-copy.js';
import { resourceOf, type CertApi, type JsonPatchOp, type WebhookConfiguration, type WebhookKind } from './api.js';

export interface ApiWrite {
  verb: 'create' | 'update' | 'patch';
  resource: string;
  name: string;
}

const clone = <T>(v: T): T => structuredClone(v);
// Each call yields to the event loop, as a network round trip would: concurrent callers interleave.
const turn = () => new Promise<void>(r => setImmediate(r));

export class MemoryCertApi implements CertApi {
  readonly secrets = new Map<string, V1Secret>();
  readonly configs = new Map<string, WebhookConfiguration>();
  readonly writes: ApiWrite[] = [];
  private version = 0;

  constructor(configs: Array<{ kind: WebhookKind; object: WebhookConfiguration }> = []) {
    for (const c of configs) this.putWebhookConfiguration(c.kind, c.object);
  }

  /** Stores a configuration as `kubectl apply` would: a new resourceVersion, no write logged. */
  putWebhookConfiguration(kind: WebhookKind, object: WebhookConfiguration): void {
    const o = clone(object);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.version) };
    this.configs.set(`${kind}/${o.metadata.name}`, o);
  }

  webhookConfiguration(kind: WebhookKind, name: string): WebhookConfiguration | undefined {
    const o = this.configs.get(`${kind}/${name}`);
    return o && clone(o);
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | null> {
    await turn();
    const s = this.secrets.get(`${namespace}/${name}`);
    return s ? clone(s) : null;
  }

  async createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    await turn();
    const name = secret.metadata!.name!;
    const key = `${namespace}/${name}`;
    if (this.secrets.has(key))
      throw new ApiError(`create secrets ${key}`, 409, 'AlreadyExists', `secrets "${name}" already exists`);
    return this.storeSecret('create', namespace, key, secret);
  }

  async replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    await turn();
    const name = secret.metadata!.name!;
    const key = `${namespace}/${name}`;
    const cur = this.secrets.get(key);
    const call = `update secrets ${key}`;
    if (!cur) throw new ApiError(call, 404, 'NotFound', `secrets "${name}" not found`);
    if (secret.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw new ApiError(
        call,
        409,
        'Conflict',
        `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return this.storeSecret('update', namespace, key, secret);
  }

  /** Stores a copy under a new resourceVersion, logs the write, and returns another copy (what the server answers). */
  private storeSecret(verb: ApiWrite['verb'], namespace: string, key: string, secret: V1Secret): V1Secret {
    const s = clone(secret);
    s.metadata = { ...s.metadata, namespace, resourceVersion: String(++this.version) };
    this.secrets.set(key, s);
    this.writes.push({ verb, resource: 'secrets', name: key });
    return clone(s);
  }

  async readWebhookConfiguration(kind: WebhookKind, name: string): Promise<WebhookConfiguration | null> {
    await turn();
    return this.webhookConfiguration(kind, name) ?? null;
  }

  async patchWebhookConfiguration(
    kind: WebhookKind,
    name: string,
    patch: JsonPatchOp[],
  ): Promise<WebhookConfiguration> {
    await turn();
    const call = `patch ${resourceOf(kind)} ${name}`;
    const cur = this.configs.get(`${kind}/${name}`);
    if (!cur)
      throw new ApiError(call, 404, 'NotFound', `${resourceOf(kind)}.admissionregistration.k8s.io "${name}" not found`);
    let next: WebhookConfiguration;
    try {
      next = patchedCopy(cur, patch as Parameters<typeof patchedCopy>[1]);
    } catch (e) {
      throw new ApiError(
        call,
        422,
        'Invalid',
        `the server rejected our request due to an error in our request: ${(e as Error).message}`,
      );
    }
    next.metadata = { ...next.metadata, resourceVersion: String(++this.version) };
    this.configs.set(`${kind}/${name}`, next);
    this.writes.push({ verb: 'patch', resource: resourceOf(kind), name });
    return clone(next);
  }
}
