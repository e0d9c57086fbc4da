// Operation CR defaulting: upstream's only real defaulting, `timeoutSeconds`
// 0 or absent -> 300. The operator reads 0 as "give up at once", so an
// Operation written without a timeout would fail before its job started.
import type { AdmissionRequest } from '../../admission/types.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import { isObject } from '../../json.js';
import { DEFAULT_OPERATION_TIMEOUT_SECONDS } from '../../vineyard/operation-types.js';

export function defaultOperationSpec(
  req: AdmissionRequest,
  obj: Readonly<Record<string, unknown>>,
  _ctx: unknown,
  patch: PatchBuilder,
): Verdict {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
  const spec = obj.spec;
  // A spec or timeout of the wrong type is the user's data: validation names it.
  if (spec !== undefined && spec !== null && !isObject(spec)) return allow();
  const timeout = isObject(spec) ? spec.timeoutSeconds : undefined;
  if (timeout === undefined || timeout === null || timeout === 0)
    patch.set(['spec', 'timeoutSeconds'], DEFAULT_OPERATION_TIMEOUT_SECONDS);
  return allow();
}

export const defaultOperationCR: NamedMutator<Record<string, unknown>, unknown> = {
  name: 'default-operation-cr',
  mutate: defaultOperationSpec,
};
