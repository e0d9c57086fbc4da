// ClusterStore over the Kubernetes API (@kubernetes/client-node): Sidecar and
// Vineyardd custom resources through CustomObjectsApi, pods and events through
// CoreV1Api, readiness through /version. Objects come back as the JSON the
// server sent (see kube-call.ts); every failure is an ApiError naming the call.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  VersionApi,
  type CoreV1Event,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Sidecar, Vineyardd } from '../vineyard/sidecar.js';
import { SIDECAR_PLURAL, VINEYARD_GROUP, VINEYARD_VERSION, VINEYARDD_PLURAL } from '../vineyard/names.js';
import { ApiError, type CallOptions, type ClusterStore, type EventCountPatch } from './store.js';
import { DEFAULT_CALL_TIMEOUT_MS, KubeCaller } from './kube-call.js';
import { expectOk, objectOrNull } from './kube-errors.js';
import { FluidReads } from './kube-fluid.js';
import { DataCalls } from './kube-data.js';

export interface KubeStoreOptions {
  /** Per-call limit in ms, on top of the caller's AbortSignal. Default 5000. */
  timeoutMs?: number;
}

export function createKubeStore(kc: KubeConfig, opts: KubeStoreOptions = {}): ClusterStore {
  return new KubeStore(kc, new KubeCaller(opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
}

const CRD = { group: VINEYARD_GROUP, version: VINEYARD_VERSION };
const qualified = (plural: string) => `${plural}.${VINEYARD_GROUP}`;

/** The name a create will get, for messages: `x`, or `x-*` for generateName. */
const nameOf = (meta: { name?: string; generateName?: string } | undefined) =>
  meta?.name || (meta?.generateName ? `${meta.generateName}*` : '');

/**
 * Names and namespaces go into the URL path. Like client-go, refuse before
 * sending what is not exactly one path segment: `.` and `..` (URL
 * normalisation makes `sidecars/.` the list of sidecars, `namespaces/..`
 * every namespace), and anything holding `/` or `%`.
 */
export function requireSegment(call: string, what: 'name' | 'namespace', value: string): string {
  const problem =
    value === '.' || value === '..'
      ? `may not be ${JSON.stringify(value)}`
      : /[/%]/.test(value)
        ? `may not contain '/' or '%'`
        : undefined;
  if (problem)
    throw new ApiError(call, 400, 'BadRequest', `invalid resource ${what} ${JSON.stringify(value)}: ${problem}`);
  return value;
}

/** client-go refuses an empty name before sending; so do we (it would address the collection). */
export function requireName(call: string, name: string | undefined): string {
  if (!name) throw new ApiError(call, 400, 'BadRequest', 'resource name may not be empty');
  return requireSegment(call, 'name', name);
}

class KubeStore implements ClusterStore {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly version: VersionApi;
  private readonly fluid: FluidReads;
  private readonly data: DataCalls;

  constructor(
    kc: KubeConfig,
    private readonly caller: KubeCaller,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.version = kc.makeApiClient(VersionApi);
    this.fluid = new FluidReads(kc, caller);
    this.data = new DataCalls(kc, caller);
  }

  private async getCustom<T>(plural: string, namespace: string, name: string, opts?: CallOptions): Promise<T | null> {
    const call = `get ${plural} ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.custom.getNamespacedCustomObject({ ...CRD, plural, namespace, name }, o),
    );
    return objectOrNull<T>(call, answer, name, qualified(plural));
  }

  getSidecar(namespace: string, name: string, opts?: CallOptions): Promise<Sidecar | null> {
    return this.getCustom<Sidecar>(SIDECAR_PLURAL, namespace, name, opts);
  }

  getVineyardd(namespace: string, name: string, opts?: CallOptions): Promise<Vineyardd | null> {
    return this.getCustom<Vineyardd>(VINEYARDD_PLURAL, namespace, name, opts);
  }

  getPersistentVolumeClaim(...a: Parameters<ClusterStore['getPersistentVolumeClaim']>) {
    return this.fluid.getPersistentVolumeClaim(...a);
  }
  getDataset(...a: Parameters<ClusterStore['getDataset']>) {
    return this.fluid.getDataset(...a);
  }
  getVineyardRuntime(...a: Parameters<ClusterStore['getVineyardRuntime']>) {
    return this.fluid.getVineyardRuntime(...a);
  }
  listVineyardObjects(...a: Parameters<ClusterStore['listVineyardObjects']>) {
    return this.data.listVineyardObjects(...a);
  }
  getOwnerReplicas(...a: Parameters<ClusterStore['getOwnerReplicas']>) {
    return this.data.getOwnerReplicas(...a);
  }
  getConfigMap(...a: Parameters<ClusterStore['getConfigMap']>) {
    return this.data.getConfigMap(...a);
  }
  createConfigMap(...a: Parameters<ClusterStore['createConfigMap']>) {
    return this.data.createConfigMap(...a);
  }
  updateConfigMap(...a: Parameters<ClusterStore['updateConfigMap']>) {
    return this.data.updateConfigMap(...a);
  }
  getOperation(...a: Parameters<ClusterStore['getOperation']>) {
    return this.data.getOperation(...a);
  }
  createOperation(...a: Parameters<ClusterStore['createOperation']>) {
    return this.data.createOperation(...a);
  }

  async createSidecar(namespace: string, sidecar: Sidecar, opts?: CallOptions): Promise<Sidecar> {
    const call = `create ${SIDECAR_PLURAL} ${namespace}/${nameOf(sidecar.metadata)}`;
    requireSegment(call, 'namespace', namespace);
    const answer = await this.caller.send({ call, signal: opts?.signal, body: sidecar }, o =>
      this.custom.createNamespacedCustomObject({ ...CRD, plural: SIDECAR_PLURAL, namespace, body: sidecar }, o),
    );
    return expectOk<Sidecar>(call, answer);
  }

  async updateSidecar(namespace: string, sidecar: Sidecar, opts?: CallOptions): Promise<Sidecar> {
    const call = `update ${SIDECAR_PLURAL} ${namespace}/${sidecar.metadata.name ?? ''}`;
    requireSegment(call, 'namespace', namespace);
    const name = requireName(call, sidecar.metadata.name);
    const answer = await this.caller.send({ call, signal: opts?.signal, body: sidecar }, o =>
      this.custom.replaceNamespacedCustomObject({ ...CRD, plural: SIDECAR_PLURAL, namespace, name, body: sidecar }, o),
    );
    return expectOk<Sidecar>(call, answer);
  }

  async listPods(namespace: string, labelSelector: string, opts?: CallOptions): Promise<V1Pod[]> {
    const call = `list pods ${namespace} -l ${labelSelector}`;
    requireSegment(call, 'namespace', namespace);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.core.listNamespacedPod({ namespace, labelSelector }, o),
    );
    return expectOk<{ items?: V1Pod[] }>(call, answer).items ?? [];
  }

  async patchPodLabels(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    opts?: CallOptions,
  ): Promise<void> {
    const call = `patch pods ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    // A merge patch touching metadata.labels only: the pod belongs to someone
    // else, and a full update would race with every other writer.
    const body = { metadata: { labels } };
    const answer = await this.caller.send(
      { call, signal: opts?.signal, body, contentType: PatchStrategy.MergePatch },
      o => this.core.patchNamespacedPod({ namespace, name, body }, o),
    );
    expectOk<unknown>(call, answer);
  }

  async createEvent(namespace: string, event: CoreV1Event, opts?: CallOptions): Promise<void> {
    const call = `create events ${namespace}/${nameOf(event.metadata)}`;
    requireSegment(call, 'namespace', namespace);
    const answer = await this.caller.send({ call, signal: opts?.signal, body: event }, o =>
      this.core.createNamespacedEvent({ namespace, body: event }, o),
    );
    expectOk<unknown>(call, answer);
  }

  async patchEvent(namespace: string, name: string, patch: EventCountPatch, opts?: CallOptions): Promise<void> {
    const call = `patch events ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send(
      { call, signal: opts?.signal, body: patch, contentType: PatchStrategy.MergePatch },
      o => this.core.patchNamespacedEvent({ namespace, name, body: patch }, o),
    );
    expectOk<unknown>(call, answer);
  }

  async serviceExists(namespace: string, name: string, opts?: CallOptions): Promise<boolean> {
    const call = `get services ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.core.readNamespacedService({ namespace, name }, o),
    );
    return objectOrNull<unknown>(call, answer, name, 'services') !== null;
  }

  async ping(opts?: CallOptions): Promise<void> {
    const call = 'get /version';
    const answer = await this.caller.send({ call, signal: opts?.signal }, o => this.version.getCode({}, o));
    expectOk<unknown>(call, answer);
  }
}
