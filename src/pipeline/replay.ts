// The pipeline's pure work on an object it has seen before. The server hands
// the pipeline the very same frozen object for reviews of identical pods
// (server/replay-cache.ts); for those, what depends only on the request and
// the context is kept: the object without managedFields, and the mutators'
// patch, warnings or denial with the encoded patch. Resolving the context
// (reads, the default Sidecar count, any other write) runs for every review.
//
// Kept work is reused only when
// - the object is the root of a deep-frozen tree (equal identity is equal content),
// - every other field of the request is the same value as the first time (uid aside:
//   no mutator reads it), and
// - the endpoint's replayKey gives the same string for the new context: a
//   summary of everything of the context its mutators read.
import type { AdmissionRequest, JsonObject } from '../admission/types.js';
import { deepFreeze, isDeepFrozen } from '../immutable.js';
import type { PatchOperation } from '../mutators/types.js';
import type { Endpoint } from './endpoint.js';

/** Freezes a request's object and oldObject, each as a root this module recognises. */
export function freezeRequestObjects(request: { object?: unknown; oldObject?: unknown }): void {
  deepFreeze(request.object);
  deepFreeze(request.oldObject);
}

/** What the mutators gave, as runPipeline turns it into an Outcome. */
export interface MutatorsResult {
  patch: PatchOperation[];
  warnings: string[];
  denial?: { code: number; message: string };
  /** The patch as the response carries it (base64 of its JSON); set once encoded. */
  encoded?: string;
}

export interface ObjectWork {
  /** The object without metadata.managedFields, checked (shape and limits) and passed. */
  obj: JsonObject;
  /** Mutator results by the endpoint's replayKey of the context. */
  results: Map<string, MutatorsResult>;
}

interface Kept extends ObjectWork { endpoint: Endpoint<any>; req: AdmissionRequest }

/** Contexts kept per object and endpoint: a pod replayed under many different contexts is not worth keeping. */
const MAX_CONTEXTS = 4;
/** Request shapes kept per object (endpoints, dry runs...): few see one object. */
const MAX_REQUESTS = 8;

function sameButUid(a: AdmissionRequest, b: AdmissionRequest): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (k !== 'uid' && (a as unknown as Record<string, unknown>)[k] !== (b as unknown as Record<string, unknown>)[k]) return false;
  }
  return true;
}

export class PipelineReplay {
  // Weak: the work goes when the server's replay cache lets go of the object.
  private readonly byObject = new WeakMap<object, Kept[]>();
  /** Reviews answered with kept mutator results. */
  hits = 0;

  /** The kept work for this request, if it may be reused. */
  find(endpoint: Endpoint<any>, req: AdmissionRequest): ObjectWork | undefined {
    if (!isDeepFrozen(req.object)) return undefined;
    const kept = this.byObject.get(req.object as object);
    return kept?.find(k => k.endpoint === endpoint && sameButUid(k.req, req));
  }

  /** Starts keeping work for this request (a deep-frozen object only); undefined when it cannot be kept. */
  keep(endpoint: Endpoint<any>, req: AdmissionRequest, obj: JsonObject): ObjectWork | undefined {
    if (!isDeepFrozen(req.object) || !endpoint.replayKey) return undefined;
    const list = this.byObject.get(req.object as object) ?? [];
    const work: Kept = { endpoint, req, obj, results: new Map() };
    // A new request shape replaces the oldest.
    if (list.length >= MAX_REQUESTS) list.shift();
    list.push(work);
    this.byObject.set(req.object as object, list);
    return work;
  }

  /** Records the mutators' result for a context key. */
  record(work: ObjectWork, key: string, result: MutatorsResult): void {
    if (work.results.size >= MAX_CONTEXTS) work.results.delete(work.results.keys().next().value!);
    work.results.set(key, result);
  }
}
