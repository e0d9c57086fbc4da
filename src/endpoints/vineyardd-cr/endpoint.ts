// The Vineyardd CR webhooks: defaulting, then validation.
import type { Endpoint } from '../../admission/endpoint.js';
import { VINEYARDD_KIND } from '../../vineyard/names.js';
import { sidecarLimitProblem } from '../limits.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';
import { defaultVineyarddCR } from './default-vineyardd-cr.js';
import { validateVineyarddCR } from './validate-vineyardd-cr.js';

const policy = {
  ...crPolicy(VINEYARDD_KIND),
  // The Sidecar's limits bound the fields the two share (vineyard.env, volumes, volumeMounts).
  limitProblem: sidecarLimitProblem,
};

export const vineyarddCrDefaultsEndpoint: Endpoint<undefined> = {
  ...policy,
  path: crPath('mutate', VINEYARDD_KIND),
  name: 'vineyardd-default',
  mutating: true,
  mutators: [defaultVineyarddCR],
};

export const vineyarddCrValidateEndpoint: Endpoint<undefined> = {
  ...policy,
  path: crPath('validate', VINEYARDD_KIND),
  name: 'vineyardd-validate',
  mutating: false,
  mutators: [validateVineyarddCR],
};
