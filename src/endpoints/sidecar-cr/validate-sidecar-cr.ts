// Sidecar CR validation: every problem of the CR in one answer, each
// with its field path, the value sent and what is allowed, worded like the API
// server's own validation. Absent fields are fine: they take the injector's
// defaults. A wrong JSON type is a problem, never a crash.
import type { Sidecar } from '../../vineyard/sidecar.js';
import { SIDECAR_DEFAULTS } from '../../vineyard/sidecar-defaults.js';
import { SIDECAR_CONTAINER, SIDECAR_KIND } from '../../vineyard/names.js';
import { equalitySelectorErrors } from '../../vineyard/label-rules.js';
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors, formatFieldError } from '../cr-rules/field-errors.js';
import { checkSharedSpec } from '../cr-rules/vineyard-spec.js';
import { crValidator } from '../cr-rules/validate-spec.js';
import { isObject } from '../../json.js';
import type { NamedMutator } from '../../admission/mutator.js';

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  f.integer(spec, 'replicas', 'spec', 0);
  const selector = f.string(spec, 'selector', 'spec');
  if (selector !== undefined) for (const e of equalitySelectorErrors(selector)) f.invalid('spec.selector', selector, e);
  checkSharedSpec(f, spec, { socket: 'path', kind: SIDECAR_KIND, container: SIDECAR_CONTAINER });
}

/** Every problem of a Sidecar CR, formatted like the API server's field errors. */
export function sidecarProblems(obj: unknown): string[] {
  const f = new FieldErrors();
  const spec = isObject(obj) ? obj.spec : undefined;
  if (isObject(spec)) checkSpec(f, spec);
  else if (spec !== undefined && spec !== null) f.invalid('spec', spec, 'must be an object');
  return f.errors.map(formatFieldError);
}

const selectorOf = (obj: unknown): unknown => {
  const s = isObject(obj) && isObject(obj.spec) ? obj.spec.selector : undefined;
  return s ?? SIDECAR_DEFAULTS.find(d => d.path.join('.') === 'selector')?.value('', '');
};

/** Pods injected with a Sidecar are counted through its selector: changing it would orphan them. */
function selectorChange(oldObj: unknown, obj: unknown): string[] {
  const before = selectorOf(oldObj);
  const after = selectorOf(obj);
  if (typeof after !== 'string' || JSON.stringify(before) === JSON.stringify(after)) return [];
  return [
    formatFieldError({
      path: 'spec.selector',
      type: 'Invalid value',
      value: after,
      detail: `field is immutable: changing it would orphan the pods already injected with this Sidecar; create a new Sidecar instead`,
    }),
  ];
}

export const validateSidecarSpec = crValidator<Sidecar>({
  kind: SIDECAR_KIND,
  problems: sidecarProblems,
  changeProblems: selectorChange,
});

export const validateSidecarCR: NamedMutator<Sidecar, unknown> = {
  name: 'validate-sidecar-cr',
  mutate: validateSidecarSpec,
};
