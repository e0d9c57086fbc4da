// What a stored pod shows of the webhooks that admitted it. Each pod webhook
// leaves an annotation when it changes a pod (that is how a reinvocation
// knows to leave it alone), so the annotation is the proof it ran, whatever
// the selectors say today: labels and configurations change after the fact.
import {
  DATA_PLACEMENT_ANNOTATION,
  FLUID_STATUS_ANNOTATION,
  OPERATION_LABELLED_ANNOTATION,
  PLACEMENT_ANNOTATION,
  PLACEMENT_LABEL,
  SIDECAR_STATUS_ANNOTATION,
} from '../../vineyard/names.js';
import { isObject } from '../../json.js';
import type { PodWebhook } from '../mutate/pod-webhooks.js';
import type { Json } from '../mutate/pod-templates.js';

const annotations = (pod: Json): Record<string, unknown> =>
  isObject(pod.metadata) && isObject(pod.metadata.annotations) ? pod.metadata.annotations : {};

/** `value` parsed as a JSON object, or undefined. */
function jsonObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(value);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The placement webhook is the scheduling path's entry that selects on scheduling.v6d.io/enabled. */
const selectsPlacement = (hook: PodWebhook) =>
  Object.prototype.hasOwnProperty.call(hook.objectSelector?.matchLabels ?? {}, PLACEMENT_LABEL) ||
  (hook.objectSelector?.matchExpressions ?? []).some(e => e.key === PLACEMENT_LABEL);

/** What a webhook did, and the annotation that records it. */
export interface Evidence {
  what: string;
  annotation: string;
}

/** What `hook` did to `pod` when it was created, as its annotation records it; undefined when the pod carries no such record. */
export function evidenceOf(hook: PodWebhook, pod: Json): Evidence | undefined {
  const a = annotations(pod);
  const has = (key: string) => typeof a[key] === 'string';
  switch (hook.path) {
    case '/mutate-v1-pod-sidecar': {
      if (!has(SIDECAR_STATUS_ANNOTATION)) return undefined;
      const s = jsonObject(a[SIDECAR_STATUS_ANNOTATION]);
      const what =
        typeof s?.sidecar === 'string'
          ? `sidecar injected (${s.sidecar}, ${typeof s.mode === 'string' ? s.mode : 'container'} mode)`
          : 'sidecar injected';
      return { what, annotation: SIDECAR_STATUS_ANNOTATION };
    }
    case '/mutate-v1-pod':
      return has(OPERATION_LABELLED_ANNOTATION)
        ? {
            what: `labelled the pods of required jobs ${String(a[OPERATION_LABELLED_ANNOTATION])}`,
            annotation: OPERATION_LABELLED_ANNOTATION,
          }
        : undefined;
    case '/mutate-v1-pod-scheduling': {
      if (selectsPlacement(hook)) {
        const p = jsonObject(a[PLACEMENT_ANNOTATION]);
        return has(PLACEMENT_ANNOTATION)
          ? {
              what: `placed on node ${typeof p?.node === 'string' ? p.node : '(unknown)'}`,
              annotation: PLACEMENT_ANNOTATION,
            }
          : undefined;
      }
      return has(DATA_PLACEMENT_ANNOTATION)
        ? { what: "placed by the required jobs' data", annotation: DATA_PLACEMENT_ANNOTATION }
        : undefined;
    }
    case '/mutate-v1-pod-fluid': {
      if (!has(FLUID_STATUS_ANNOTATION)) return undefined;
      const datasets = jsonObject(a[FLUID_STATUS_ANNOTATION])?.datasets;
      const list = Array.isArray(datasets) ? datasets.filter(d => typeof d === 'string') : [];
      return {
        what: `connected to Fluid ${list.length === 1 ? 'dataset' : 'datasets'}${list.length ? ` ${list.join(', ')}` : ''}`,
        annotation: FLUID_STATUS_ANNOTATION,
      };
    }
    default:
      return undefined;
  }
}
