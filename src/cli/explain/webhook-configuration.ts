// The pod webhooks a cluster really has: our MutatingWebhookConfiguration as
// the API server stores it, not as deploy/ wrote it. An overlay may have
// changed a selector, a re-apply may have wiped the caBundle, a webhook may
// be missing; `explain pod/NAME` must judge the pod by what the API server
// will do, and say what in the configuration stops a call.
import type { V1MutatingWebhook, V1MutatingWebhookConfiguration, V1RuleWithOperations } from '@kubernetes/client-node';
import { POD_WEBHOOKS, type LabelSelector, type PodWebhook } from '../mutate/pod-webhooks.js';

export interface ClusterPodWebhook {
  hook: PodWebhook;
  /** What in the configuration keeps the API server from calling it, or changes what a failed call does. */
  notes: string[];
  /** Why the API server never calls it for a new pod, whatever the labels; undefined when it may. */
  neverCalled?: string;
}

export interface ClusterWebhooks {
  webhooks: ClusterPodWebhook[];
  /** Webhooks of deploy/ that the configuration lacks, by name. */
  missing: string[];
}

/** The Vineyard operator's own configuration, as its chart and kustomization name it. */
export const OPERATOR_MUTATING_CONFIGURATION = 'vineyard-mutating-webhook-configuration';

const POD_PATHS = new Set(POD_WEBHOOKS.map(h => h.path));

/** The path the API server posts to: the service's, or the url's. */
export function pathOf(w: V1MutatingWebhook): string | undefined {
  if (w.clientConfig.service) return w.clientConfig.service.path ?? '/';
  if (!w.clientConfig.url) return undefined;
  try {
    return new URL(w.clientConfig.url).pathname;
  } catch {
    return undefined;
  }
}

const any = (list: readonly string[] | undefined, ...values: string[]) => (list ?? []).some(v => values.includes(v));

/** Whether one of `rules` sends the creation of a core/v1 pod. */
export function coversPodCreate(rules: readonly V1RuleWithOperations[] | undefined): boolean {
  return (rules ?? []).some(
    r =>
      any(r.apiGroups, '', '*') &&
      any(r.apiVersions, 'v1', '*') &&
      any(r.resources, 'pods', '*') &&
      any(r.operations, 'CREATE', '*') &&
      (r.scope === undefined || r.scope === '*' || r.scope === 'Namespaced'),
  );
}

/** The selector as deploy/'s table writes it; an empty one (the API server's default, `{}`) matches everything, as no selector does. */
function selector(s: V1MutatingWebhook['namespaceSelector']): LabelSelector | undefined {
  if (!s || (!Object.keys(s.matchLabels ?? {}).length && !s.matchExpressions?.length)) return undefined;
  return {
    ...(s.matchLabels ? { matchLabels: { ...s.matchLabels } } : {}),
    ...(s.matchExpressions
      ? {
          matchExpressions: s.matchExpressions.map(e => ({
            key: e.key,
            operator: e.operator as 'In',
            ...(e.values ? { values: [...e.values] } : {}),
          })),
        }
      : {}),
  };
}

/**
 * Our pod webhooks in `config`: those whose path is one of deploy/'s pod
 * webhook paths (a webhook renamed by an overlay still counts), with the
 * selectors and reinvocation policy the cluster holds.
 */
export function clusterPodWebhooks(config: V1MutatingWebhookConfiguration): ClusterWebhooks {
  const webhooks: ClusterPodWebhook[] = [];
  for (const w of config.webhooks ?? []) {
    const path = pathOf(w);
    if (!path || !POD_PATHS.has(path)) continue;
    const notes: string[] = [];
    const neverCalled = coversPodCreate(w.rules) ? undefined : 'its rules do not send pod CREATE';
    if (w.clientConfig.service && !w.clientConfig.caBundle) {
      notes.push(
        "no caBundle: the API server cannot trust the server's certificate, so every call fails (the server writes it once it runs in secret mode; cert-manager's cainjector with the cert-manager component)",
      );
    }
    if (w.failurePolicy === 'Ignore')
      notes.push('failurePolicy Ignore: a call that fails or times out admits the pod unchanged, without a word');
    if ((w as { matchConditions?: unknown[] }).matchConditions?.length)
      notes.push('has matchConditions, which this command does not evaluate');
    webhooks.push({
      hook: {
        name: w.name,
        path,
        ...(selector(w.namespaceSelector) ? { namespaceSelector: selector(w.namespaceSelector)! } : {}),
        ...(selector(w.objectSelector) ? { objectSelector: selector(w.objectSelector)! } : {}),
        reinvocationPolicy: w.reinvocationPolicy === 'IfNeeded' ? 'IfNeeded' : 'Never',
      },
      notes,
      ...(neverCalled ? { neverCalled } : {}),
    });
  }
  const present = new Set(webhooks.map(w => w.hook.name));
  return { webhooks, missing: POD_WEBHOOKS.map(h => h.name).filter(n => !present.has(n)) };
}
