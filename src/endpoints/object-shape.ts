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
import type { AnyEndpoint } from '../admission/endpoint.js';
import { isObject } from '../json.js';
import { displayName } from './pod/pod-name.js';

type Shape =
  'string' | 'object' | { list: Shape } | { map: 'string' } | { fields: ReadonlyArray<readonly [string, Shape]> };

/** An object with these fields; kept as entries, which the walk would otherwise build for every object it visits. */
const fields = (f: Record<string, Shape>): Shape => ({ fields: Object.entries(f) });

const strings: Shape = { list: 'string' };

const METADATA: Shape = fields({
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  labels: { map: 'string' },
  annotations: { map: 'string' },
  ownerReferences: { list: fields({ apiVersion: 'string', kind: 'string', name: 'string', uid: 'string' }) },
});

const CONTAINER: Shape = fields({
  name: 'string',
  command: strings,
  args: strings,
  env: { list: fields({ name: 'string', value: 'string', valueFrom: 'object' }) },
  envFrom: { list: fields({ configMapRef: fields({ name: 'string' }) }) },
  volumeMounts: { list: fields({ name: 'string', mountPath: 'string' }) },
});

const POD: Shape = fields({
  metadata: METADATA,
  spec: fields({
    containers: { list: CONTAINER },
    initContainers: { list: CONTAINER },
    volumes: {
      list: fields({
        name: 'string',
        hostPath: fields({ path: 'string' }),
        persistentVolumeClaim: fields({ claimName: 'string' }),
      }),
    },
    affinity: fields({ podAffinity: fields({ requiredDuringSchedulingIgnoredDuringExecution: { list: 'object' } }) }),
    schedulerName: 'string',
  }),
});

const CUSTOM_RESOURCE: Shape = fields({ metadata: METADATA });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}

const expected = (s: Shape): string =>
  s === 'string'
    ? 'a string'
    : s === 'object' || 'fields' in s
      ? 'an object'
      : 'map' in s
        ? 'a map of strings'
        : 'a list';

/** A key as a path segment: `labels.app`, or `labels["a/b"]` when it is not a plain name. */
const member = (path: string, key: string) =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/**
 * A field of the wrong type: the keys and indices leading to it, innermost
 * first (each level adds its own on the way out), and what is wrong with it.
 * Paths are only spelled out for the one field reported: building a path
 * string for every field and list item visited was most of the walk's cost.
 */
interface Mismatch {
  at: Array<string | number>;
  problem: string;
}

/** The first field whose JSON type is not the shape's. */
function mismatch(v: unknown, s: Shape): Mismatch | undefined {
  const ok =
    s === 'string'
      ? typeof v === 'string'
      : s === 'object' || 'fields' in s || 'map' in s
        ? isObject(v)
        : Array.isArray(v);
  if (!ok) return { at: [], problem: `must be ${expected(s)}, got ${describe(v)}` };
  if (typeof s === 'string') return undefined;
  if ('list' in s) {
    const items = v as unknown[];
    for (let i = 0; i < items.length; i++) {
      const m = mismatch(items[i], s.list);
      if (m) {
        m.at.push(i);
        return m;
      }
    }
    return undefined;
  }
  const o = v as Record<string, unknown>;
  if ('map' in s) {
    for (const k of Object.keys(o))
      if (typeof o[k] !== 'string') return { at: [k], problem: `must be a string, got ${describe(o[k])}` };
    return undefined;
  }
  const fields = s.fields;
  for (let i = 0; i < fields.length; i++) {
    const [k, inner] = fields[i]!;
    if (!Object.hasOwn(o, k)) continue;
    const child = o[k];
    // Most fields read are strings that are strings: no call for them.
    if (child === undefined || child === null || (inner === 'string' && typeof child === 'string')) continue;
    const m = mismatch(child, inner);
    if (m) {
      m.at.push(k);
      return m;
    }
  }
  return undefined;
}

/** `path must be X, got Y`, the path starting at `root`. */
function spell(root: string, m: Mismatch): string {
  let path = root;
  for (let i = m.at.length - 1; i >= 0; i--) {
    const seg = m.at[i]!;
    path = typeof seg === 'number' ? `${path}[${seg}]` : member(path, seg);
  }
  return `${path} ${m.problem}`;
}

/** The pod endpoints' shape hook. */
export const podShapeProblem = (
  endpoint: AnyEndpoint,
  req: AdmissionRequest,
  obj: Readonly<JsonObject>,
): string | undefined => shapeProblem(POD, endpoint, req, obj);

/** The custom resource endpoints' shape hook: metadata only. */
export const customResourceShapeProblem = (
  endpoint: AnyEndpoint,
  req: AdmissionRequest,
  obj: Readonly<JsonObject>,
): string | undefined => shapeProblem(CUSTOM_RESOURCE, endpoint, req, obj);

/** Why the object cannot be admitted as sent (a field of the wrong JSON type), or undefined. */
function shapeProblem(
  shape: Shape,
  endpoint: AnyEndpoint,
  req: AdmissionRequest,
  obj: Readonly<JsonObject>,
): string | undefined {
  const found = mismatch(obj, shape);
  if (!found) return undefined;
  const m = spell('object', found);
  const kind = endpoint.expects.kind;
  return (
    `${endpoint.path}: ${kind} ${req.namespace || '?'}/${displayName(req, obj)}: ${m.slice('object.'.length)}; ` +
    `the API server sends a ${kind} with the JSON types of its schema, so fix the client that built this request`
  );
}
