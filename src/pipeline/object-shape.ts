// The JSON types of the fields the webhook reads, checked once before any
// work. The API server decodes a pod into its typed schema before admission,
// so a pod whose container name is a number or whose env is a string never
// comes from it; such a review is refused naming the field, instead of being
// half-processed by readers that would have to guess. null stands for absent
// (the API server encodes an empty list without omitempty as null).
// Only metadata is checked on Sidecar objects: a custom resource's spec is
// not typed before admission, and its wrong types are what the validating
// webhook reports, field by field.
import type { AdmissionRequest, JsonObject } from '../admission/types.js';
import type { Endpoint } from './endpoint.js';
import { isObject } from '../json.js';

type Shape = 'string' | 'object' | { list: Shape } | { map: 'string' } | { fields: Record<string, Shape> };

const strings: Shape = { list: 'string' };

const METADATA: Shape = {
  fields: {
    name: 'string',
    generateName: 'string',
    namespace: 'string',
    labels: { map: 'string' },
    annotations: { map: 'string' },
    ownerReferences: { list: { fields: { apiVersion: 'string', kind: 'string', name: 'string', uid: 'string' } } },
  },
};

const CONTAINER: Shape = {
  fields: {
    name: 'string',
    command: strings,
    args: strings,
    env: { list: { fields: { name: 'string', value: 'string', valueFrom: 'object' } } },
    envFrom: { list: { fields: { configMapRef: { fields: { name: 'string' } } } } },
    volumeMounts: { list: { fields: { name: 'string', mountPath: 'string' } } },
  },
};

const POD: Shape = {
  fields: {
    metadata: METADATA,
    spec: {
      fields: {
        containers: { list: CONTAINER },
        initContainers: { list: CONTAINER },
        volumes: { list: { fields: { name: 'string', hostPath: { fields: { path: 'string' } }, persistentVolumeClaim: { fields: { claimName: 'string' } } } } },
        affinity: { fields: { podAffinity: { fields: { requiredDuringSchedulingIgnoredDuringExecution: { list: 'object' } } } } },
        schedulerName: 'string',
      },
    },
  },
};

const CUSTOM_RESOURCE: Shape = { fields: { metadata: METADATA } };


function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}

const expected = (s: Shape): string =>
  s === 'string' ? 'a string' : s === 'object' || 'fields' in s ? 'an object' : 'map' in s ? 'a map of strings' : 'a list';

/** A key as a path segment: `labels.app`, or `labels["a/b"]` when it is not a plain name. */
const member = (path: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/** The first field whose JSON type is not the shape's, as `path must be X, got Y`. */
function mismatch(v: unknown, s: Shape, path: string): string | undefined {
  const ok = s === 'string' ? typeof v === 'string' : s === 'object' || 'fields' in s || 'map' in s ? isObject(v) : Array.isArray(v);
  if (!ok) return `${path} must be ${expected(s)}, got ${describe(v)}`;
  if (typeof s === 'string') return undefined;
  if ('list' in s) {
    const items = v as unknown[];
    for (let i = 0; i < items.length; i++) {
      const m = mismatch(items[i], s.list, `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  const o = v as Record<string, unknown>;
  if ('map' in s) {
    for (const k of Object.keys(o)) if (typeof o[k] !== 'string') return `${member(path, k)} must be a string, got ${describe(o[k])}`;
    return undefined;
  }
  for (const [k, inner] of Object.entries(s.fields)) {
    const child = Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
    if (child === undefined || child === null) continue;
    const m = mismatch(child, inner, member(path, k));
    if (m) return m;
  }
  return undefined;
}

/** Why the object cannot be admitted as sent (a field of the wrong JSON type), or undefined. */
export function shapeProblem(endpoint: Endpoint<unknown>, req: AdmissionRequest, obj: Readonly<JsonObject>): string | undefined {
  const m = mismatch(obj, endpoint.expects.kind === 'Pod' ? POD : CUSTOM_RESOURCE, 'object');
  if (!m) return undefined;
  const kind = endpoint.expects.kind;
  return `${endpoint.path}: ${kind} ${req.namespace || '?'}/${nameOf(req, obj)}: ${m.slice('object.'.length)}; ` +
    `the API server sends a ${kind} with the JSON types of its schema, so fix the client that built this request`;
}

function nameOf(req: AdmissionRequest, obj: Readonly<JsonObject>): string {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return text(meta.name) || text(req.name) || (text(meta.generateName) ? `${text(meta.generateName)}*` : '(unnamed)');
}
