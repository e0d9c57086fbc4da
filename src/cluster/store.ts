// The one seam between the pure pipeline and the world: every Kubernetes read
// and write the webhook makes goes through this interface. Implementations:
// the API server (kube-store.ts) and memory (memory-store.ts, for standalone
// mode, the offline CLI and tests). What a read returns may be shared with a
// watch cache: callers copy before they change it (the memory store freezes it).
import type { V1Pod, CoreV1Event, V1ConfigMap, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { ReplicaOwnerKind, VineyardObject, VineyardObjectPlural, VineyardOperation } from '../vineyard/objects.js';
import type { Sidecar, Vineyardd } from '../vineyard/sidecar.js';
import type { Dataset, VineyardRuntime } from '../vineyard/fluid.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface EventCountPatch {
  count: number;
  lastTimestamp?: CoreV1Event['lastTimestamp'];
}

export interface ClusterStore {
  /** `null` when the object does not exist. */
  getSidecar(namespace: string, name: string, opts?: CallOptions): Promise<Sidecar | null>;
  /** Throws ApiError reason AlreadyExists (409) when the name is taken. */
  createSidecar(namespace: string, sidecar: Sidecar, opts?: CallOptions): Promise<Sidecar>;
  /** Optimistic concurrency: throws ApiError reason Conflict (409) on a stale resourceVersion. */
  updateSidecar(namespace: string, sidecar: Sidecar, opts?: CallOptions): Promise<Sidecar>;
  getVineyardd(namespace: string, name: string, opts?: CallOptions): Promise<Vineyardd | null>;
  getPersistentVolumeClaim(
    namespace: string,
    name: string,
    opts?: CallOptions,
  ): Promise<V1PersistentVolumeClaim | null>;
  /** Fluid's (data.fluid.io); throws ApiError 404 that names no object when Fluid's CRDs are not installed. */
  getDataset(namespace: string, name: string, opts?: CallOptions): Promise<Dataset | null>;
  getVineyardRuntime(namespace: string, name: string, opts?: CallOptions): Promise<VineyardRuntime | null>;
  listPods(namespace: string, labelSelector: string, opts?: CallOptions): Promise<V1Pod[]>;
  /** vineyardd's GlobalObjects or LocalObjects of a namespace that match a label selector. */
  listVineyardObjects(
    plural: VineyardObjectPlural,
    namespace: string,
    labelSelector: string,
    opts?: CallOptions,
  ): Promise<VineyardObject[]>;
  /** How many pods a workload asks for (spec.replicas, a Job's spec.parallelism, 1 when unset); `null` when it does not exist. */
  getOwnerReplicas(namespace: string, kind: ReplicaOwnerKind, name: string, opts?: CallOptions): Promise<number | null>;
  getConfigMap(namespace: string, name: string, opts?: CallOptions): Promise<V1ConfigMap | null>;
  /** Throws ApiError reason AlreadyExists (409) when the name is taken. */
  createConfigMap(namespace: string, configMap: V1ConfigMap, opts?: CallOptions): Promise<V1ConfigMap>;
  /** Optimistic concurrency: throws ApiError reason Conflict (409) on a stale resourceVersion. */
  updateConfigMap(namespace: string, configMap: V1ConfigMap, opts?: CallOptions): Promise<V1ConfigMap>;
  /** The operator's Operation CR; `null` when it does not exist. */
  getOperation(namespace: string, name: string, opts?: CallOptions): Promise<VineyardOperation | null>;
  /** Throws ApiError reason AlreadyExists (409) when the name is taken. */
  createOperation(namespace: string, operation: VineyardOperation, opts?: CallOptions): Promise<VineyardOperation>;
  /** A merge patch of metadata.labels only: never a full update of someone else's pod. */
  patchPodLabels(namespace: string, name: string, labels: Record<string, string>, opts?: CallOptions): Promise<void>;
  createEvent(namespace: string, event: CoreV1Event, opts?: CallOptions): Promise<void>;
  /** A merge patch of an Event's count and lastTimestamp (aggregation). */
  patchEvent(namespace: string, name: string, patch: EventCountPatch, opts?: CallOptions): Promise<void>;
  /** Whether a Service exists; undefined when this store cannot tell (an in-memory store given no Services). */
  serviceExists(namespace: string, name: string, opts?: CallOptions): Promise<boolean | undefined>;
  /** Resolves once the backing store has answered a request (readiness). */
  ping(opts?: CallOptions): Promise<void>;
}

/** An API call that failed, carrying what a user needs to act on it. */
export class ApiError extends Error {
  constructor(
    /** The call, e.g. `get sidecars vineyard-job/sidecar-sample`. */
    readonly call: string,
    /** HTTP status; 0 when no response came (refused, reset, timed out). */
    readonly status: number,
    /** Kubernetes Status reason: NotFound, AlreadyExists, Conflict, ... */
    readonly reason: string,
    message: string,
  ) {
    super(`${call}: ${message}`);
    this.name = 'ApiError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }
  get alreadyExists(): boolean {
    return this.status === 409 && this.reason === 'AlreadyExists';
  }
  get conflict(): boolean {
    return this.status === 409 && this.reason !== 'AlreadyExists';
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;
