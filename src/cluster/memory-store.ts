// An in-memory ClusterStore with the API server's semantics for the calls we
// make (NotFound, AlreadyExists, Conflict on a stale resourceVersion), used in
// standalone mode, by the offline CLI and by tests.
import { randomUUID } from 'node:crypto';
import type { V1Pod, CoreV1Event, V1ConfigMap, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { ReplicaOwnerKind, VineyardObject, VineyardObjectPlural, VineyardOperation } from '../vineyard/objects.js';
import type { Sidecar, Vineyardd } from '../vineyard/sidecar.js';
import type { Dataset, VineyardRuntime } from '../vineyard/fluid.js';
import { ApiError, type ClusterStore, type EventCountPatch } from './store.js';
import { matchesSelector, parseSelector } from './label-selector.js';
import {
  DATASET_KIND,
  DATASET_PLURAL,
  FLUID_GROUP,
  GLOBALOBJECT_KIND,
  LOCALOBJECT_KIND,
  OPERATION_KIND,
  OPERATION_PLURAL,
  SIDECAR_KIND,
  SIDECAR_PLURAL,
  VINEYARD_GROUP,
  VINEYARD_RUNTIME_KIND,
  VINEYARD_RUNTIME_PLURAL,
  VINEYARDD_KIND,
} from '../vineyard/names.js';

type FluidKind = typeof DATASET_PLURAL | typeof VINEYARD_RUNTIME_PLURAL;
type Kind = 'sidecars' | 'vineyardds' | 'pods' | 'persistentvolumeclaims' | FluidKind | DataKind;
/** What data-aware scheduling reads and writes. */
type DataKind = VineyardObjectPlural | 'configmaps' | 'replicasets' | 'statefulsets' | 'jobs' | typeof OPERATION_PLURAL;
const DATA_KINDS: Record<string, DataKind> = {
  [GLOBALOBJECT_KIND]: 'globalobjects',
  [LOCALOBJECT_KIND]: 'localobjects',
  ConfigMap: 'configmaps',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
  Job: 'jobs',
  [OPERATION_KIND]: OPERATION_PLURAL,
};
const FLUID_KINDS: Record<string, FluidKind> = {
  [DATASET_KIND]: DATASET_PLURAL,
  [VINEYARD_RUNTIME_KIND]: VINEYARD_RUNTIME_PLURAL,
};
const isFluid = (apiVersion: unknown) => typeof apiVersion === 'string' && apiVersion.startsWith(`${FLUID_GROUP}/`);
/**
 * Stored objects are frozen and handed out as they are, as a watch cache
 * hands out its objects: a caller that modifies what it read fails here, in
 * tests, instead of corrupting an informer's cache in a cluster.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface Stored {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
  };
}

export const MAX_WRITES_KEPT = 1_000;
const SIDECAR_RESOURCE = `${SIDECAR_PLURAL}.${VINEYARD_GROUP}`;

/** Uids stable from run to run (previews that diff cleanly, fixtures), instead of random ones. */
export function sequentialUids(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

export interface MemoryWrite {
  verb: 'create' | 'update' | 'patch' | 'event';
  kind: string;
  namespace: string;
  name: string;
}

export class MemoryStore implements ClusterStore {
  private readonly objects = new Map<string, Stored>();
  /**
   * Fluid's resources are served, as in a cluster, only where Fluid is
   * installed (its CRDs come together): once one of its CRDs or objects was loaded.
   */
  private fluidInstalled = false;
  /** Services are only named (the webhook asks whether one exists); none given means the store cannot tell. */
  private readonly services = new Set<string>();
  private servicesKnown = false;
  private version = 0;
  /**
   * Every write, in order, so that tests can assert a dry run leaves it
   * empty. Only the last MAX_WRITES_KEPT (or more) are kept: a standalone
   * server counts a default Sidecar per pod and must not grow for ever.
   */
  readonly writes: MemoryWrite[] = [];
  readonly events: CoreV1Event[] = [];

  /** `newUid` makes uids deterministic for fixtures; default random. */
  constructor(
    seed: readonly unknown[] = [],
    private readonly newUid: () => string = randomUUID,
  ) {
    for (const o of seed) this.load(o);
  }

  /**
   * Adds an object read from a manifest (Sidecar, Vineyardd, Pod,
   * PersistentVolumeClaim, Fluid's Dataset and VineyardRuntime, or the
   * CustomResourceDefinition of one of Fluid's, which only makes it served;
   * what data-aware scheduling reads: GlobalObject, LocalObject, ConfigMap,
   * ReplicaSet, StatefulSet, Job, Operation); others are ignored.
   */
  load(obj: unknown): boolean {
    const o = obj as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (o?.kind === 'CustomResourceDefinition') {
      const plural = Object.values(FLUID_KINDS).find(p => o.metadata?.name === `${p}.${FLUID_GROUP}`);
      if (plural) this.fluidInstalled = true;
      return plural !== undefined;
    }
    if (o?.kind === 'Service' && o.apiVersion === 'v1' && o.metadata?.name) {
      this.servicesKnown = true;
      this.services.add(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);
      return true;
    }
    const fluid = o?.kind && isFluid(o.apiVersion) ? FLUID_KINDS[o.kind] : undefined;
    if (fluid) this.fluidInstalled = true;
    const kind: Kind | undefined =
      o?.kind === SIDECAR_KIND
        ? 'sidecars'
        : o?.kind === VINEYARDD_KIND
          ? 'vineyardds'
          : o?.kind === 'Pod'
            ? 'pods'
            : o?.kind === 'PersistentVolumeClaim'
              ? 'persistentvolumeclaims'
              : (fluid ?? (o?.kind ? DATA_KINDS[o.kind] : undefined));
    if (!kind || !o?.metadata?.name) return false;
    const ns = o.metadata.namespace ?? 'default';
    this.put(kind, ns, o.metadata.name, structuredClone(o) as Stored);
    return true;
  }

  private logWrite(w: MemoryWrite): void {
    if (this.writes.length >= 2 * MAX_WRITES_KEPT) this.writes.splice(0, MAX_WRITES_KEPT);
    this.writes.push(w);
  }

  private key(kind: Kind, ns: string, name: string): string {
    return `${kind}/${ns}/${name}`;
  }

  private put(kind: Kind, ns: string, name: string, obj: Stored): Stored {
    obj.metadata ??= {};
    obj.metadata.namespace = ns;
    obj.metadata.resourceVersion = String(++this.version);
    obj.metadata.uid ??= this.newUid();
    this.objects.set(this.key(kind, ns, name), deepFreeze(obj));
    return obj;
  }

  private read<T>(kind: Kind, ns: string, name: string): T | null {
    return (this.objects.get(this.key(kind, ns, name)) as T | undefined) ?? null;
  }

  /** A create as the API server answers it: AlreadyExists when taken; server metadata (resourceVersion, uid) its own. */
  private create(kind: Kind, resource: string, call: string, namespace: string, body: object): Stored {
    const obj = structuredClone(body) as Stored;
    const name = obj.metadata?.name ?? '';
    if (this.objects.has(this.key(kind, namespace, name))) {
      throw new ApiError(call + name, 409, 'AlreadyExists', `${resource} "${name}" already exists`);
    }
    obj.metadata ??= {};
    delete obj.metadata.resourceVersion;
    delete obj.metadata.uid;
    this.logWrite({ verb: 'create', kind, namespace, name });
    return this.put(kind, namespace, name, obj);
  }

  /** An update with optimistic concurrency: NotFound when absent, Conflict on a stale resourceVersion; the uid is kept. */
  private update(kind: Kind, resource: string, namespace: string, body: object): Stored {
    const obj = structuredClone(body) as Stored;
    const name = obj.metadata?.name ?? '';
    const call = `update ${kind} ${namespace}/${name}`;
    const cur = this.objects.get(this.key(kind, namespace, name));
    if (!cur) throw new ApiError(call, 404, 'NotFound', `${resource} "${name}" not found`);
    if (obj.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw new ApiError(
        call,
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    obj.metadata!.uid = cur.metadata?.uid;
    this.logWrite({ verb: 'update', kind, namespace, name });
    return this.put(kind, namespace, name, obj);
  }

  async getSidecar(namespace: string, name: string): Promise<Sidecar | null> {
    return this.read<Sidecar>('sidecars', namespace, name);
  }

  async createSidecar(namespace: string, sidecar: Sidecar): Promise<Sidecar> {
    return this.create('sidecars', SIDECAR_RESOURCE, `create sidecars ${namespace}/`, namespace, sidecar) as Sidecar;
  }

  async updateSidecar(namespace: string, sidecar: Sidecar): Promise<Sidecar> {
    return this.update('sidecars', SIDECAR_RESOURCE, namespace, sidecar) as Sidecar;
  }

  async getVineyardd(namespace: string, name: string): Promise<Vineyardd | null> {
    return this.read<Vineyardd>('vineyardds', namespace, name);
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | null> {
    return this.read<V1PersistentVolumeClaim>('persistentvolumeclaims', namespace, name);
  }

  private readFluid<T>(kind: FluidKind, namespace: string, name: string): T | null {
    if (!this.fluidInstalled) {
      throw new ApiError(
        `get ${kind} ${namespace}/${name}`,
        404,
        'NotFound',
        `the server could not find the requested resource: the API server does not serve ${kind}.${FLUID_GROUP}; is its CustomResourceDefinition installed?`,
      );
    }
    return this.read<T>(kind, namespace, name);
  }

  async getDataset(namespace: string, name: string): Promise<Dataset | null> {
    return this.readFluid<Dataset>(DATASET_PLURAL, namespace, name);
  }

  async getVineyardRuntime(namespace: string, name: string): Promise<VineyardRuntime | null> {
    return this.readFluid<VineyardRuntime>(VINEYARD_RUNTIME_PLURAL, namespace, name);
  }

  private list<T>(kind: Kind, namespace: string, labelSelector: string): T[] {
    const sel = parseSelector(labelSelector);
    const out: T[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(`${kind}/${namespace}/`)) continue;
      if (matchesSelector(sel, o.metadata?.labels ?? {})) out.push(o as T);
    }
    return out;
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.list<V1Pod>('pods', namespace, labelSelector);
  }

  async listVineyardObjects(
    plural: VineyardObjectPlural,
    namespace: string,
    labelSelector: string,
  ): Promise<VineyardObject[]> {
    return this.list<VineyardObject>(plural, namespace, labelSelector);
  }

  async getOwnerReplicas(namespace: string, kind: ReplicaOwnerKind, name: string): Promise<number | null> {
    const owner = this.read<{ spec?: { replicas?: number; parallelism?: number } }>(DATA_KINDS[kind]!, namespace, name);
    if (!owner) return null;
    const n = kind === 'Job' ? owner.spec?.parallelism : owner.spec?.replicas;
    return typeof n === 'number' ? n : 1;
  }

  async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | null> {
    return this.read<V1ConfigMap>('configmaps', namespace, name);
  }

  async createConfigMap(namespace: string, configMap: V1ConfigMap): Promise<V1ConfigMap> {
    return this.create(
      'configmaps',
      'configmaps',
      `create configmaps ${namespace}/`,
      namespace,
      configMap,
    ) as V1ConfigMap;
  }

  async updateConfigMap(namespace: string, configMap: V1ConfigMap): Promise<V1ConfigMap> {
    return this.update('configmaps', 'configmaps', namespace, configMap) as V1ConfigMap;
  }

  async getOperation(namespace: string, name: string): Promise<VineyardOperation | null> {
    return this.read<VineyardOperation>(OPERATION_PLURAL, namespace, name);
  }

  async createOperation(namespace: string, operation: VineyardOperation): Promise<VineyardOperation> {
    const resource = `${OPERATION_PLURAL}.${VINEYARD_GROUP}`;
    // The API server ignores a status sent with a create (the CRD has a status subresource).
    const { status: _status, ...body } = operation as VineyardOperation & { status?: unknown };
    return this.create(
      OPERATION_PLURAL,
      resource,
      `create ${resource} ${namespace}/`,
      namespace,
      body,
    ) as VineyardOperation;
  }

  async patchPodLabels(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
    const cur = this.objects.get(this.key('pods', namespace, name));
    if (!cur) throw new ApiError(`patch pods ${namespace}/${name}`, 404, 'NotFound', `pods "${name}" not found`);
    const next = structuredClone(cur);
    next.metadata = { ...next.metadata, labels: { ...(next.metadata?.labels ?? {}), ...labels } };
    this.put('pods', namespace, name, next);
    this.logWrite({ verb: 'patch', kind: 'pods', namespace, name });
  }

  async createEvent(namespace: string, event: CoreV1Event): Promise<void> {
    this.events.push(structuredClone(event));
    this.logWrite({ verb: 'event', kind: 'events', namespace, name: event.metadata?.name ?? '' });
  }

  async patchEvent(namespace: string, name: string, patch: EventCountPatch): Promise<void> {
    const e = this.events.find(x => x.metadata?.namespace === namespace && x.metadata?.name === name);
    if (!e) throw new ApiError(`patch events ${namespace}/${name}`, 404, 'NotFound', `events "${name}" not found`);
    Object.assign(e, structuredClone(patch));
    this.logWrite({ verb: 'patch', kind: 'events', namespace, name });
  }

  async serviceExists(namespace: string, name: string): Promise<boolean | undefined> {
    if (!this.servicesKnown) return undefined;
    return this.services.has(`${namespace}/${name}`);
  }

  async ping(): Promise<void> {}
}
