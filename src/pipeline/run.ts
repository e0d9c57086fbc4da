// Runs one endpoint's pipeline on one admission request: resolve the context,
// run the mutators in order (each sees the object as the previous ones left
// it), and check that the combined patch applies to the original before it is
// ever sent.
import fjp from 'fast-json-patch';
import type { AdmissionRequest, AdmissionResponse, JsonObject } from '../admission/types.js';
import type { ClusterStore } from '../cluster/store.js';
import { isApiError } from '../cluster/store.js';
import type { PatchOperation } from '../mutators/types.js';
import type { Endpoint, PipelineConfig, Progress } from './endpoint.js';

export type Decision = 'allowed' | 'patched' | 'denied' | 'error';

export interface Outcome {
  response: Omit<AdmissionResponse, 'uid'>;
  decision: Decision;
  patch: PatchOperation[];
  /** Why: the denial message, or the skip reason. */
  reason?: string;
}

export interface RunDeps { store: ClusterStore; config: PipelineConfig }

const kindOf = (req: AdmissionRequest) => `${req.kind?.group ? req.kind.group + '/' : ''}${req.kind?.kind ?? '?'}`;

export function denied(code: number, message: string, warnings: string[] = []): Outcome {
  return {
    response: { allowed: false, status: { code, message }, ...(warnings.length ? { warnings } : {}) },
    decision: code >= 500 ? 'error' : 'denied',
    patch: [],
    reason: message,
  };
}

export function allowed(patch: PatchOperation[], warnings: string[]): Outcome {
  const response: Omit<AdmissionResponse, 'uid'> = { allowed: true };
  if (patch.length) {
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    response.patchType = 'JSONPatch';
  }
  if (warnings.length) response.warnings = warnings;
  return { response, decision: patch.length ? 'patched' : 'allowed', patch };
}

/** Shallow copy of the object without metadata.managedFields, which no mutator needs. */
function withoutManagedFields(obj: JsonObject): JsonObject {
  const meta = obj.metadata;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta) || !('managedFields' in meta)) return obj;
  const { managedFields: _ignored, ...rest } = meta;
  return { ...obj, metadata: rest };
}

export async function runPipeline(
  endpoint: Endpoint,
  req: AdmissionRequest,
  deps: RunDeps,
  progress: Progress = { step: 'start' },
  signal?: AbortSignal,
): Promise<Outcome> {
  if (!endpoint.operations.includes(req.operation)) {
    return { ...allowed([], []), reason: `operation ${req.operation} is not handled by ${endpoint.path}` };
  }
  const object = req.object;
  if (object === null || object === undefined || typeof object !== 'object' || Array.isArray(object)) {
    return denied(400, `${endpoint.path}: request.object must be a ${endpoint.expects.kind} object for a ${req.operation}, got ${object === null ? 'null' : Array.isArray(object) ? 'an array' : typeof object}`);
  }
  const { group, kind } = endpoint.expects;
  if ((req.kind?.group ?? '') !== group || req.kind?.kind !== kind) {
    return denied(400, `${endpoint.path} admits ${group ? group + '/' : ''}${kind} objects, got ${kindOf(req)}: check the rules of the webhook configuration that sends it here`);
  }

  const obj = withoutManagedFields(object);
  const warnings: string[] = [];
  let ctx: unknown;
  try {
    progress.step = 'resolve';
    const resolved = await endpoint.resolve({ req, obj, store: deps.store, config: deps.config, progress, call: signal ? { signal } : {} });
    if ('done' in resolved) {
      const m = resolved.done;
      if (m.denial) return denied(m.denial.code, m.denial.message, m.warnings);
      return { ...allowed(m.patch, m.warnings) };
    }
    ctx = resolved.ctx;
    if (resolved.warnings) warnings.push(...resolved.warnings);
  } catch (e) {
    if (isApiError(e)) {
      const code = e.status === 0 ? 503 : e.status >= 500 ? 503 : 500;
      return denied(code, `${endpoint.path}: the Kubernetes API call failed: ${e.message}`, warnings);
    }
    throw e;
  }

  let doc: unknown = structuredClone(obj);
  const patch: PatchOperation[] = [];
  for (const m of endpoint.mutators) {
    progress.step = `mutator ${m.name}`;
    const out = m.mutate(req, doc as never, ctx);
    warnings.push(...out.warnings);
    if (out.denial) return denied(out.denial.code, out.denial.message, warnings);
    if (!out.patch.length) continue;
    if (!endpoint.mutating) return denied(500, `internal error: validating endpoint ${endpoint.path} produced a patch (mutator ${m.name})`);
    const err = fjp.validate(out.patch, doc);
    if (err) return denied(500, `internal error: mutator ${m.name} produced a patch that does not apply: ${err.message}`);
    // A copy of the operations: applying in place shares their values with doc,
    // and a later append would rewrite an earlier operation's value.
    doc = fjp.applyPatch(doc, structuredClone(out.patch), false, true).newDocument;
    patch.push(...out.patch);
  }

  if (patch.length) {
    progress.step = 'check patch';
    // The promise to the API server: this exact patch applies to the object it sent.
    const err = fjp.validate(patch, structuredClone(object));
    if (err) return denied(500, `internal error: the combined patch does not apply to the original object: ${err.message}`);
  }
  return allowed(patch, warnings);
}
