// Vineyardd CR defaulting: the Sidecar's defaults for the fields the two
// share, the operator's CRD defaults for the rest (replicas, pluginImage).
import type { Vineyardd } from '../../vineyard/sidecar.js';
import { VINEYARDD_DEFAULTS } from '../../vineyard/vineyardd-defaults.js';
import { VINEYARDD_KIND } from '../../vineyard/names.js';
import type { NamedMutator } from '../../admission/mutator.js';
import { specDefaulter } from '../cr-rules/default-spec.js';

export const defaultVineyarddSpec = specDefaulter<Vineyardd>(VINEYARDD_KIND, VINEYARDD_DEFAULTS);

export const defaultVineyarddCR: NamedMutator<Vineyardd, unknown> = {
  name: 'default-vineyardd-cr',
  mutate: defaultVineyarddSpec,
};
