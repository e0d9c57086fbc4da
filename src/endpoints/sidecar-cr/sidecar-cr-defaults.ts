// Sidecar CR defaulting: fills the fields the user left out with the
// injector's defaults, so what is stored is what the injector will use.
import type { Sidecar } from '../../vineyard/sidecar.js';
import { SIDECAR_DEFAULTS } from '../../vineyard/sidecar-defaults.js';
import { SIDECAR_KIND } from '../../vineyard/names.js';
import type { NamedMutator } from '../../admission/mutator.js';
import { specDefaulter } from '../cr-rules/default-spec.js';

export const defaultSidecarSpec = specDefaulter<Sidecar>(SIDECAR_KIND, SIDECAR_DEFAULTS);

export const defaultSidecarCR: NamedMutator<Sidecar, unknown> = {
  name: 'default-sidecar-cr',
  mutate: defaultSidecarSpec,
};
