// The reads the Fluid endpoint makes over the Kubernetes API: a pod's PVCs
// (core) and Fluid's Dataset and VineyardRuntime (data.fluid.io). Kept apart
// from kube-store.ts so that each file's custom-object calls name one API
// group (test/helpers/api-calls.ts derives RBAC from them).
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { Dataset, VineyardRuntime } from '../vineyard/fluid.js';
import { DATASET_PLURAL, FLUID_GROUP, FLUID_VERSION, VINEYARD_RUNTIME_PLURAL } from '../vineyard/names.js';
import type { CallOptions } from './store.js';
import type { KubeCaller } from './kube-call.js';
import { objectOrNull } from './kube-errors.js';
import { requireName, requireSegment } from './kube-store.js';

export class FluidReads {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly caller: KubeCaller,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async getPersistentVolumeClaim(
    namespace: string,
    name: string,
    opts?: CallOptions,
  ): Promise<V1PersistentVolumeClaim | null> {
    const call = `get persistentvolumeclaims ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.core.readNamespacedPersistentVolumeClaim({ namespace, name }, o),
    );
    return objectOrNull<V1PersistentVolumeClaim>(call, answer, name, 'persistentvolumeclaims');
  }

  private async getFluid<T>(plural: string, namespace: string, name: string, opts?: CallOptions): Promise<T | null> {
    const call = `get ${plural} ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.custom.getNamespacedCustomObject({ group: FLUID_GROUP, version: FLUID_VERSION, plural, namespace, name }, o),
    );
    return objectOrNull<T>(call, answer, name, `${plural}.${FLUID_GROUP}`);
  }

  getDataset(namespace: string, name: string, opts?: CallOptions): Promise<Dataset | null> {
    return this.getFluid<Dataset>(DATASET_PLURAL, namespace, name, opts);
  }

  getVineyardRuntime(namespace: string, name: string, opts?: CallOptions): Promise<VineyardRuntime | null> {
    return this.getFluid<VineyardRuntime>(VINEYARD_RUNTIME_PLURAL, namespace, name, opts);
  }
}
