// One mutator run on its own, as the pipeline runs it: over a fresh draft of
// the object, its operations collected with its verdict.
import type { AdmissionRequest } from '../../src/admission/types.js';
import { PatchBuilder } from '../../src/jsonpatch/patch.js';
import type { Mutator, PatchOperation, Verdict } from '../../src/admission/mutator.js';

export function runMutator<O, C>(
  mutate: Mutator<O, C>,
  req: AdmissionRequest,
  obj: O,
  ctx?: C,
): Verdict & { patch: PatchOperation[] } {
  const draft = new PatchBuilder(obj);
  const verdict = mutate(req, draft.snapshot() as O, ctx as C, draft);
  return { patch: verdict.denial ? [] : draft.ops, ...verdict };
}
