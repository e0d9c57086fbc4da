// A small kustomize for the tests: renders deploy/ the way `kubectl apply -k`
// does, for the features deploy/ uses and no others. Anything it does not
// implement (a key, a patch directive, a target field) is an error, so a
// change to deploy/ can never be rendered silently wrong here; deploy.test.ts
// also compares the output with `kubectl kustomize` where kubectl exists.
//
// Implemented: `resources` (files and kustomization directories),
// `components`, `patches` with an inline `patch` or a `path`, as a strategic
// merge patch (matched by its own kind/name, `$patch: delete` on the object
// or on a list element) or a JSON 6902 patch (needs `target`).
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { Operation } from 'fast-json-patch';
import { patchedCopy } from '../../src/jsonpatch/patched-copy.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}
interface Patch {
  patch?: string;
  path?: string;
  target?: Target;
}
interface Kustomization {
  apiVersion: string;
  kind: 'Kustomization' | 'Component';
  resources?: string[];
  components?: string[];
  patches?: Patch[];
}

const KEYS = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches']);
const PATCH_KEYS = new Set(['patch', 'path', 'target']);
const TARGET_KEYS = new Set(['group', 'version', 'kind', 'name', 'namespace']);

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(where: string, obj: object, allowed: Set<string>): void {
  const extra = Object.keys(obj).filter(k => !allowed.has(k));
  if (extra.length)
    throw new Error(
      `${where}: ${extra.join(', ')} not supported by test/helpers/kustomize.ts; implement it there first`,
    );
}

function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  unknownKeys(file, k, KEYS);
  const expected = k.kind === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
  if (k.kind !== 'Kustomization' && k.kind !== 'Component') throw new Error(`${file}: kind ${String(k.kind)}`);
  if (k.apiVersion !== expected) throw new Error(`${file}: a ${k.kind} is ${expected}, not ${k.apiVersion}`);
  return k;
}

export function readManifestFile(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map(d => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJSON() as KubeObject;
    })
    .filter(o => o !== null);
}

const groupOf = (o: KubeObject) => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '');
const versionOf = (o: KubeObject) => o.apiVersion.split('/').pop()!;
export const idOf = (o: KubeObject) =>
  `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

function matches(o: KubeObject, t: Target): boolean {
  unknownKeys('patch target', t, TARGET_KEYS);
  return (
    (t.group === undefined || t.group === groupOf(o)) &&
    (t.version === undefined || t.version === versionOf(o)) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name) &&
    (t.namespace === undefined || t.namespace === (o.metadata.namespace ?? ''))
  );
}

// The patchMergeKey of the list fields deploy/ patches; other lists are replaced, as for any list without one.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  webhooks: 'name',
};

function mergeStrategic(base: JsonObject, patch: JsonObject, path: string): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, pv] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`${path}/${key}: directive not supported by test/helpers/kustomize.ts`);
    const bv = out[key];
    if (pv === null) delete out[key];
    else if (isObject(pv) && isObject(bv)) out[key] = mergeStrategic(bv, pv, `${path}/${key}`);
    else if (Array.isArray(pv) && Array.isArray(bv) && MERGE_KEYS[key])
      out[key] = mergeList(bv, pv, MERGE_KEYS[key], `${path}/${key}`);
    else out[key] = structuredClone(pv);
  }
  return out;
}

function mergeList(base: Json[], patch: Json[], mergeKey: string, path: string): Json[] {
  const out = [...base];
  for (const item of patch) {
    if (!isObject(item) || item[mergeKey] === undefined) throw new Error(`${path}: element without ${mergeKey}`);
    const i = out.findIndex(b => isObject(b) && b[mergeKey] === item[mergeKey]);
    const { $patch, ...rest } = item;
    if ($patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if ($patch !== undefined) throw new Error(`${path}: $patch: ${String($patch)} not supported`);
    if (i >= 0) out[i] = mergeStrategic(out[i] as JsonObject, rest, `${path}/${String(item[mergeKey])}`);
    else out.push(structuredClone(rest));
  }
  return out;
}

function applyPatch(objects: KubeObject[], p: Patch, dir: string): KubeObject[] {
  unknownKeys(`${dir} patch`, p, PATCH_KEYS);
  const text = p.patch ?? (p.path ? readFileSync(resolve(dir, p.path), 'utf8') : undefined);
  if (text === undefined) throw new Error(`${dir}: a patch needs patch or path`);
  const body: unknown = parse(text);
  if (Array.isArray(body)) {
    if (!p.target) throw new Error(`${dir}: a JSON 6902 patch needs a target`);
    const hits = objects.filter(o => matches(o, p.target!));
    if (!hits.length) throw new Error(`${dir}: no object matches ${JSON.stringify(p.target)}`);
    // validate=true: a failed `test` operation throws, as it fails `kustomize build`.
    return objects.map(o => (hits.includes(o) ? patchedCopy(o, body as Operation[]) : o));
  }
  if (!isObject(body)) throw new Error(`${dir}: a patch must be a mapping or a list`);
  const self = body as unknown as KubeObject;
  const target: Target = p.target ?? {
    group: groupOf(self),
    version: versionOf(self),
    kind: self.kind,
    name: self.metadata?.name,
    ...(self.metadata?.namespace ? { namespace: self.metadata.namespace } : {}),
  };
  const hits = objects.filter(o => matches(o, target));
  if (!hits.length) throw new Error(`${dir}: no object matches ${JSON.stringify(target)}`);
  const { $patch, ...rest } = body;
  if ($patch === 'delete') return objects.filter(o => !hits.includes(o));
  if ($patch !== undefined) throw new Error(`${dir}: $patch: ${String($patch)} not supported`);
  return objects.map(o =>
    hits.includes(o) ? (mergeStrategic(o as unknown as JsonObject, rest, idOf(o)) as unknown as KubeObject) : o,
  );
}

function build(
  dir: string,
  extraComponents: readonly string[],
  as: 'Kustomization' | 'Component',
  into: KubeObject[] = [],
): KubeObject[] {
  const k = readKustomization(dir);
  if (k.kind !== as) throw new Error(`${dir}: expected a ${as}, found a ${k.kind}`);
  let objects = [...into];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    objects.push(...(statSync(path).isDirectory() ? build(path, [], 'Kustomization') : readManifestFile(path)));
  }
  for (const c of [...(k.components ?? []).map(c => resolve(dir, c)), ...extraComponents])
    objects = build(c, [], 'Component', objects);
  for (const p of k.patches ?? []) objects = applyPatch(objects, p, dir);
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion} ${idOf(o)}`;
    if (seen.has(id)) throw new Error(`${dir}: ${id} defined twice`);
    seen.add(id);
  }
  return objects;
}

/** Renders the kustomization in `dir`, with `components` (directories) added as an overlay would. */
export function kustomize(dir: string, components: readonly string[] = []): KubeObject[] {
  return build(
    resolve(dir),
    components.map(c => resolve(c)),
    'Kustomization',
  );
}
