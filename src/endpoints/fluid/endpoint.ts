// /mutate-v1-pod-fluid: connects pods to the Vineyard of the Fluid datasets they mount.
import type { Endpoint } from '../../admission/endpoint.js';
import { podPolicy } from '../pod/policy.js';
import type { FluidContext } from './dataset-mounts.js';
import { resolveFluid } from './resolve.js';
import { wireDatasetMutator } from './wire-dataset.js';

export const fluidEndpoint: Endpoint<FluidContext> = {
  ...podPolicy,
  path: '/mutate-v1-pod-fluid',
  name: 'fluid',
  resolve: resolveFluid,
  mutators: [wireDatasetMutator],
};
