// Why a pod that reached a pod endpoint left it unchanged, as a category a
// metric label can carry (bounded) and a sentence a person can read.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import { injectionSkipReason } from '../sidecar/inject-sidecar.js';
import { isTrue, podLabels } from './pod-helpers.js';
import { SIDECAR_ENABLED_LABEL, VINEYARDD_LABEL } from '../../vineyard/names.js';
import type { Endpoint } from '../../admission/endpoint.js';
import type { Outcome } from '../../admission/run.js';
import { isObject } from '../../json.js';

/**
 * `operation-not-handled`: UPDATE, DELETE or CONNECT (pod endpoints act on CREATE);
 * `not-enabled`: the sidecar label is not "true"; `already-injected`: the pod
 * has the sidecar (a reinvocation, or a manifest injected beforehand);
 * `no-vineyardd-label`: the scheduling label is absent or empty;
 * `nothing-to-change`: the pod already has everything the endpoint adds.
 */
export type SkipReason = 'operation-not-handled' | 'not-enabled' | 'already-injected' | 'no-vineyardd-label' | 'nothing-to-change';

export interface Skip { reason: SkipReason; message: string }

/** Why the pod got no patch; undefined when it got one, was denied, or the endpoint is not a pod endpoint. */
export function skipOf(endpoint: Endpoint<any>, req: AdmissionRequest, outcome: Outcome): Skip | undefined {
  if (endpoint.expects.kind !== 'Pod' || !endpoint.mutating || outcome.decision !== 'allowed') return undefined;
  if (!endpoint.operations.includes(req.operation)) {
    return { reason: 'operation-not-handled', message: outcome.reason ?? `operation ${req.operation} is not handled by ${endpoint.path}` };
  }
  const pod: V1Pod = isObject(req.object) ? req.object : {};
  if (endpoint.name === 'sidecar') {
    const why = injectionSkipReason(pod);
    if (why) return { reason: isTrue(podLabels(pod)[SIDECAR_ENABLED_LABEL]) ? 'already-injected' : 'not-enabled', message: why };
  }
  if (endpoint.name === 'scheduling' && !podLabels(pod)[VINEYARDD_LABEL]?.trim()) {
    return { reason: 'no-vineyardd-label', message: `label ${VINEYARDD_LABEL} is absent or empty` };
  }
  return { reason: 'nothing-to-change', message: `the pod already has everything ${endpoint.path} adds` };
}
