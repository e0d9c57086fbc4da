// Finds the Sidecar CR a pod asks for (the pod's annotation, else its
// workload's default Sidecar), creating the default CR. The only I/O of the sidecar endpoint; writes
// are skipped on dry runs and for pods that get no injection.
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { ClusterStore, CallOptions } from '../../cluster/store.js';
import { ApiError } from '../../cluster/store.js';
import { defaultSidecarIdentity, type DefaultSidecarIdentity } from './pod-default-sidecar.js';
import { injectionSkip, type SidecarContext } from './inject-sidecar.js';
import { podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import { allow, deny } from '../../admission/mutator.js';
import type { Sidecar } from '../../vineyard/sidecar.js';
import {
  DEFAULT_SIDECAR_NAME,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_META_ANNOTATION,
  SIDECAR_KIND,
  SIDECAR_NAME_ANNOTATION,
  VINEYARD_GROUP,
  VINEYARD_VERSION,
} from '../../vineyard/names.js';
import { isSubdomain } from '../../vineyard/label-rules.js';
import {
  SIDECAR_METAS,
  type Progress,
  type ResolveInput,
  type Resolved,
  type SidecarMeta,
} from '../../admission/endpoint.js';

/**
 * The pod's owners (its ReplicaSet, Job...) also own the default CR, so it goes
 * away with the workload. Without `controller` (the workload does not manage
 * the CR) and `blockOwnerDeletion` (which would need delete rights on the
 * owner under OwnerReferencesPermissionEnforcement).
 */
function ownersOf(owners: V1OwnerReference[] | undefined): V1OwnerReference[] {
  return (Array.isArray(owners) ? owners : [])
    .filter(o => o && typeof o === 'object' && o.apiVersion && o.kind && o.name && o.uid)
    .map(o => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid }));
}

function newDefaultSidecar(
  namespace: string,
  id: DefaultSidecarIdentity,
  podOwners: V1OwnerReference[] | undefined,
): Sidecar {
  const owners = ownersOf(podOwners);
  return {
    apiVersion: `${VINEYARD_GROUP}/${VINEYARD_VERSION}`,
    kind: SIDECAR_KIND,
    metadata: { name: id.name, namespace, ...(owners.length ? { ownerReferences: owners } : {}) },
    spec: { replicas: 1, selector: id.selector },
  };
}

/**
 * The default CR, created by the first pod that needs it. Its count is not
 * written here: DefaultSidecarCounter keeps spec.replicas equal to the live
 * pods, off the admission path, so pods of one workload never contend for it.
 */
async function findOrCreateDefaultSidecar(
  store: ClusterStore,
  namespace: string,
  id: DefaultSidecarIdentity,
  owners: V1OwnerReference[] | undefined,
  progress: Progress,
  call: CallOptions,
): Promise<Sidecar> {
  const ref = `${namespace}/${id.name}`;
  progress.step = `get sidecars ${ref}`;
  const current = await store.getSidecar(namespace, id.name, call);
  if (current) return current;
  progress.step = `create sidecars ${ref}`;
  try {
    return await store.createSidecar(namespace, newDefaultSidecar(namespace, id, owners), call);
  } catch (e) {
    // Another pod (or webhook replica) created it first: use theirs.
    if (!(e instanceof ApiError && e.alreadyExists)) throw e;
    progress.step = `get sidecars ${ref}`;
    const created = await store.getSidecar(namespace, id.name, call);
    if (created) return created;
    throw e;
  }
}

export async function resolveSidecar(input: ResolveInput): Promise<Resolved<SidecarContext>> {
  const found = await findSidecar(input);
  if (!('ctx' in found)) return found;
  const { req, obj, store, config, progress, call } = input;
  const pod = obj as unknown as V1Pod;
  const sidecar = found.ctx.sidecar;
  const meta = metaOf(pod, sidecar, config.sidecarMeta ?? 'etcd');
  const podRef = podDisplayName(req, pod);
  if ('problem' in meta) return { done: deny(`${podRef}: ${meta.problem}`, 400, found.warnings) };
  const warnings = [...(found.warnings ?? [])];
  if (meta.meta === 'etcd' && sidecar.metadata.name) {
    const namespace = sidecar.metadata.namespace || podNamespace(req, pod);
    const service = `${sidecar.metadata.name}-etcd-service`;
    progress.step = `get services ${namespace}/${service}`;
    // Only a warning rides on it: a failed read says nothing.
    const exists = await store.serviceExists(namespace, service, call).catch(() => undefined);
    if (exists === false) {
      warnings.push(
        `${podRef}: Sidecar ${namespace}/${sidecar.metadata.name} keeps vineyardd's metadata in etcd, but Service ${namespace}/${service} does not exist, so vineyardd will wait for it and the pod's containers for vineyardd's socket; install the Vineyard operator (it creates that etcd for each Sidecar), or use local metadata: annotation ${SIDECAR_META_ANNOTATION}: local on the pod or the Sidecar (or the server's --sidecar-meta local)`,
      );
    }
  }
  return { ctx: { ...found.ctx, meta: meta.meta }, warnings };
}

