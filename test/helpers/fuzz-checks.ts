// The properties every endpoint must keep for any well-formed review, checked
// on one generated case: the pipeline never throws and never answers 5xx; a
// patch is encoded as sent and applies, with validation, to the original
// object; the result sent again is allowed with an empty patch and no write
// (reinvocation); the request is not modified; Object.prototype is untouched;
// and a pod comes out no more invalid than it went in.
import fjp from 'fast-json-patch';
import { isDeepStrictEqual } from 'node:util';
import type { AdmissionRequest } from '../../src/admission/types.js';
import { MemoryStore } from '../../src/cluster/memory-store.js';
import type { Endpoint } from '../../src/admission/endpoint.js';
import { runPipeline, type Outcome } from '../../src/admission/run.js';
import type { PatchOperation } from '../../src/admission/mutator.js';
import { sidecarProblems } from '../../src/endpoints/sidecar-cr/validate-sidecar-cr.js';
import { SIDECAR_STATUS_ANNOTATION } from '../../src/vineyard/names.js';
import { subdomainErrors } from '../../src/vineyard/label-rules.js';
import { matchesSelector, parseSelector } from '../../src/cluster/label-selector.js';
import { isObject } from '../../src/json.js';
import { patchedCopy } from '../../src/jsonpatch/patched-copy.js';
import type { FuzzCase } from './arbitraries.js';

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));

/** Everything that shows a polluted prototype: own keys and their descriptors. */
export function prototypeSnapshot(): string {
  const describe = (o: object) =>
    Object.getOwnPropertyNames(o)
      .sort()
      .map(k => {
        const d = Object.getOwnPropertyDescriptor(o, k)!;
        return `${k}:${typeof d.value}:${typeof d.get}:${typeof d.set}`;
      })
      .join(',');
  return [
    describe(Object.prototype),
    describe(Array.prototype),
    describe(Function.prototype),
    describe(String.prototype),
  ].join('|');
}
export const PROTOTYPES = prototypeSnapshot();

/** Reasons the API server would reject the pod that a patch cannot have caused if they were there before. */
export function podProblems(pod: unknown): Set<string> {
  const out = new Set<string>();
  const spec = isObject(pod) ? pod.spec : undefined;
  if (!isObject(spec)) return out;
  const containers = [...list(spec.containers), ...list(spec.initContainers)].filter(isObject);
  const names = containers.map(c => text(c.name));
  for (const n of names) if (names.indexOf(n) !== names.lastIndexOf(n)) out.add(`duplicate container name ${n}`);
  const volumes = list(spec.volumes)
    .filter(isObject)
    .map(v => text(v.name));
  for (const v of volumes) if (volumes.indexOf(v) !== volumes.lastIndexOf(v)) out.add(`duplicate volume ${v}`);
  for (const v of list(spec.volumes)) if (!isObject(v)) out.add('a volume that is not an object');
  for (const c of containers) {
    const mounts = list(c.volumeMounts);
    const paths = mounts.filter(isObject).map(m => text(m.mountPath).replace(/(.)\/+$/, '$1'));
    for (const p of paths)
      if (paths.indexOf(p) !== paths.lastIndexOf(p)) out.add(`container ${text(c.name)}: two mounts at ${p}`);
    for (const m of mounts) {
      if (!isObject(m)) out.add(`container ${text(c.name)}: a mount that is not an object`);
      else if (!volumes.includes(text(m.name)))
        out.add(`container ${text(c.name)}: mount of missing volume ${text(m.name)}`);
    }
    for (const e of list(c.env))
      if (!isObject(e) || typeof e.name !== 'string' || e.name === '')
        out.add(`container ${text(c.name)}: an env entry without a name`);
  }
  return out;
}

/**
 * Whether the pod was injected with a Sidecar that the validating webhook
 * refuses: such a Sidecar (stored before the webhook existed) may well make
 * pods the API server refuses, and that is the Sidecar's fault.
 */
function injectedFromInvalidSidecar(pod: unknown, resources: readonly unknown[]): boolean {
  const meta = isObject(pod) && isObject(pod.metadata) ? pod.metadata : {};
  const status = isObject(meta.annotations) ? meta.annotations[SIDECAR_STATUS_ANNOTATION] : undefined;
  if (typeof status !== 'string') return false;
  let name: unknown;
  try {
    name = (JSON.parse(status) as { sidecar?: unknown }).sidecar;
  } catch {
    return false;
  }
  // The store keeps the last object of a name.
  const cr = resources.findLast(
    r => isObject(r) && r.kind === 'Sidecar' && isObject(r.metadata) && r.metadata.name === name,
  );
  return cr !== undefined && sidecarProblems(cr).length > 0;
}

export class PropertyViolation extends Error {}

/**
 * A default Sidecar the webhook creates must pass the webhook's own
 * validation (or the API server would refuse the create in a cluster where
 * the validating webhook runs) and its selector must select the pod it was
 * created for, and nothing wider.
 */
