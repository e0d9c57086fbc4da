// How much one review may ask of the webhook, checked once before any work or
// API call. The work per pod grows with its containers, their env and volumes,
// and with containers x required jobs (one envFrom per pair, one list and some
// label patches per job); the annotations and labels the webhook reads end up
// in messages. Real workloads stay far below these limits; beyond them the
// review is refused (400) naming the field, the count and the limit, rather
// than admitted without the Vineyard wiring the pod asked for.
// Runs after shapeProblem: the fields counted have their JSON types.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest, JsonObject } from '../admission/types.js';
import { podDisplayName } from './pod/pod-name.js';
import { requiredJobs } from '../vineyard/required-jobs.js';
import type { Sidecar } from '../vineyard/sidecar.js';
import {
  ASSEMBLY_ENABLED_LABEL,
  ASSEMBLY_TYPE_LABEL,
  DASK_SCHEDULER_ANNOTATION,
  DASK_WORKER_SELECTOR_ANNOTATION,
  JOB_LABEL,
  OPERATION_LABELLED_ANNOTATION,
  REPARTITION_ENABLED_LABEL,
  REPARTITION_TYPE_LABEL,
  REQUIRED_ANNOTATION,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_NAME_ANNOTATION,
  SIDECAR_NATIVE_ANNOTATION,
  SIDECAR_STATUS_ANNOTATION,
  VINEYARDD_LABEL,
  VINEYARDD_NAMESPACE_LABEL,
} from '../vineyard/names.js';
import type { AnyEndpoint } from '../admission/endpoint.js';

export const LIMITS = {
  /** spec.containers plus spec.initContainers of a pod. */
  containers: 100,
  /** env entries of one container of a pod, or spec.vineyard.env of a Sidecar. */
  env: 1000,
  /** spec.volumes of a pod or of a Sidecar; spec.volumeMounts of a Sidecar. */
  volumes: 500,
  /** Jobs named by annotation scheduling.k8s.v6d.io/required. */
  requiredJobs: 50,
  /** Characters of a label value the webhook reads (a Kubernetes label value has at most 63; `namespace/name` more). */
  labelValue: 253,
  /** Characters of an annotation value the webhook reads. */
  annotationValue: 4096,
  /** Characters of a name messages repeat: metadata.name and generateName, container, volume and mount names (Kubernetes allows at most 253). */
  name: 253,
} as const;

/** The pod labels and annotations the webhook reads. */
const READ_LABELS = [
  SIDECAR_ENABLED_LABEL,
  VINEYARDD_LABEL,
  VINEYARDD_NAMESPACE_LABEL,
  JOB_LABEL,
  ASSEMBLY_ENABLED_LABEL,
  ASSEMBLY_TYPE_LABEL,
  REPARTITION_ENABLED_LABEL,
  REPARTITION_TYPE_LABEL,
];
const READ_ANNOTATIONS = [
  SIDECAR_NAME_ANNOTATION,
  SIDECAR_NATIVE_ANNOTATION,
  SIDECAR_STATUS_ANNOTATION,
  REQUIRED_ANNOTATION,
  DASK_SCHEDULER_ANNOTATION,
  DASK_WORKER_SELECTOR_ANNOTATION,
  OPERATION_LABELLED_ANNOTATION,
];

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const own = (m: unknown, k: string): string | undefined =>
  typeof m === 'object' &&
  m !== null &&
  Object.prototype.hasOwnProperty.call(m, k) &&
  typeof (m as Record<string, unknown>)[k] === 'string'
    ? (m as Record<string, string>)[k]
    : undefined;

const tooLong = (name: unknown): name is string => typeof name === 'string' && name.length > LIMITS.name;
const longMessage = (field: string, name: string) =>
  `${field} is ${name.length} characters long, more than the webhook's limit of ${LIMITS.name}: shorten it`;

/** metadata.name or generateName longer than LIMITS.name. */
function longMetadataName(meta: unknown): string | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  for (const k of ['name', 'generateName']) {
    const name = (meta as Record<string, unknown>)[k];
    if (tooLong(name)) return longMessage(`metadata.${k}`, name);
  }
  return undefined;
}

/**
 * The first name longer than LIMITS.name: metadata, then each container's
 * name and mount names, then volume names. Field paths are spelled out only
 * for the one reported (building one per name was most of this check's cost).
 */
function longPodName(pod: Readonly<V1Pod>): string | undefined {
  const meta = longMetadataName(pod.metadata);
  if (meta) return meta;
  for (const field of ['containers', 'initContainers'] as const) {
    const items = list(pod.spec?.[field]);
    for (let i = 0; i < items.length; i++) {
      const c = items[i] as V1Container;
      if (tooLong(c.name)) return longMessage(`spec.${field}[${i}].name`, c.name);
      const mounts = list(c.volumeMounts);
      for (let j = 0; j < mounts.length; j++) {
        const name = (mounts[j] as { name?: unknown }).name;
        if (tooLong(name)) return longMessage(`spec.${field}[${i}].volumeMounts[${j}].name`, name);
      }
    }
  }
  const volumes = list(pod.spec?.volumes);
  for (let i = 0; i < volumes.length; i++) {
    const name = (volumes[i] as { name?: unknown }).name;
    if (tooLong(name)) return longMessage(`spec.volumes[${i}].name`, name);
  }
  return undefined;
}

