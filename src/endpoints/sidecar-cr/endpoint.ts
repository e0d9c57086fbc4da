// The Sidecar CR webhooks: defaulting, then validation. A Sidecar is applied
// by a person who reads the answer: no events, no skip reasons.
import type { Endpoint } from '../../admission/endpoint.js';
import { noContext } from '../../admission/endpoint.js';
import { SIDECAR_KIND, VINEYARD_GROUP } from '../../vineyard/names.js';
import { sidecarLimitProblem } from '../limits.js';
import { customResourceShapeProblem } from '../object-shape.js';
import { defaultSidecarCR } from './sidecar-cr-defaults.js';
import { validateSidecarCR } from './validate-sidecar-cr.js';

const sidecarCrPolicy = {
  expects: { group: VINEYARD_GROUP, kind: SIDECAR_KIND },
  operations: ['CREATE', 'UPDATE'],
  resolve: noContext,
  // A custom resource's spec is not typed before admission: its wrong types are what validation reports.
  shapeProblem: customResourceShapeProblem,
  limitProblem: sidecarLimitProblem,
} as const satisfies Partial<Endpoint<undefined>>;

export const sidecarCrDefaultsEndpoint: Endpoint<undefined> = {
  ...sidecarCrPolicy,
  path: '/mutate-k8s-v6d-io-v1alpha1-sidecar',
  name: 'sidecar-default',
  mutating: true,
  mutators: [defaultSidecarCR],
};

export const sidecarCrValidateEndpoint: Endpoint<undefined> = {
  ...sidecarCrPolicy,
  path: '/validate-k8s-v6d-io-v1alpha1-sidecar',
  name: 'sidecar-validate',
  mutating: false,
  mutators: [validateSidecarCR],
};
