// The endpoint table: paths are those of the Vineyard operator, so
// this server is a drop-in replacement behind the same webhook configurations.
// Each endpoint's folder holds its policy; a new endpoint is a folder and a line here.
import type { AnyEndpoint } from '../admission/endpoint.js';
import { operationEndpoint } from './operation/endpoint.js';
import { schedulingEndpoint } from './scheduling/endpoint.js';
import { fluidEndpoint } from './fluid/endpoint.js';
import { sidecarCrDefaultsEndpoint, sidecarCrValidateEndpoint } from './sidecar-cr/endpoint.js';
import { sidecarEndpoint } from './sidecar/endpoint.js';
import { vineyarddCrDefaultsEndpoint, vineyarddCrValidateEndpoint } from './vineyardd-cr/endpoint.js';
import { operationCrDefaultsEndpoint, operationCrValidateEndpoint } from './operation-cr/endpoint.js';
import { backupCrDefaultsEndpoint, backupCrValidateEndpoint } from './backup-cr/endpoint.js';
import { recoverCrDefaultsEndpoint, recoverCrValidateEndpoint } from './recover-cr/endpoint.js';
import { csiDriverCrValidateEndpoint } from './csidriver-cr/endpoint.js';
import { vineyardObjectEndpoints } from './vineyard-objects/endpoint.js';

export const endpoints: readonly AnyEndpoint[] = [
  sidecarEndpoint,
  operationEndpoint,
  schedulingEndpoint,
  fluidEndpoint,
  sidecarCrDefaultsEndpoint,
  sidecarCrValidateEndpoint,
  vineyarddCrDefaultsEndpoint,
  vineyarddCrValidateEndpoint,
  operationCrDefaultsEndpoint,
  operationCrValidateEndpoint,
  backupCrDefaultsEndpoint,
  backupCrValidateEndpoint,
  recoverCrDefaultsEndpoint,
  recoverCrValidateEndpoint,
  csiDriverCrValidateEndpoint,
  ...vineyardObjectEndpoints,
];

export const endpointByPath = new Map(endpoints.map(e => [e.path, e]));
