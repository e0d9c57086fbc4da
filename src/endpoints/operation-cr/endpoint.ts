// The Operation CR webhooks: `timeoutSeconds` defaulting, then validation.
import type { Endpoint } from '../../admission/endpoint.js';
import { OPERATION_KIND } from '../../vineyard/operator-kinds.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';
import { defaultOperationCR } from './default-operation-cr.js';
import { validateOperationCR } from './validate-operation-cr.js';

export const operationCrDefaultsEndpoint: Endpoint<undefined> = {
  ...crPolicy(OPERATION_KIND),
  path: crPath('mutate', OPERATION_KIND),
  name: 'operation-default',
  mutating: true,
  mutators: [defaultOperationCR],
};

export const operationCrValidateEndpoint: Endpoint<undefined> = {
  ...crPolicy(OPERATION_KIND),
  path: crPath('validate', OPERATION_KIND),
  name: 'operation-validate',
  mutating: false,
  mutators: [validateOperationCR],
};
