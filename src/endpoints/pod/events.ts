// Which Kubernetes Event an admission leaves behind, if any: pure (the clock
// and the replica's name are inputs). The server sends it after answering.
//
// - AdmissionDenied (Warning): any pod endpoint refused the pod.
// - what an endpoint adds for allowed pods (src/endpoints/sidecar/events.ts).
// Never for dry runs, and only for pods being created: UPDATE and DELETE
// reviews change nothing, and Sidecar CRs are applied by a person who sees
// the answer.
//
// The event is about the pod's controller (its ReplicaSet, Job...): the pod
// has no name yet at admission, and `kubectl describe` of the controller is
// where one looks when pods do not appear. A pod without a controller gets
// it on its Namespace.
import type { CoreV1Event, V1ObjectReference, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { podDisplayName, podNamespace } from './pod-name.js';
import { isObject } from '../../json.js';
import { EVENT_COMPONENT } from '../../vineyard/names.js';
import type { EventInput } from '../../admission/endpoint.js';

export const EVENT_REASONS = {
  injected: 'SidecarInjected',
  skipped: 'InjectionSkipped',
  denied: 'AdmissionDenied',
} as const;

/** kube-apiserver refuses longer messages from events.k8s.io/v1 clients; core/v1 ones are kept short too. */
export const EVENT_MESSAGE_LIMIT = 1024;

/** What an endpoint says about a pod it allowed: type, reason and message, or nothing. */
export type AllowedEvent = (
  input: EventInput,
  pod: V1Pod,
) => { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined;

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
  if (controller)
    return {
      apiVersion: controller.apiVersion,
      kind: controller.kind,
      name: controller.name,
      ...(controller.uid ? { uid: controller.uid } : {}),
      namespace,
    };
  // A Namespace is cluster-scoped; naming the event's own namespace in the
  // reference keeps the event in the pod's namespace (core/v1 validation
  // only requires the two to agree), where `kubectl get events -n` shows it.
  return { apiVersion: 'v1', kind: 'Namespace', name: namespace, namespace };
}

/** A pod endpoint's event hook: AdmissionDenied on denials, `allowedEvent` (if any) on the rest. */
export const podEvents =
  (allowedEvent?: AllowedEvent) =>
  (input: EventInput): CoreV1Event | undefined =>
    podEvent(input, allowedEvent);

function podEvent(input: EventInput, allowedEvent: AllowedEvent | undefined): CoreV1Event | undefined {
  const { endpoint, request, outcome, now, instance } = input;
  if (request.dryRun === true || request.operation !== 'CREATE') return undefined;
  const obj = request.object;
  if (!isObject(obj)) return undefined;
  const pod = obj as V1Pod;

  let type: 'Normal' | 'Warning';
  let reason: string;
  let message: string;
  if (!outcome.response.allowed) {
    [type, reason] = ['Warning', EVENT_REASONS.denied];
    message = `${endpoint.path} denied ${podDisplayName(request, pod)}: ${outcome.response.status?.message ?? outcome.reason ?? 'no reason given'}`;
  } else {
    const e = allowedEvent?.(input, pod);
    if (!e) return undefined;
    ({ type, reason, message } = e);
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
