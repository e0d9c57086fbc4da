// The Recover CR webhooks. Nothing to default: the mutating path answers
// because the operator's configuration calls it, with failurePolicy Fail.
import type { Endpoint } from '../../admission/endpoint.js';
import { RECOVER_KIND } from '../../vineyard/operator-kinds.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';
import { validateRecoverCR } from './validate-recover-cr.js';

export const recoverCrDefaultsEndpoint: Endpoint<undefined> = {
  ...crPolicy(RECOVER_KIND),
  path: crPath('mutate', RECOVER_KIND),
  name: 'recover-default',
  mutating: true,
  mutators: [],
};

export const recoverCrValidateEndpoint: Endpoint<undefined> = {
  ...crPolicy(RECOVER_KIND),
  path: crPath('validate', RECOVER_KIND),
  name: 'recover-validate',
  mutating: false,
  mutators: [validateRecoverCR],
};
