// Vineyardd CR validation: the Sidecar's rules for the fields the two share,
// the socket read as the template the operator renders, and the Vineyardd's
// own fields. Upstream validates nothing, so a bad value surfaced only as a
// Deployment the operator could not create.
import type { Vineyardd } from '../../vineyard/sidecar.js';
import { VINEYARDD_DEFAULTS } from '../../vineyard/vineyardd-defaults.js';
import { VINEYARDD_KIND } from '../../vineyard/names.js';
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors, formatFieldError } from '../cr-rules/field-errors.js';
import { checkImage, checkSharedSpec } from '../cr-rules/vineyard-spec.js';
import { crValidator } from '../cr-rules/validate-spec.js';
import { isObject } from '../../json.js';
import type { NamedMutator } from '../../admission/mutator.js';

const PLUGIN_IMAGES = VINEYARDD_DEFAULTS.filter(d => d.path[0] === 'pluginImage');

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  // 0 is a scaled-down cluster, which the operator's Deployment allows.
  f.integer(spec, 'replicas', 'spec', 0);
  checkSharedSpec(f, spec, { socket: 'template', kind: VINEYARDD_KIND, container: 'vineyardd' });
  const plugins = f.record(spec, 'pluginImage', 'spec');
  if (plugins)
    for (const d of PLUGIN_IMAGES) checkImage(f, plugins, 'spec.pluginImage', d.value('', ''), d.path[1], false);
}

/** Every problem of a Vineyardd CR, formatted like the API server's field errors. */
export function vineyarddProblems(obj: unknown): string[] {
  const f = new FieldErrors();
  const spec = isObject(obj) ? obj.spec : undefined;
  if (isObject(spec)) checkSpec(f, spec);
  else if (spec !== undefined && spec !== null) f.invalid('spec', spec, 'must be an object');
  return f.errors.map(formatFieldError);
}

export const validateVineyarddSpec = crValidator<Vineyardd>({ kind: VINEYARDD_KIND, problems: vineyarddProblems });

export const validateVineyarddCR: NamedMutator<Vineyardd, unknown> = {
  name: 'validate-vineyardd-cr',
  mutate: validateVineyarddSpec,
};
