// Runs one endpoint's pipeline on one admission request: resolve the context,
// then run the mutators in order over one draft of the object, each seeing it
// as the previous ones left it.
import { PatchBuilder } from '../jsonpatch/patch.js';
import type { AdmissionRequest, AdmissionResponse, JsonObject } from './types.js';
import type { ClusterStore } from '../cluster/store.js';
import { isApiError } from '../cluster/store.js';
import type { PatchOperation } from './mutator.js';
import type { Endpoint, PipelineConfig, Progress, Skip } from './endpoint.js';

export type Decision = 'allowed' | 'patched' | 'denied' | 'error';

/**
 * Why a review was denied, in a few words a metric label can carry (messages
 * cannot: unbounded). `rejected`: a rule refused the object (the user's fix);
 * `bad-request`: not an object of the endpoint's kind; `api-error`: a Kubernetes
 * API call failed; `deadline`: no decision within the review's budget;
 * `internal`: a bug.
 */
export type DenialCategory = 'rejected' | 'bad-request' | 'api-error' | 'deadline' | 'internal';

export interface Outcome {
  response: Omit<AdmissionResponse, 'uid'>;
  decision: Decision;
  patch: PatchOperation[];
  /** Why: the denial message, or the skip reason. */
  reason?: string;
  /** Set on denials. */
  category?: DenialCategory;
  /** Why an allowed review got no patch, from endpoints that report skips. */
  skip?: Skip;
}

export interface RunDeps {
  store: ClusterStore;
  config: PipelineConfig;
}

/** What the mutators gave, as runPipeline turns it into an Outcome. */
interface MutatorsResult {
  patch: PatchOperation[];
  warnings: string[];
  denial?: { code: number; message: string };
}

const kindOf = (req: AdmissionRequest) => `${req.kind?.group ? req.kind.group + '/' : ''}${req.kind?.kind ?? '?'}`;

export function denied(
  code: number,
  message: string,
  warnings: string[] = [],
  category: DenialCategory = code >= 500 ? 'internal' : 'rejected',
): Outcome {
  return {
    response: { allowed: false, status: { code, message }, ...(warnings.length ? { warnings } : {}) },
    decision: code >= 500 ? 'error' : 'denied',
    patch: [],
    reason: message,
    category,
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

export async function runPipeline(
  endpoint: Endpoint,
  req: AdmissionRequest,
  deps: RunDeps,
  progress: Progress = { step: 'start' },
  signal?: AbortSignal,
): Promise<Outcome> {
  if (!endpoint.operations.includes(req.operation)) {
    const reason = `operation ${req.operation} is not handled by ${endpoint.path}`;
    return {
      ...allowed([], []),
      reason,
      ...(endpoint.skip ? { skip: { reason: 'operation-not-handled', message: reason } } : {}),
    };
  }
  const object = req.object;
  if (object === null || object === undefined || typeof object !== 'object' || Array.isArray(object)) {
    return denied(
      400,
      `${endpoint.path}: request.object must be a ${endpoint.expects.kind} object for a ${req.operation}, got ${object === null ? 'null' : Array.isArray(object) ? 'an array' : typeof object}`,
      [],
      'bad-request',
    );
  }
  const { group, kind } = endpoint.expects;
  if ((req.kind?.group ?? '') !== group || req.kind?.kind !== kind) {
    return denied(
      400,
      `${endpoint.path} admits ${group ? group + '/' : ''}${kind} objects, got ${kindOf(req)}: check the rules of the webhook configuration that sends it here`,
      [],
      'bad-request',
    );
  }

  const obj = object;
  // Before any work or API call: the JSON types the API server guarantees, then the per-request limits.
  const malformed = endpoint.shapeProblem?.(endpoint, req, obj);
  if (malformed) return denied(400, malformed, [], 'bad-request');
  const tooMuch = endpoint.limitProblem?.(endpoint, req, obj);
  if (tooMuch) return denied(400, tooMuch);
  const warnings: string[] = [];
  let ctx: unknown;
  try {
    progress.step = 'resolve';
    const resolved = await endpoint.resolve({
      req,
      obj,
      store: deps.store,
      config: deps.config,
      progress,
      call: signal ? { signal } : {},
    });
    if ('done' in resolved) {
      const m = resolved.done;
      if (m.denial) return denied(m.denial.code, m.denial.message, m.warnings);
      return skipped(endpoint, req, allowed([], m.warnings), undefined, resolved.skip);
    }
    ctx = resolved.ctx;
    if (resolved.warnings) warnings.push(...resolved.warnings);
  } catch (e) {
    if (isApiError(e)) {
      const code = e.status === 0 ? 503 : e.status >= 500 ? 503 : 500;
      return denied(code, `${endpoint.path}: the Kubernetes API call failed: ${e.message}`, warnings, 'api-error');
    }
    throw e;
  }

  const result = runMutators(endpoint, req, obj, ctx, progress);
  warnings.push(...result.warnings);
  if (result.denial) return denied(result.denial.code, result.denial.message, warnings);
  return skipped(endpoint, req, allowed(result.patch, warnings), ctx);
}

/** The outcome with its skip, when it is an allowed review without a patch of an endpoint that reports skips. */
function skipped(endpoint: Endpoint, req: AdmissionRequest, outcome: Outcome, ctx: unknown, known?: Skip): Outcome {
  if (outcome.decision !== 'allowed' || !endpoint.skip) return outcome;
  return { ...outcome, skip: known ?? endpoint.skip(endpoint, req, ctx) };
}

/**
 * The mutators in order, each reading the object as the previous ones left
 * it and writing through the one builder. Pure: the same request, object and
 * context give the same result. Mutators only read the object; the builder
 * copies what it writes, so the request's object is never modified and never
 * deep-copied.
 */
function runMutators(
  endpoint: Endpoint,
  req: AdmissionRequest,
  obj: JsonObject,
  ctx: unknown,
  progress: Progress,
): MutatorsResult {
  const warnings: string[] = [];
  const draft = new PatchBuilder(obj);
  for (const m of endpoint.mutators) {
    progress.step = `mutator ${m.name}`;
    const before = draft.ops.length;
    const out = m.mutate(req, draft.snapshot() as never, ctx, draft);
    warnings.push(...out.warnings);
    if (out.denial) return { patch: [], warnings, denial: out.denial };
    if (!endpoint.mutating && draft.ops.length > before) {
      return {
        patch: [],
        warnings: [],
        denial: {
          code: 500,
          message: `internal error: validating endpoint ${endpoint.path} produced a patch (mutator ${m.name})`,
        },
      };
    }
  }
  return { patch: draft.ops, warnings };
}
