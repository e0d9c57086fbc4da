// Watch caches of Fluid's Datasets and VineyardRuntimes (data.fluid.io), read
// by the Fluid endpoint on every labelled pod. Both are few per cluster. Fluid
// is often not installed: the caches then report 'absent', reads go live and
// say "not installed", and the caches look again every 30 s. Kept apart from
// kube-caches.ts so that each file's list calls name one API group
// (test/helpers/api-calls.ts derives RBAC from them).
import {
  CustomObjectsApi,
  makeInformer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Dataset, VineyardRuntime } from '../vineyard/fluid.js';
import { DATASET_PLURAL, FLUID_GROUP, FLUID_VERSION, VINEYARD_RUNTIME_PLURAL } from '../vineyard/names.js';
import type { KubeCaller } from './kube-call.js';
import { WatchCache, type CacheState } from './watch-cache.js';

/** A list through KubeCaller that keeps a 404's status, so the cache can tell "CRD not installed". */
export type ListRaw = <T extends KubernetesObject>(
  call: string,
  run: Parameters<KubeCaller['send']>[1],
) => Promise<KubernetesListObject<T>>;

export interface FluidCaches {
  datasets: WatchCache<Dataset & KubernetesObject>;
  vineyardruntimes: WatchCache<VineyardRuntime & KubernetesObject>;
}

export function fluidCaches(
  kc: KubeConfig,
  listRaw: ListRaw,
  onState?: (resource: string, state: CacheState, err?: unknown) => void,
): FluidCaches {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const cache = <T extends KubernetesObject>(plural: string) =>
    new WatchCache<T>(
      makeInformer<T>(kc, `/apis/${FLUID_GROUP}/${FLUID_VERSION}/${plural}`, () =>
        listRaw<T>(`list ${plural}.${FLUID_GROUP}`, o =>
          custom.listClusterCustomObject({ group: FLUID_GROUP, version: FLUID_VERSION, plural }, o),
        ),
      ),
      { resource: `${plural}.${FLUID_GROUP}`, onState },
    );
  return {
    datasets: cache<Dataset & KubernetesObject>(DATASET_PLURAL),
    vineyardruntimes: cache<VineyardRuntime & KubernetesObject>(VINEYARD_RUNTIME_PLURAL),
  };
}
