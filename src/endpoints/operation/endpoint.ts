// /mutate-v1-pod: POD_NAME / POD_NAMESPACE for every pod, and the assembly
// and repartition gate.
import type { Endpoint } from '../../admission/endpoint.js';
import { podPolicy } from '../pod/policy.js';
import { gateOperationMutator, type OperationContext } from './gate-operation.js';
import { resolveOperation } from './resolve.js';

export const operationEndpoint: Endpoint<OperationContext> = {
  ...podPolicy,
  path: '/mutate-v1-pod',
  name: 'operation',
  resolve: resolveOperation,
  mutators: [gateOperationMutator],
};