async function checkCreatedSidecars(store: MemoryStore, pod: unknown, c: FuzzCase): Promise<void> {
  const labels = isObject(pod) && isObject(pod.metadata) && isObject(pod.metadata.labels) ? pod.metadata.labels : {};
  for (const w of store.writes.filter(w => w.verb === 'create' && w.kind === 'sidecars')) {
    const cr = await store.getSidecar(w.namespace, w.name);
    const problems = [...sidecarProblems(cr), ...subdomainErrors(w.name).map(e => `metadata.name: ${e}`)];
    if (problems.length)
      fail(`the webhook created an invalid Sidecar ${w.namespace}/${w.name}: ${problems.join('; ')}`, c, {
        created: cr,
      });
    const selector = parseSelector(cr?.spec?.selector ?? '');
    if (selector.length !== 1 || !matchesSelector(selector, labels as Record<string, string>)) {
      fail(
        `the default Sidecar ${w.name} has selector ${JSON.stringify(cr?.spec?.selector)}, which is not one label of the pod`,
        c,
        { created: cr },
      );
    }
  }
}

function fail(what: string, c: FuzzCase, extra: Record<string, unknown> = {}): never {
  throw new PropertyViolation(
    `${what}\n${JSON.stringify({ ...extra, request: c.request, resources: c.resources, config: c.config }, null, 1).slice(0, 20_000)}`,
  );
}

export interface CaseResult {
  first: Outcome;
  result?: unknown;
}

/** Runs one case through the endpoint and throws a PropertyViolation naming the broken property. */
export async function checkCase(
  endpoint: Endpoint<unknown>,
  c: FuzzCase,
  opts: { structural?: boolean } = {},
): Promise<CaseResult> {
  const sent = structuredClone(c.request);
  let n = 0;
  const store = new MemoryStore(c.resources, () => `uid-${++n}`);
  const deps = { store, config: c.config };
  let first: Outcome;
  try {
    first = await runPipeline(endpoint, c.request, deps);
  } catch (e) {
    fail(`the pipeline threw: ${(e as Error).stack}`, c);
  }
  if (prototypeSnapshot() !== PROTOTYPES) fail('a built-in prototype changed', c);
  if (!isDeepStrictEqual(c.request, sent)) fail('the pipeline modified the request', c);

  const res = first.response;
  if (!res.allowed) {
    const code = res.status?.code ?? 0;
    if (code >= 500 || code < 400) fail(`a denial with code ${code}: ${res.status?.message}`, c);
    if (!res.status?.message) fail('a denial without a message', c);
    if (first.patch.length || res.patch) fail('a denial with a patch', c);
    return { first };
  }
  if (!!res.patch !== first.patch.length > 0 || !!res.patchType !== first.patch.length > 0)
    fail('patch and patchType disagree with the operations', c);
  if (!endpoint.mutating && first.patch.length) fail('a validating endpoint patched', c);
  if (res.patch) {
    const decoded = JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as PatchOperation[];
    if (!isDeepStrictEqual(decoded, JSON.parse(JSON.stringify(first.patch))))
      fail('the encoded patch is not the patch', c);
  }
  const original = c.request.object;
  if (original === null || original === undefined) return { first };
  await checkCreatedSidecars(store, original, c);
  let result: typeof original;
  try {
    result = patchedCopy(original, first.patch);
  } catch (e) {
    if (!(e instanceof fjp.JsonPatchError)) throw e;
    fail(`the patch does not apply to the original: ${e.message}`, c, { patch: first.patch });
  }
  if (first.patch.some(op => op.path.startsWith('/metadata/managedFields'))) fail('the patch touches managedFields', c);

  if (opts.structural && !injectedFromInvalidSidecar(result, c.resources)) {
    const before = podProblems(original);
    const added = [...podProblems(result)].filter(p => !before.has(p));
    if (added.length) fail(`the patch made the pod invalid: ${added.join('; ')}`, c, { patch: first.patch });
  }

  // Reinvocation: the API server may call again with the patched object.
  const writes = store.writes.length;
  const again: AdmissionRequest = { ...c.request, uid: `${c.request.uid}-again`, object: result };
  let second: Outcome;
  try {
    second = await runPipeline(endpoint, again, deps);
  } catch (e) {
    fail(`the pipeline threw on reinvocation: ${(e as Error).stack}`, c);
  }
  if (!second.response.allowed)
    fail(`reinvocation denied: ${second.response.status?.message}`, c, { patch: first.patch });
  if (second.patch.length) fail('reinvocation patched again', c, { patch: first.patch, again: second.patch });
  if (store.writes.length !== writes)
    fail('reinvocation wrote to the cluster', c, { writes: store.writes.slice(writes) });
  if (prototypeSnapshot() !== PROTOTYPES) fail('a built-in prototype changed on reinvocation', c);
  return { first, result };
}
