// The CSIDriver CR webhook (k8s.v6d.io, cluster-scoped): validation only, as
// in the operator's configuration, which has no mutating path for it.
import type { Endpoint } from '../../admission/endpoint.js';
import { CSIDRIVER_KIND } from '../../vineyard/operator-kinds.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';
import { validateCsiDriverCR } from './validate-csidriver-cr.js';

export const csiDriverCrValidateEndpoint: Endpoint<undefined> = {
  ...crPolicy(CSIDRIVER_KIND),
  path: crPath('validate', CSIDRIVER_KIND),
  name: 'csidriver-validate',
  mutating: false,
  mutators: [validateCsiDriverCR],
};