/** Where vineyardd keeps its metadata: the pod's annotation, else its Sidecar's, else the server's default. */
function metaOf(
  pod: Readonly<V1Pod>,
  sidecar: Readonly<Sidecar>,
  fallback: SidecarMeta,
): { meta: SidecarMeta } | { problem: string } {
  for (const [where, value] of [
    ['the pod', podAnnotations(pod)[SIDECAR_META_ANNOTATION]],
    [`Sidecar ${sidecar.metadata.name ?? ''}`, sidecar.metadata.annotations?.[SIDECAR_META_ANNOTATION]],
  ] as const) {
    if (value === undefined) continue;
    const v = value.trim();
    if ((SIDECAR_METAS as readonly string[]).includes(v)) return { meta: v as SidecarMeta };
    return {
      problem: `annotation ${SIDECAR_META_ANNOTATION} of ${where} is ${JSON.stringify(value)}: write local (metadata in the vineyardd process, no etcd needed) or etcd (the Sidecar's etcd, which the Vineyard operator creates)`,
    };
  }
  return { meta: fallback };
}

async function findSidecar({
  req,
  obj,
  store,
  config,
  progress,
  call,
}: ResolveInput): Promise<Resolved<SidecarContext>> {
  const pod = obj as unknown as V1Pod;
  // Decided once, here: the mutator runs only on pods that get the sidecar.
  const skip = injectionSkip(pod);
  if (skip) return { done: allow(), skip };
  const namespace = podNamespace(req, pod);
  const podRef = podDisplayName(req, pod);
  const warnings: string[] = [];
  let name = podAnnotations(pod)[SIDECAR_NAME_ANNOTATION]?.trim() ?? '';
  if (!name) {
    warnings.push(
      `${podRef} has no annotation ${SIDECAR_NAME_ANNOTATION}: using the default Sidecar; set it to "default" or to the name of a Sidecar CR to silence this warning`,
    );
    name = DEFAULT_SIDECAR_NAME;
  }

  if (name !== DEFAULT_SIDECAR_NAME && !isSubdomain(name)) {
    return {
      done: deny(
        `annotation ${SIDECAR_NAME_ANNOTATION} of ${podRef} is ${JSON.stringify(name)}, which cannot be the name of a Sidecar (a lower-case DNS-1123 subdomain such as sidecar-sample): set it to the name of a Sidecar CR in namespace ${namespace}, or to "default"`,
        400,
        warnings,
      ),
    };
  }
  if (name !== DEFAULT_SIDECAR_NAME) {
    progress.step = `get sidecars ${namespace}/${name}`;
    const sidecar = await store.getSidecar(namespace, name, call);
    if (!sidecar) {
      return {
        done: deny(
          `Sidecar ${namespace}/${name} named by annotation ${SIDECAR_NAME_ANNOTATION} of ${podRef} was not found: create the Sidecar CR in namespace ${namespace} before the pod, or set the annotation to "default"`,
          403,
          warnings,
        ),
      };
    }
    return { ctx: { sidecar, mode: config.sidecarMode }, warnings };
  }

  const id = defaultSidecarIdentity(podLabels(pod));
  if (!id) {
    return {
      done: deny(
        `${podRef} uses the default Sidecar but has no label to name it after (only ${SIDECAR_ENABLED_LABEL}): add a label such as app=<name> to the pod template, or set annotation ${SIDECAR_NAME_ANNOTATION} to an existing Sidecar CR`,
        403,
        warnings,
      ),
    };
  }
  if (id.invalid) {
    return {
      done: deny(
        `${podRef} uses the default Sidecar, which is named after and selects its first label ${id.key}=${JSON.stringify(id.selector.slice(id.key.length + 1))}, but that is not a valid label: ${id.invalid}; fix the label, or set annotation ${SIDECAR_NAME_ANNOTATION} to an existing Sidecar CR`,
        400,
        warnings,
      ),
    };
  }
  if (req.dryRun) {
    progress.step = `get sidecars ${namespace}/${id.name}`;
    const existing = await store.getSidecar(namespace, id.name, call);
    return {
      ctx: { sidecar: existing ?? newDefaultSidecar(namespace, id, undefined), mode: config.sidecarMode },
      warnings,
    };
  }
  const sidecar = await findOrCreateDefaultSidecar(store, namespace, id, pod.metadata?.ownerReferences, progress, call);
  return { ctx: { sidecar, mode: config.sidecarMode }, warnings };
}
