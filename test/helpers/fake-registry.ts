// The fake API server's storage and REST semantics: get, list by label
// selector, create (AlreadyExists, generateName), update (optimistic
// concurrency on resourceVersion), merge / strategic / JSON patch, delete and
// dryRun, with one resourceVersion counter for every write as in etcd.
import { randomUUID } from 'node:crypto';
import type { Operation } from 'fast-json-patch';
import { matchesSelector, parseSelector } from '../../src/cluster/label-selector.js';
import { isObject } from '../../src/json.js';
import { patchedCopy } from '../../src/jsonpatch/patched-copy.js';
import { apiVersionOf, type ResourcePath, type ResourceTable, type ResourceType } from './fake-resources.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  deleted,
  methodNotAllowed,
  nameRequired,
  notFound,
  noSuchResource,
  patchRejected,
  unsupportedMediaType,
  type Reply,
} from './fake-status.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  [k: string]: unknown;
}
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [k: string]: unknown;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

export interface RegistryRequest {
  method: string;
  path: ResourcePath;
  query: URLSearchParams;
  contentType: string;
  body: unknown;
}

const clone = <T>(v: T): T => structuredClone(v);
const timestamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** RFC 7386: null deletes, objects merge, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Everything but metadata and status: a change there bumps metadata.generation. */
const specOf = (o: KubeObject): string => JSON.stringify({ ...o, metadata: undefined, status: undefined });

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const nameSuffix = (): string =>
  Array.from({ length: 5 }, () => NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)]).join('');

export class FakeRegistry {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;

  constructor(
    readonly table: ResourceTable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The latest resourceVersion handed out. */
  get resourceVersion(): string {
    return String(this.version);
  }

  private key(t: ResourceType, ns: string | undefined, name: string): string {
    return `${t.group}/${t.plural}/${t.namespaced ? (ns ?? '') : ''}/${name}`;
  }

  find(t: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(t, ns, name));
    return o && clone(o);
  }

  /** Every stored object of a type, in one namespace or all, in etcd key order. */
  list(t: ResourceType, ns?: string): KubeObject[] {
    const prefix = `${t.group}/${t.plural}/${ns !== undefined && t.namespaced ? `${ns}/` : ''}`;
    return [...this.objects.keys()]
      .filter(k => k.startsWith(prefix))
      .sort()
      .map(k => clone(this.objects.get(k)!));
  }

