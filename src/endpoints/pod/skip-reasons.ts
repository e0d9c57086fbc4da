// Why a pod that reached a pod endpoint left it unchanged: the reasons the
// pod endpoints report, a bounded set a metric label can carry.
import type { Skip, AnyEndpoint } from '../../admission/endpoint.js';

/**
 * `operation-not-handled`: UPDATE, DELETE or CONNECT (pod endpoints act on CREATE);
 * `not-enabled`: the sidecar label is not "true"; `already-injected`: the pod
 * has the sidecar (a reinvocation, or a manifest injected beforehand);
 * `no-vineyardd-label`: the scheduling label is absent or empty;
 * `nothing-to-change`: the pod already has everything the endpoint adds.
 */
export type PodSkipReason =
  'operation-not-handled' | 'not-enabled' | 'already-injected' | 'no-vineyardd-label' | 'nothing-to-change';

export interface PodSkip extends Skip {
  reason: PodSkipReason;
}

export const nothingToChange = (endpoint: AnyEndpoint): PodSkip => ({
  reason: 'nothing-to-change',
  message: `the pod already has everything ${endpoint.path} adds`,
});
