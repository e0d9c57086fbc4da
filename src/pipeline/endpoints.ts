// The endpoint table (spec §1): paths are those of the Vineyard operator, so
// this server is a drop-in replacement behind the same webhook configurations.
import type { Endpoint } from './endpoint.js';
import { noContext } from './endpoint.js';
import { resolveSidecar } from './resolve-sidecar.js';
import { injectSidecar } from '../mutators/inject-sidecar.js';
import { defaultSidecarCR } from '../mutators/default-sidecar-cr.js';
import { validateSidecarCR } from '../mutators/validate-sidecar-cr.js';
import { resolveOperation } from './resolve-operation.js';
import { gateOperationMutator } from '../mutators/gate-operation.js';
import { resolveVineyardd } from './resolve-vineyardd.js';
import { defaultSchedulingMutator } from '../mutators/default-scheduling.js';
import { wireSocketHostPathMutator } from '../mutators/wire-socket-host-path.js';
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
