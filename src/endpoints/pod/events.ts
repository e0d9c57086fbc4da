// Which Kubernetes Event an admission leaves behind, if any: pure (the clock
// and the replica's name are inputs). The server sends it after answering.
//
// - SidecarInjected (Normal): the sidecar endpoint injected the pod.
// - InjectionSkipped (Normal): the sidecar endpoint was called for a pod
//   whose label is not "true" (a webhook configuration wider than deploy/'s).
//   Not for a pod that already has the sidecar: with reinvocationPolicy
//   IfNeeded the API server calls the endpoint again for every injected pod a
//   later webhook changed, and an event there would report a skip for a pod
//   that was just injected (the metric still counts it).
// - AdmissionDenied (Warning): any pod endpoint refused the pod.
// Never for dry runs, and only for pods being created: UPDATE and DELETE
// reviews change nothing, and Sidecar CRs are applied by a person who sees
// the answer.
//
// The event is about the pod's controller (its ReplicaSet, Job...): the pod
// has no name yet at admission, and `kubectl describe` of the controller is
// where one looks when pods do not appear. A pod without a controller gets
// it on its Namespace.
import type { CoreV1Event, V1ObjectReference, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import { podDisplayName, podNamespace } from './pod-name.js';
import { pointer } from '../../jsonpatch/patch.js';
import { isObject } from '../../json.js';
import { EVENT_COMPONENT, SIDECAR_STATUS_ANNOTATION } from '../../vineyard/names.js';
import type { Endpoint } from '../../admission/endpoint.js';
import type { Outcome } from '../../admission/run.js';
import { skipOf } from './skip-reasons.js';

export const EVENT_REASONS = { injected: 'SidecarInjected', skipped: 'InjectionSkipped', denied: 'AdmissionDenied' } as const;

/** kube-apiserver refuses longer messages from events.k8s.io/v1 clients; core/v1 ones are kept short too. */
export const EVENT_MESSAGE_LIMIT = 1024;

export interface EventInput {
  endpoint: Endpoint<any>;
  request: AdmissionRequest;
  outcome: Outcome;
  now: Date;
  /** This replica (the pod's hostname): reportingInstance. */
  instance: string;
  /** skipOf(endpoint, request, outcome), when the caller has it already. */
  skip?: ReturnType<typeof skipOf>;
}

/** `text` cut to at most `limit` UTF-8 bytes, never inside a character, marked with an ellipsis when cut. */
export function truncateUtf8(text: string, limit: number = EVENT_MESSAGE_LIMIT): string {
  if (Buffer.byteLength(text, 'utf8') <= limit) return text;
  const mark = '...';
  let out = '';
  let bytes = Buffer.byteLength(mark);
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > limit) break;
    out += ch;
    bytes += n;
  }
  return out + mark;
}

/** The pod's controller, or its Namespace when it has none. */
export function involvedObject(pod: Readonly<V1Pod>, namespace: string): V1ObjectReference {
  const owners: V1OwnerReference[] = Array.isArray(pod.metadata?.ownerReferences) ? pod.metadata!.ownerReferences! : [];
  const controller = owners.find(o => o && o.controller === true && o.kind && o.name && o.apiVersion);
  if (controller) return { apiVersion: controller.apiVersion, kind: controller.kind, name: controller.name, ...(controller.uid ? { uid: controller.uid } : {}), namespace };
  // A Namespace is cluster-scoped; naming the event's own namespace in the
  // reference keeps the event in the pod's namespace (core/v1 validation
  // only requires the two to agree), where `kubectl get events -n` shows it.
  return { apiVersion: 'v1', kind: 'Namespace', name: namespace, namespace };
}

/** The status annotation the sidecar injection wrote, read from its patch (no need to apply it). */
function injectedStatus(outcome: Outcome): { sidecar?: unknown; mode?: unknown } | undefined {
  const annotationPath = pointer(['metadata', 'annotations', SIDECAR_STATUS_ANNOTATION]);
  for (const op of outcome.patch) {
    if (op.op !== 'add' && op.op !== 'replace') continue;
    const value = op.path === annotationPath ? op.value
      : op.path === '/metadata/annotations' && isObject(op.value) ? op.value[SIDECAR_STATUS_ANNOTATION]
      : undefined;
    if (typeof value !== 'string') continue;
    try { return JSON.parse(value) as { sidecar?: unknown; mode?: unknown }; } catch { return undefined; }
  }
  return undefined;
}

function injectedMessage(req: AdmissionRequest, pod: V1Pod, outcome: Outcome): string {
  // The detail is a courtesy: the event is worth sending without it.
  const status = injectedStatus(outcome);
  const detail = typeof status?.sidecar === 'string'
    ? ` from Sidecar ${podNamespace(req, pod)}/${status.sidecar}${typeof status.mode === 'string' ? ` (${status.mode} mode)` : ''}`
    : '';
  return `Injected the Vineyard sidecar into ${podDisplayName(req, pod)}${detail}`;
}

/** The event to record for this admission, or undefined. */
export function admissionEvent(input: EventInput): CoreV1Event | undefined {
  const { endpoint, request, outcome, now, instance } = input;
  if (endpoint.expects.kind !== 'Pod' || request.dryRun === true || request.operation !== 'CREATE') return undefined;
  const obj = request.object;
  if (!isObject(obj)) return undefined;
  const pod = obj as V1Pod;

  let type: 'Normal' | 'Warning';
  let reason: string;
  let message: string;
  if (!outcome.response.allowed) {
    [type, reason] = ['Warning', EVENT_REASONS.denied];
    message = `${endpoint.path} denied ${podDisplayName(request, pod)}: ${outcome.response.status?.message ?? outcome.reason ?? 'no reason given'}`;
  } else if (endpoint.name !== 'sidecar') {
    return undefined;
  } else if (outcome.decision === 'patched') {
    [type, reason, message] = ['Normal', EVENT_REASONS.injected, injectedMessage(request, pod, outcome)];
  } else {
    const skip = 'skip' in input ? input.skip : skipOf(endpoint, request, outcome);
    if (skip?.reason !== 'not-enabled') return undefined;
    [type, reason, message] = ['Normal', EVENT_REASONS.skipped, `Did not inject the Vineyard sidecar into ${podDisplayName(request, pod)}: ${skip.message}`];
  }

  const namespace = podNamespace(request, pod);
  const about = involvedObject(pod, namespace);
  // Whole seconds: metav1.Time, which firstTimestamp and lastTimestamp are, has no finer precision.
  const at = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return {
    // A name the API server completes: pods of one ReplicaSet admitted in the
    // same millisecond must not collide.
    metadata: { generateName: `${about.name}.`, namespace },
    involvedObject: about,
    reason,
    message: truncateUtf8(message),
    type,
    source: { component: EVENT_COMPONENT },
    // The core/v1 shape (what `kubectl get events` reads): no eventTime, so
    // series, action and reportingController stay optional; they are set for
    // clients that read them.
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    action: 'Admit',
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: instance.slice(0, 128),
  };
}
