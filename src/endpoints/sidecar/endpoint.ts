// /mutate-v1-pod-sidecar: injects the Vineyard sidecar into pods that ask for it.
import type { Endpoint } from '../../admission/endpoint.js';
import { podEvents } from '../pod/events.js';
import { podPolicy } from '../pod/policy.js';
import { sidecarEvent } from './events.js';
import { injectSidecar, type SidecarContext } from './inject-sidecar.js';
import { resolveSidecar } from './resolve.js';

export const sidecarEndpoint: Endpoint<SidecarContext> = {
  ...podPolicy,
  path: '/mutate-v1-pod-sidecar',
  name: 'sidecar',
  resolve: resolveSidecar,
  mutators: [{ name: 'inject-sidecar', mutate: injectSidecar }],
  // Skipped pods (not enabled, already injected) are answered by the resolver, skip included.
  event: podEvents(sidecarEvent),
};
