// The pod webhooks of deploy/mutating-webhook-configuration.yaml, in the
// order the API server calls them, with the selectors that decide which pods
// reach them. The offline CLI applies them as the API server would;
// test/mutate-cli.test.ts renders deploy/ and requires it to declare exactly
// these, so the two cannot drift apart.
import { labelSelectorMatches, type LabelSelector } from '../../cluster/label-selector.js';
import {
  FLUID_INJECT_LABEL,
  NAMESPACE_LABEL_ENABLED,
  NAMESPACE_NAME_LABEL,
  OPERATION_NAMESPACE_LABEL,
  PLACEMENT_LABEL,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_NAMESPACE_LABEL,
  VINEYARDD_LABEL,
  WEBHOOK_NAMESPACE,
} from '../../vineyard/names.js';

export type { LabelSelector };

export interface PodWebhook {
  /** The webhook's name in the MutatingWebhookConfiguration (what kubectl prints in a denial). */
  name: string;
  /** The server path it calls: an endpoint of src/endpoints/table.ts. */
  path: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  reinvocationPolicy: 'IfNeeded' | 'Never';
}

/**
 * The webhook server's namespace (deploy/namespace.yaml) and kube-system: with
 * failurePolicy Fail, a webhook that matched its own pods could never start
 * again once every replica is gone.
 */
const EXCLUDED_NAMESPACES = [WEBHOOK_NAMESPACE, 'kube-system'];

const notExcluded = { key: NAMESPACE_NAME_LABEL, operator: 'NotIn' as const, values: EXCLUDED_NAMESPACES };

export const POD_WEBHOOKS: readonly PodWebhook[] = [
  {
    name: 'sidecar.vineyard-webhook.v6d.io',
    path: '/mutate-v1-pod-sidecar',
    namespaceSelector: {
      matchLabels: { [SIDECAR_NAMESPACE_LABEL]: NAMESPACE_LABEL_ENABLED },
      matchExpressions: [notExcluded],
    },
    objectSelector: { matchLabels: { [SIDECAR_ENABLED_LABEL]: 'true' } },
    reinvocationPolicy: 'IfNeeded',
  },
  {
    name: 'operation.vineyard-webhook.v6d.io',
    path: '/mutate-v1-pod',
    namespaceSelector: {
      matchLabels: { [OPERATION_NAMESPACE_LABEL]: NAMESPACE_LABEL_ENABLED },
      matchExpressions: [notExcluded],
    },
    reinvocationPolicy: 'IfNeeded',
  },
  {
    name: 'scheduling.vineyard-webhook.v6d.io',
    path: '/mutate-v1-pod-scheduling',
    namespaceSelector: { matchExpressions: [notExcluded] },
    objectSelector: { matchExpressions: [{ key: VINEYARDD_LABEL, operator: 'Exists' }] },
    reinvocationPolicy: 'IfNeeded',
  },
  {
    name: 'fluid.vineyard-webhook.v6d.io',
    path: '/mutate-v1-pod-fluid',
    namespaceSelector: { matchExpressions: [notExcluded] },
    objectSelector: { matchLabels: { [FLUID_INJECT_LABEL]: 'true' } },
    reinvocationPolicy: 'IfNeeded',
  },
  {
    name: 'placement.vineyard-webhook.v6d.io',
    path: '/mutate-v1-pod-scheduling',
    namespaceSelector: { matchExpressions: [notExcluded] },
    objectSelector: { matchLabels: { [PLACEMENT_LABEL]: 'true' } },
    reinvocationPolicy: 'IfNeeded',
  },
];

/** metav1.LabelSelector semantics: every requirement holds; an absent selector matches everything. */
export const selectorMatches = labelSelectorMatches;

/** A namespace's labels as the API server stores them: it adds kubernetes.io/metadata.name to every namespace. */
export const namespaceLabels = (
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Record<string, string> => ({ ...labels, [NAMESPACE_NAME_LABEL]: name });

/** Whether the API server would call `hook` for a pod with these labels in a namespace with these labels. */
export const reaches = (
  hook: PodWebhook,
  nsLabels: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>,
): boolean => selectorMatches(hook.namespaceSelector, nsLabels) && selectorMatches(hook.objectSelector, podLabels);
