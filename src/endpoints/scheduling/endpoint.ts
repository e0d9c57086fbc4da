// /mutate-v1-pod-scheduling: placement of workflow pods (scheduledOrder), then
// scheduler defaulting and the vineyardd socket. A pod with both labels gets both.
import type { Endpoint } from '../../admission/endpoint.js';
import { VINEYARDD_LABEL } from '../../vineyard/names.js';
import { podPolicy } from '../pod/policy.js';
import { nothingToChange } from '../pod/skip-reasons.js';
import { defaultSchedulingMutator } from './default-scheduling.js';
import { dataPlacementMutator } from './data-placement.js';
import { resolveScheduling } from './resolve.js';
import { placementMutator } from './placement.js';
import type { SchedulingContext } from './vineyardd-cluster.js';
import { wireSocketHostPathMutator } from './wire-socket-host-path.js';

export const schedulingEndpoint: Endpoint<SchedulingContext> = {
  ...podPolicy,
  path: '/mutate-v1-pod-scheduling',
  name: 'scheduling',
  resolve: resolveScheduling,
  mutators: [placementMutator, defaultSchedulingMutator, dataPlacementMutator, wireSocketHostPathMutator],
  // No vineyardd in the context of an allowed pod: its label is absent or empty (an invalid one is denied).
  skip: (endpoint, _req, ctx) =>
    ctx?.vineyardd === null && !ctx?.placement
      ? { reason: 'no-vineyardd-label', message: `label ${VINEYARDD_LABEL} is absent or empty` }
      : nothingToChange(endpoint),
};
