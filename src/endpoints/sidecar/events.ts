// The events the sidecar endpoint leaves for pods it allowed:
// - SidecarInjected (Normal): the pod was injected.
// - InjectionSkipped (Normal): the endpoint was called for a pod whose label
//   is not "true" (a webhook configuration wider than deploy/'s). Not for a
//   pod that already has the sidecar: with reinvocationPolicy IfNeeded the
//   API server calls the endpoint again for every injected pod a later
//   webhook changed, and an event there would report a skip for a pod that
//   was just injected (the metric still counts it).
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import type { Outcome } from '../../admission/run.js';
import { pointer } from '../../jsonpatch/patch.js';
import { isObject } from '../../json.js';
import { SIDECAR_STATUS_ANNOTATION } from '../../vineyard/names.js';
import { EVENT_REASONS, type AllowedEvent } from '../pod/events.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';

/** The status annotation the sidecar injection wrote, read from its patch (no need to apply it). */
function injectedStatus(outcome: Outcome): { sidecar?: unknown; mode?: unknown } | undefined {
  const annotationPath = pointer(['metadata', 'annotations', SIDECAR_STATUS_ANNOTATION]);
  for (const op of outcome.patch) {
    if (op.op !== 'add' && op.op !== 'replace') continue;
    const value =
      op.path === annotationPath
        ? op.value
        : op.path === '/metadata/annotations' && isObject(op.value)
          ? op.value[SIDECAR_STATUS_ANNOTATION]
          : undefined;
    if (typeof value !== 'string') continue;
    try {
      return JSON.parse(value) as { sidecar?: unknown; mode?: unknown };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function injectedMessage(req: AdmissionRequest, pod: V1Pod, outcome: Outcome): string {
  // The detail is a courtesy: the event is worth sending without it.
  const status = injectedStatus(outcome);
  const detail =
    typeof status?.sidecar === 'string'
      ? ` from Sidecar ${podNamespace(req, pod)}/${status.sidecar}${typeof status.mode === 'string' ? ` (${status.mode} mode)` : ''}`
      : '';
  return `Injected the Vineyard sidecar into ${podDisplayName(req, pod)}${detail}`;
}

export const sidecarEvent: AllowedEvent = ({ request, outcome }, pod) => {
  if (outcome.decision === 'patched')
    return { type: 'Normal', reason: EVENT_REASONS.injected, message: injectedMessage(request, pod, outcome) };
  if (outcome.skip?.reason !== 'not-enabled') return undefined;
  return {
    type: 'Normal',
    reason: EVENT_REASONS.skipped,
    message: `Did not inject the Vineyard sidecar into ${podDisplayName(request, pod)}: ${outcome.skip.message}`,
  };
};
