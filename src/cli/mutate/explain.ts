// Why each pod webhook did what it did to one pod: the words of the per-object
// report on stderr and of `--explain`. A user who sees an unchanged pod needs
// the one selector term or skip reason that decided it, named as the label to
// add, not the selector to read.
import {
  NAMESPACE_NAME_LABEL,
  OPERATION_LABELLED_ANNOTATION,
  SIDECAR_STATUS_ANNOTATION,
} from '../../vineyard/names.js';
import { isObject } from '../../json.js';
import type { WebhookCall } from './admit-pod.js';
import { expressionHolds, type LabelSelector } from '../../cluster/label-selector.js';
import type { PodWebhook } from './pod-webhooks.js';
import type { Json } from './pod-templates.js';

/** `sidecar.vineyard-webhook.v6d.io` is `sidecar` in the report. */
export const shortName = (webhook: string): string => webhook.split('.')[0]!;

/** The first requirement of `selector` the labels fail, in words; undefined when it matches. */
function unmet(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
  whose: 'namespace' | 'pod',
  nsName: string,
): string | undefined {
  if (!selector) return undefined;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  const subject = whose === 'namespace' ? `namespace ${nsName}` : 'pod';
  // The only NotIn term of deploy/ keeps the webhooks out of their own and the
  // system namespaces: checked first, since no label can change it.
  for (const e of selector.matchExpressions ?? []) {
    const values = e.values ?? [];
    if (e.key === NAMESPACE_NAME_LABEL && e.operator === 'NotIn' && values.includes(labels[e.key] ?? '')) {
      return `namespace ${labels[e.key]} is never mutated (the webhooks skip ${values.join(' and ')})`;
    }
  }
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(k)) return `${subject} not labelled ${k}=${v}`;
    if (labels[k] !== v) return `${subject} labelled ${k}=${JSON.stringify(labels[k])}, not ${k}=${v}`;
  }
  for (const e of selector.matchExpressions ?? []) {
    const values = e.values ?? [];
    if (expressionHolds(e, labels)) continue;
    if (e.operator === 'Exists') return `${subject} has no label ${e.key}`;
    if (e.operator === 'DoesNotExist') return `${subject} has label ${e.key}`;
    return `${subject} label ${e.key} is ${has(e.key) ? JSON.stringify(labels[e.key]) : 'missing'}, ${e.operator === 'In' ? 'not one of' : 'one of'} ${values.join(', ')}`;
  }
  return undefined;
}

export interface SelectorVerdict {
  reached: boolean;
  /** Why not, when not reached. */
  reason?: string;
  /** The pod's labels ask for the webhook (its objectSelector matches, or it has none). */
  podAsks: boolean;
  /** Not reached only because the namespace lacks a label the namespaceSelector requires. */
  blockedByNamespaceLabel: boolean;
  /** The namespace's labels satisfy the namespaceSelector. */
  namespaceMatches: boolean;
}

export function selectorVerdict(
  hook: PodWebhook,
  nsName: string,
  nsLabels: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>,
): SelectorVerdict {
  const pod = unmet(hook.objectSelector, podLabels, 'pod', nsName);
  const ns = unmet(hook.namespaceSelector, nsLabels, 'namespace', nsName);
  const excluded = ns?.includes('is never mutated') ?? false;
  // A namespace outside every webhook's reach says more than a pod label would.
  const reason = excluded ? ns : (pod ?? ns);
  return {
    reached: !reason,
    ...(reason ? { reason } : {}),
    podAsks: !pod,
    blockedByNamespaceLabel: !pod && !!ns && !excluded,
    namespaceMatches: !ns,
  };
}

function annotation(pod: Json, key: string): string | undefined {
  const a = isObject(pod.metadata) && isObject(pod.metadata.annotations) ? pod.metadata.annotations[key] : undefined;
  return typeof a === 'string' ? a : undefined;
}

/** The fields a patch wrote, as `spec.containers[0].env`, each once, at most `max`. */
export function fieldsOf(paths: readonly string[], max = 4): string {
  const fields = [
    ...new Set(
      paths.map(p =>
        p
          .split('/')
          .slice(1)
          .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
          .slice(0, 4)
          .map((s, i) => (/^\d+$|^-$/.test(s) ? `[${s}]` : `${i ? '.' : ''}${s}`))
          .join(''),
      ),
    ),
  ];
  return fields.length > max ? `${fields.slice(0, max).join(', ')} and ${fields.length - max} more` : fields.join(', ');
}

/**
 * What a webhook did, from its calls on this pod (several when reinvoked):
 * the call that changed the pod tells it; else the first call's skip reason.
 */
export function describeCalls(webhook: string, calls: readonly WebhookCall[], pod: Json): string {
  const name = shortName(webhook);
  const denied = calls.find(c => c.result === 'denied');
  if (denied) return `${name}: denied`;
  const changed = calls.filter(c => c.result === 'changed');
  if (!changed.length) return `${name}: unchanged (${calls[0]?.skip ?? 'nothing to add'})`;
  const paths = changed.flatMap(c => c.paths);
  if (name === 'sidecar') {
    try {
      const status = JSON.parse(annotation(pod, SIDECAR_STATUS_ANNOTATION) ?? '') as {
        sidecar?: string;
        mode?: string;
      };
      if (status.sidecar) return `sidecar injected (${status.sidecar}, ${status.mode ?? 'container'} mode)`;
    } catch {
      /* not the annotation the injector writes: say which fields changed instead */
    }
  }
  const labelled = annotation(pod, OPERATION_LABELLED_ANNOTATION);
  const jobs = name === 'operation' && labelled ? ` and labelled the pods of required jobs ${labelled}` : '';
  return `${name}: set ${fieldsOf(paths)}${jobs}`;
}