function podLimit(pod: Readonly<V1Pod>): string | undefined {
  const count = list(pod.spec?.containers).length + list(pod.spec?.initContainers).length;
  if (count > LIMITS.containers) {
    return `spec.containers and spec.initContainers hold ${count} containers, more than the webhook's limit of ${LIMITS.containers} per pod: run fewer containers per pod`;
  }
  for (const field of ['containers', 'initContainers'] as const) {
    const items = list(pod.spec?.[field]);
    for (let i = 0; i < items.length; i++) {
      const env = list((items[i] as V1Container).env).length;
      if (env > LIMITS.env)
        return `spec.${field}[${i}].env has ${env} entries, more than the webhook's limit of ${LIMITS.env} per container: move variables into a ConfigMap and use envFrom`;
    }
  }
  const volumes = list(pod.spec?.volumes).length;
  if (volumes > LIMITS.volumes)
    return `spec.volumes has ${volumes} volumes, more than the webhook's limit of ${LIMITS.volumes} per pod: use fewer volumes (a projected volume can hold several sources)`;
  for (const key of READ_LABELS) {
    const v = own(pod.metadata?.labels, key);
    if (v !== undefined && v.length > LIMITS.labelValue)
      return `label ${key} is ${v.length} characters long, more than the webhook's limit of ${LIMITS.labelValue}: shorten it`;
  }
  for (const key of READ_ANNOTATIONS) {
    const v = own(pod.metadata?.annotations, key);
    if (v !== undefined && v.length > LIMITS.annotationValue)
      return `annotation ${key} is ${v.length} characters long, more than the webhook's limit of ${LIMITS.annotationValue}: shorten it`;
  }
  const required = own(pod.metadata?.annotations, REQUIRED_ANNOTATION);
  const jobs = required === undefined ? 0 : requiredJobs({ [REQUIRED_ANNOTATION]: required }).length;
  if (jobs > LIMITS.requiredJobs)
    return `annotation ${REQUIRED_ANNOTATION} names ${jobs} jobs, more than the webhook's limit of ${LIMITS.requiredJobs}: list only the jobs whose output this pod reads`;
  return longPodName(pod);
}

function sidecarLimit(cr: Readonly<Sidecar>): string | undefined {
  const spec = typeof cr.spec === 'object' && cr.spec !== null ? cr.spec : {};
  const vineyard = typeof spec.vineyard === 'object' && spec.vineyard !== null ? spec.vineyard : {};
  const env = list(vineyard.env).length;
  // Copied into every pod injected with this Sidecar.
  if (env > LIMITS.env)
    return `spec.vineyard.env has ${env} entries, more than the webhook's limit of ${LIMITS.env}: move variables into a ConfigMap`;
  for (const field of ['volumes', 'volumeMounts'] as const) {
    const n = list(spec[field]).length;
    if (n > LIMITS.volumes)
      return `spec.${field} has ${n} entries, more than the webhook's limit of ${LIMITS.volumes}: use fewer volumes`;
  }
  return longMetadataName(cr.metadata);
}

/** The object as messages name it, cut short: the name itself may be what is too long. */
const cut = (s: string): string => (s.length > LIMITS.name + 30 ? `${s.slice(0, LIMITS.name + 30)}...` : s);

/** The pod endpoints' limit hook: why the review asks more than the webhook's limits allow, or undefined. */
export function podLimitProblem(
  endpoint: AnyEndpoint,
  req: AdmissionRequest,
  obj: Readonly<JsonObject>,
): string | undefined {
  const pod = obj as V1Pod;
  const m = podLimit(pod);
  return m && `${endpoint.path}: ${cut(podDisplayName(req, pod))}: ${m}`;
}

/** The Sidecar CR endpoints' limit hook. */
export function sidecarLimitProblem(
  endpoint: AnyEndpoint,
  req: AdmissionRequest,
  obj: Readonly<JsonObject>,
): string | undefined {
  const m = sidecarLimit(obj as unknown as Sidecar);
  const name =
    typeof obj.metadata === 'object' &&
    obj.metadata !== null &&
    !Array.isArray(obj.metadata) &&
    typeof obj.metadata.name === 'string'
      ? obj.metadata.name
      : (req.name ?? '');
  return m && `${endpoint.path}: ${cut(`${endpoint.expects.kind} ${req.namespace ?? ''}/${name}`)}: ${m}`;
}