  /** Stores an object as a test fixture: overwrites, keeps uid/creationTimestamp if given. */
  seed(obj: KubeObject): KubeObject {
    const t = this.table.byKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!t)
      throw new Error(`fake API server: no resource type for ${obj.apiVersion} ${obj.kind}; add it with resources`);
    const name = obj.metadata?.name;
    if (!name) throw new Error(`fake API server: ${obj.kind} to seed has no metadata.name`);
    const o = clone(obj);
    const meta = (o.metadata ??= {});
    if (t.namespaced) meta.namespace ??= 'default';
    else delete meta.namespace;
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= timestamp(this.now());
    meta.generation ??= 1;
    return this.store(t, o);
  }

  remove(t: ResourceType, ns: string | undefined, name: string): boolean {
    const key = this.key(t, ns, name);
    const gone = this.objects.get(key);
    if (!gone) return false;
    this.objects.delete(key);
    this.notify('DELETED', t, gone);
    return true;
  }

  private store(t: ResourceType, o: KubeObject): KubeObject {
    o.metadata!.resourceVersion = String(++this.version);
    const key = this.key(t, o.metadata!.namespace, o.metadata!.name!);
    const existed = this.objects.has(key);
    this.objects.set(key, o);
    this.notify(existed ? 'MODIFIED' : 'ADDED', t, o);
    return clone(o);
  }

  /** Open watches: each is told of every later change of its type, namespace and labels. */
  private readonly watchers = new Set<{
    type: ResourceType;
    namespace?: string;
    labels: ReturnType<typeof parseSelector>;
    fields: ReturnType<typeof parseSelector>;
    send: (event: WatchEvent) => void;
  }>();

  /**
   * A watch from now on (the fake keeps no history: a resourceVersion is
   * accepted and ignored). Returns the function that ends it.
   */
  /** A field selector is applied to each event (an object leaving the selection is not turned into a DELETED, as kube-apiserver does). */
  watch(p: ResourcePath, query: URLSearchParams, send: (event: WatchEvent) => void): () => void {
    const w = {
      type: p.type,
      namespace: p.namespace,
      labels: parseSelector(query.get('labelSelector') ?? ''),
      fields: parseSelector(query.get('fieldSelector') ?? ''),
      send,
    };
    this.watchers.add(w);
    return () => {
      this.watchers.delete(w);
    };
  }

  private notify(type: WatchEvent['type'], t: ResourceType, o: KubeObject): void {
    for (const w of this.watchers) {
      if (w.type !== t || (w.namespace !== undefined && w.namespace !== o.metadata?.namespace)) continue;
      if (!matchesSelector(w.labels, o.metadata?.labels ?? {}) || !matchesSelector(w.fields, fieldsOf(o))) continue;
      w.send({ type, object: clone(o) });
    }
  }

  handle(req: RegistryRequest): Reply {
    const { path, query, method } = req;
    if (path.subresource) return noSuchResource();
    const dry = query.getAll('dryRun');
    if (dry.some(v => v !== 'All'))
      return badRequest(`dryRun: Unsupported value: "${dry.find(v => v !== 'All')}": supported values: "All"`);
    const dryRun = dry.length > 0;
    const name = path.name;
    switch (method) {
      case 'GET':
        return name === undefined ? this.doList(path, query) : this.doGet(path, name);
      case 'POST':
        return name === undefined && (path.namespace !== undefined || !path.type.namespaced)
          ? this.doCreate(path, req.body, dryRun)
          : methodNotAllowed();
      case 'PUT':
        return name === undefined ? methodNotAllowed() : this.doUpdate(path, name, req.body, dryRun);
      case 'PATCH':
        return name === undefined ? methodNotAllowed() : this.doPatch(path, name, req.contentType, req.body, dryRun);
      case 'DELETE':
        return name === undefined ? methodNotAllowed() : this.doDelete(path, name, dryRun);
      default:
        return methodNotAllowed();
    }
  }

  private doGet(p: ResourcePath, name: string): Reply {
    const o = this.find(p.type, p.namespace, name);
    return o ? { status: 200, body: o } : notFound(p.type, name);
  }

  private doList(p: ResourcePath, query: URLSearchParams): Reply {
    const labels = parseSelector(query.get('labelSelector') ?? '');
    const fields = parseSelector(query.get('fieldSelector') ?? '');
    const unsupported = unsupportedField(p.type, fields);
    if (unsupported) return badRequest(unsupported);
    const items = this.list(p.type, p.namespace)
      .filter(o => matchesSelector(labels, o.metadata?.labels ?? {}))
      .filter(o => matchesSelector(fields, fieldsOf(o)))
      .map(o => {
        // Built-in types are listed without their own kind/apiVersion; custom resources keep them.
        if (!p.type.custom) {
          delete o.apiVersion;
          delete o.kind;
        }
        return o;
      });
    return {
      status: 200,
      body: {
        kind: `${p.type.kind}List`,
        apiVersion: apiVersionOf(p.type),
        metadata: { resourceVersion: this.resourceVersion },
        items,
      },
    };
  }

  /** Checks a create/update body against the URL: the object to store, or the failure to answer. */
  private checkBody(p: ResourcePath, body: unknown): { obj: KubeObject } | { error: Reply } {
    const fail = (error: Reply) => ({ error });
    if (!isObject(body)) return fail(badRequest('the body of the request must be a JSON object'));
    const o = clone(body) as KubeObject;
    const apiVersion = apiVersionOf(p.type);
    if (o.apiVersion !== undefined && o.apiVersion !== apiVersion)
      return fail(
        badRequest(
          `the API version in the data (${o.apiVersion}) does not match the expected API version (${apiVersion})`,
        ),
      );
    if (o.kind !== undefined && o.kind !== p.type.kind)
      return fail(badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${p.type.kind})`));
    o.apiVersion = apiVersion;
    o.kind = p.type.kind;
    const meta = (o.metadata = isObject(o.metadata) ? o.metadata : {});
    if (p.type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== p.namespace) {
        return fail(
          badRequest('the namespace of the provided object does not match the namespace sent on the request'),
        );
      }
      meta.namespace = p.namespace;
    } else delete meta.namespace;
    return { obj: o };
  }

  private doCreate(p: ResourcePath, body: unknown, dryRun: boolean): Reply {
    const checked = this.checkBody(p, body);
    if ('error' in checked) return checked.error;
    const obj = checked.obj;
    const meta = obj.metadata!;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + nameSuffix();
    if (!meta.name) return nameRequired(p.type);
    if (this.objects.has(this.key(p.type, p.namespace, meta.name))) return alreadyExists(p.type, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.now());
    meta.generation = 1;
    delete meta.resourceVersion;
    if (dryRun) return { status: 201, body: obj };
    return { status: 201, body: this.store(p.type, obj) };
  }

  /** Stores `next` over `cur`: server-owned metadata survives, generation follows the spec. */
  private replace(p: ResourcePath, cur: KubeObject, next: KubeObject, dryRun: boolean): Reply {
    const name = cur.metadata!.name!;
    const rv = next.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== cur.metadata!.resourceVersion) return conflict(p.type, name);
    const meta = (next.metadata ??= {});
    meta.name = name;
    meta.uid = cur.metadata!.uid;
    meta.creationTimestamp = cur.metadata!.creationTimestamp;
    meta.generation = (cur.metadata!.generation ?? 1) + (specOf(cur) === specOf(next) ? 0 : 1);
    if (p.type.namespaced) meta.namespace = p.namespace;
    else delete meta.namespace;
    if (dryRun)
      return { status: 200, body: { ...next, metadata: { ...meta, resourceVersion: cur.metadata!.resourceVersion } } };
    return { status: 200, body: this.store(p.type, next) };
  }

  private doUpdate(p: ResourcePath, name: string, body: unknown, dryRun: boolean): Reply {
    const checked = this.checkBody(p, body);
    if ('error' in checked) return checked.error;
    const next = checked.obj;
    if (next.metadata!.name !== name)
      return badRequest(
        `the name of the object (${next.metadata!.name ?? ''}) does not match the name on the URL (${name})`,
      );
    const cur = this.find(p.type, p.namespace, name);
    if (!cur) return notFound(p.type, name);
    return this.replace(p, cur, next, dryRun);
  }

  private doPatch(p: ResourcePath, name: string, contentType: string, body: unknown, dryRun: boolean): Reply {
    const cur = this.find(p.type, p.namespace, name);
    if (!cur) return notFound(p.type, name);
    let next: unknown;
    switch (contentType) {
      case 'application/merge-patch+json':
      case 'application/strategic-merge-patch+json':
        if (!isObject(body)) return badRequest('a merge patch must be a JSON object');
        next = mergePatch(cur, body);
        break;
      case 'application/json-patch+json':
        if (!Array.isArray(body))
          return badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
        try {
          next = patchedCopy(cur, body as Operation[]);
        } catch (e) {
          return patchRejected(e instanceof Error ? e.message : String(e));
        }
        break;
      default:
        return unsupportedMediaType(contentType);
    }
    if (!isObject(next)) return badRequest('the patched object is not a JSON object');
    return this.replace(p, cur, next as KubeObject, dryRun);
  }

  private doDelete(p: ResourcePath, name: string, dryRun: boolean): Reply {
    const cur = this.find(p.type, p.namespace, name);
    if (!cur) return notFound(p.type, name);
    if (!dryRun) this.remove(p.type, p.namespace, name);
    return deleted(p.type, name, cur.metadata?.uid);
  }
}

/** The fields a field selector may name: metadata's name and namespace, and a pod's status.phase. */
function fieldsOf(o: KubeObject): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': o.metadata?.name ?? '',
    'metadata.namespace': o.metadata?.namespace ?? '',
  };
  const phase = (o as { status?: { phase?: unknown } }).status?.phase;
  if (o.kind === 'Pod' || phase !== undefined) fields['status.phase'] = typeof phase === 'string' ? phase : '';
  return fields;
}

function unsupportedField(t: ResourceType, fields: ReturnType<typeof parseSelector>): string | undefined {
  const known =
    t.kind === 'Pod'
      ? ['metadata.name', 'metadata.namespace', 'status.phase']
      : ['metadata.name', 'metadata.namespace'];
  const bad = fields.find(f => !known.includes(f.key) || (f.op !== '=' && f.op !== '!='));
  return bad && `"${bad.key}" is not a known field selector: only ${known.map(k => `"${k}"`).join(', ')}`;
}
