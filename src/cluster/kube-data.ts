// The calls of data-aware scheduling over the Kubernetes API: vineyardd's
// GlobalObjects and LocalObjects (read live only while their watch caches
// are not synced), the size of a pod's owner, the job ConfigMaps, and the
// Operation an assembly or repartition consumer waits for. Kept
// apart from kube-store.ts so that each file's custom-object calls name their
// own resources (test/helpers/api-calls.ts derives RBAC from them).
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import {
  GLOBALOBJECT_PLURAL,
  LOCALOBJECT_PLURAL,
  OPERATION_PLURAL,
  VINEYARD_GROUP,
  VINEYARD_VERSION,
} from '../vineyard/names.js';
import type { ReplicaOwnerKind, VineyardObject, VineyardObjectPlural, VineyardOperation } from '../vineyard/objects.js';
import type { CallOptions } from './store.js';
import type { KubeCaller } from './kube-call.js';
import { expectOk, objectOrNull } from './kube-errors.js';
import { requireName, requireSegment } from './kube-store.js';

export class DataCalls {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;

  constructor(
    kc: KubeConfig,
    private readonly caller: KubeCaller,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
  }

  async listVineyardObjects(
    plural: VineyardObjectPlural,
    namespace: string,
    labelSelector: string,
    opts?: CallOptions,
  ): Promise<VineyardObject[]> {
    const call = `list ${plural}.${VINEYARD_GROUP} ${namespace} -l ${labelSelector}`;
    requireSegment(call, 'namespace', namespace);
    const base = { group: VINEYARD_GROUP, version: VINEYARD_VERSION, namespace, labelSelector };
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      plural === 'globalobjects'
        ? this.custom.listNamespacedCustomObject({ ...base, plural: GLOBALOBJECT_PLURAL }, o)
        : this.custom.listNamespacedCustomObject({ ...base, plural: LOCALOBJECT_PLURAL }, o),
    );
    return expectOk<{ items?: VineyardObject[] }>(call, answer).items ?? [];
  }

  async getOwnerReplicas(
    namespace: string,
    kind: ReplicaOwnerKind,
    name: string,
    opts?: CallOptions,
  ): Promise<number | null> {
    const resource = kind === 'Job' ? 'jobs' : kind === 'StatefulSet' ? 'statefulsets' : 'replicasets';
    const call = `get ${resource} ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      kind === 'Job'
        ? this.batch.readNamespacedJob({ namespace, name }, o)
        : kind === 'StatefulSet'
          ? this.apps.readNamespacedStatefulSet({ namespace, name }, o)
          : this.apps.readNamespacedReplicaSet({ namespace, name }, o),
    );
    const owner = objectOrNull<{ spec?: { replicas?: number; parallelism?: number } }>(call, answer, name, resource);
    if (!owner) return null;
    const n = kind === 'Job' ? owner.spec?.parallelism : owner.spec?.replicas;
    return typeof n === 'number' ? n : 1;
  }

  async getConfigMap(namespace: string, name: string, opts?: CallOptions): Promise<V1ConfigMap | null> {
    const call = `get configmaps ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.core.readNamespacedConfigMap({ namespace, name }, o),
    );
    return objectOrNull<V1ConfigMap>(call, answer, name, 'configmaps');
  }

  async createConfigMap(namespace: string, body: V1ConfigMap, opts?: CallOptions): Promise<V1ConfigMap> {
    const call = `create configmaps ${namespace}/${body.metadata?.name ?? ''}`;
    requireSegment(call, 'namespace', namespace);
    const answer = await this.caller.send({ call, signal: opts?.signal, body }, o =>
      this.core.createNamespacedConfigMap({ namespace, body }, o),
    );
    return expectOk<V1ConfigMap>(call, answer);
  }

  async updateConfigMap(namespace: string, body: V1ConfigMap, opts?: CallOptions): Promise<V1ConfigMap> {
    const call = `update configmaps ${namespace}/${body.metadata?.name ?? ''}`;
    requireSegment(call, 'namespace', namespace);
    const name = requireName(call, body.metadata?.name);
    const answer = await this.caller.send({ call, signal: opts?.signal, body }, o =>
      this.core.replaceNamespacedConfigMap({ namespace, name, body }, o),
    );
    return expectOk<V1ConfigMap>(call, answer);
  }

  async getOperation(namespace: string, name: string, opts?: CallOptions): Promise<VineyardOperation | null> {
    const call = `get ${OPERATION_PLURAL}.${VINEYARD_GROUP} ${namespace}/${name}`;
    requireSegment(call, 'namespace', namespace);
    requireName(call, name);
    const answer = await this.caller.send({ call, signal: opts?.signal }, o =>
      this.custom.getNamespacedCustomObject(
        { group: VINEYARD_GROUP, version: VINEYARD_VERSION, plural: OPERATION_PLURAL, namespace, name },
        o,
      ),
    );
    return objectOrNull<VineyardOperation>(call, answer, name, `${OPERATION_PLURAL}.${VINEYARD_GROUP}`);
  }

  async createOperation(namespace: string, body: VineyardOperation, opts?: CallOptions): Promise<VineyardOperation> {
    const call = `create ${OPERATION_PLURAL}.${VINEYARD_GROUP} ${namespace}/${body.metadata?.name ?? ''}`;
    requireSegment(call, 'namespace', namespace);
    const answer = await this.caller.send({ call, signal: opts?.signal, body }, o =>
      this.custom.createNamespacedCustomObject(
        { group: VINEYARD_GROUP, version: VINEYARD_VERSION, plural: OPERATION_PLURAL, namespace, body },
        o,
      ),
    );
    return expectOk<VineyardOperation>(call, answer);
  }
}
