// The endpoint table (spec §1): paths are those of the Vineyard operator, so
// this server is a drop-in replacement behind the same webhook configurations.
import type { Endpoint } from '../admission/endpoint.js';
import { noContext } from '../admission/endpoint.js';
import { resolveSidecar } from './sidecar/resolve.js';
import { injectSidecar } from './sidecar/inject-sidecar.js';
import { defaultSidecarCR } from './sidecar-cr/sidecar-cr-defaults.js';
import { validateSidecarCR } from './sidecar-cr/validate-sidecar-cr.js';
import { resolveOperation } from './operation/resolve.js';
import { gateOperationMutator } from './operation/gate-operation.js';
import { resolveVineyardd } from './scheduling/resolve.js';
import { defaultSchedulingMutator } from './scheduling/default-scheduling.js';
import { wireSocketHostPathMutator } from './scheduling/wire-socket-host-path.js';
import { VINEYARD_GROUP, SIDECAR_KIND } from '../vineyard/names.js';

const POD = { group: '', kind: 'Pod' };
const SIDECAR = { group: VINEYARD_GROUP, kind: SIDECAR_KIND };

export const endpoints: readonly Endpoint<any>[] = [
  { path: '/mutate-v1-pod-sidecar', name: 'sidecar', expects: POD, operations: ['CREATE'], mutating: true, resolve: resolveSidecar, mutators: [{ name: 'inject-sidecar', mutate: injectSidecar }] },
  { path: '/mutate-v1-pod', name: 'operation', expects: POD, operations: ['CREATE'], mutating: true, resolve: resolveOperation, mutators: [gateOperationMutator] },
  { path: '/mutate-v1-pod-scheduling', name: 'scheduling', expects: POD, operations: ['CREATE'], mutating: true, resolve: resolveVineyardd, mutators: [defaultSchedulingMutator, wireSocketHostPathMutator] },
  { path: '/mutate-k8s-v6d-io-v1alpha1-sidecar', name: 'sidecar-default', expects: SIDECAR, operations: ['CREATE', 'UPDATE'], mutating: true, resolve: noContext, mutators: [defaultSidecarCR] },
  { path: '/validate-k8s-v6d-io-v1alpha1-sidecar', name: 'sidecar-validate', expects: SIDECAR, operations: ['CREATE', 'UPDATE'], mutating: false, resolve: noContext, mutators: [validateSidecarCR] },
];

export const endpointByPath = new Map(endpoints.map(e => [e.path, e]));
