// The watch caches the webhook keeps in a cluster: every Sidecar and Vineyardd
// (few, small, read on every review), and the pods this webhook injected (the
// default Sidecars' counts are derived from them), never every pod: the label
// selector keeps the cache to pods that carry a vineyardd, the field selector
// to pods not yet finished, and of those the API server sends metadata only
// (PartialObjectMetadata): a pod's spec and status are most of its bytes and
// change on every step of its life, and the count needs neither. Lists go
// through KubeCaller, so objects stay the JSON the server sent, like the watch
// events.
import {
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  makeInformer,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { Sidecar, Vineyardd } from '../vineyard/sidecar.js';
import {
  GLOBALOBJECT_PLURAL,
  LOCALOBJECT_PLURAL,
  ROLE_LABEL,
  ROLE_LABEL_VALUE,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_PLURAL,
  VINEYARD_GROUP,
  VINEYARD_VERSION,
  VINEYARDD_PLURAL,
} from '../vineyard/names.js';
import type { VineyardObject } from '../vineyard/objects.js';
import { KubeCaller } from './kube-call.js';
import { expectOk } from './kube-errors.js';
import { ApiError } from './store.js';
import { WatchCache, type CacheState } from './watch-cache.js';
import { fluidCaches, type FluidCaches } from './fluid-caches.js';

/** Pods injected by this webhook: they carry both labels it writes or requires. */
export const INJECTED_PODS_SELECTOR = `${ROLE_LABEL}=${ROLE_LABEL_VALUE},${SIDECAR_ENABLED_LABEL}=true`;
/** Pods that run or will run; one that finishes leaves the watch as a deletion. */
export const LIVE_PODS_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed';
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** A pod as PartialObjectMetadata (meta.k8s.io/v1): kind, apiVersion and metadata. */
export interface PodMetadata extends KubernetesObject {
  metadata?: V1ObjectMeta;
}

/** A Watch whose events carry metadata only: client-node's Watch with the Accept header replaced. */
function metadataWatch(kc: KubeConfig): Watch {
  const config = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    applySecurityAuthentication: async (ctx: Parameters<KubeConfig['applySecurityAuthentication']>[0]) => {
      await kc.applySecurityAuthentication(ctx);
      ctx.setHeaderParam('Accept', METADATA_WATCH);
    },
  };
  return new Watch(config as unknown as KubeConfig);
}

export interface KubeCaches extends FluidCaches {
  sidecars: WatchCache<Sidecar & KubernetesObject>;
  vineyardds: WatchCache<Vineyardd & KubernetesObject>;
  /** Metadata of the live pods this webhook injected. */
  injectedPods: WatchCache<PodMetadata>;
  /** vineyardd's objects (--sync_crds), read by data-aware scheduling on every pod that requires a job. */
  globalobjects: WatchCache<VineyardObject & KubernetesObject>;
  localobjects: WatchCache<VineyardObject & KubernetesObject>;
  /** Resolves once every cache has synced or found its resource absent. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export interface KubeCachesOptions {
  onState?: (resource: string, state: CacheState, err?: unknown) => void;
  onSidecarChange?: (s: Sidecar) => void;
  onInjectedPodChange?: (p: PodMetadata) => void;
}

/** The list a cache starts from; a 404 keeps its status so the cache can tell "CRD not installed". */
async function listRaw<T extends KubernetesObject>(
  caller: KubeCaller,
  call: string,
  run: Parameters<KubeCaller['send']>[1],
  accept?: string,
): Promise<KubernetesListObject<T>> {
  const answer = await caller.send({ call, ...(accept ? { accept } : {}) }, run);
  try {
    return expectOk<KubernetesListObject<T>>(call, answer);
  } catch (e) {
    if (e instanceof ApiError) Object.assign(e, { statusCode: e.status });
    throw e;
  }
}

export function startKubeCaches(kc: KubeConfig, opts: KubeCachesOptions = {}): KubeCaches {
  // Lists can be larger than one review's read: a longer limit than the per-call default.
  const caller = new KubeCaller(30_000);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const crdPath = (plural: string) => `/apis/${VINEYARD_GROUP}/${VINEYARD_VERSION}/${plural}`;
  const customCache = <T extends KubernetesObject>(plural: string, onChange?: (o: T) => void) =>
    new WatchCache<T>(
      makeInformer<T>(kc, crdPath(plural), () =>
        listRaw<T>(caller, `list ${plural}.${VINEYARD_GROUP}`, o =>
          custom.listClusterCustomObject({ group: VINEYARD_GROUP, version: VINEYARD_VERSION, plural }, o),
        ),
      ),
      { resource: `${plural}.${VINEYARD_GROUP}`, onState: opts.onState, onChange },
    );
  const sidecars = customCache<Sidecar & KubernetesObject>(SIDECAR_PLURAL, opts.onSidecarChange);
  const vineyardds = customCache<Vineyardd & KubernetesObject>(VINEYARDD_PLURAL);
  const globalobjects = customCache<VineyardObject & KubernetesObject>(GLOBALOBJECT_PLURAL);
  const localobjects = customCache<VineyardObject & KubernetesObject>(LOCALOBJECT_PLURAL);
  const injectedPods = new WatchCache<PodMetadata>(
    new ListWatch<PodMetadata>(
      '/api/v1/pods',
      metadataWatch(kc),
      () =>
        listRaw<PodMetadata>(
          caller,
          `list pods -l ${INJECTED_PODS_SELECTOR}`,
          o =>
            core.listPodForAllNamespaces(
              { labelSelector: INJECTED_PODS_SELECTOR, fieldSelector: LIVE_PODS_FIELD_SELECTOR },
              o,
            ),
          METADATA_LIST,
        ),
      false,
      INJECTED_PODS_SELECTOR,
      LIVE_PODS_FIELD_SELECTOR,
    ),
    { resource: 'pods (injected)', onState: opts.onState, onChange: opts.onInjectedPodChange },
  );
  const { datasets, vineyardruntimes } = fluidCaches(kc, (call, run) => listRaw(caller, call, run), opts.onState);
  const all = [sidecars, vineyardds, injectedPods, datasets, vineyardruntimes, globalobjects, localobjects];
  const started = all.map(c => c.start());
  return {
    sidecars,
    vineyardds,
    injectedPods,
    datasets,
    vineyardruntimes,
    globalobjects,
    localobjects,
    ready: () => Promise.all(started).then(() => undefined),
    stop: () => Promise.all(all.map(c => c.stop())).then(() => undefined),
  };
}
