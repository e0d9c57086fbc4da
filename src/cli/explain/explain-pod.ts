// `vineyard-webhook explain pod/NAME`: why a pod in a cluster was (or was
// not) changed by our webhooks. For each pod webhook of the cluster's own
// configuration: whether the API server would call it for this pod now (its
// selectors against the namespace's and the pod's labels), what it recorded
// on the pod when it was created (its annotation), and, when it matches but
// left no record, what it would do to such a pod created now, run through the
// server's own pipeline over a read-only view of the cluster.
//
// Selectors are judged on the labels the pod has now; a webhook's own labels
// (sidecar injection adds app.vineyard.io/*) never appear in any selector of
// deploy/, so they cannot make a webhook look called when it was not.
import type { V1Pod } from '@kubernetes/client-node';
import { podLabels } from '../../endpoints/pod/pod-helpers.js';
import { isObject } from '../../json.js';
import type { AdmitDeps, WebhookCall } from '../mutate/admit-pod.js';
import { admitPod } from '../mutate/admit-pod.js';
import { describeCalls, fieldsOf, selectorVerdict } from '../mutate/explain.js';
import { namespaceLabels as withNameLabel } from '../mutate/pod-webhooks.js';
import type { Json } from '../mutate/pod-templates.js';
import { evidenceOf } from './pod-evidence.js';
import type { ClusterWebhooks } from './webhook-configuration.js';

export interface PodFacts {
  namespace: string;
  name: string;
  /** The pod as stored. */
  pod: Json;
  /** The namespace's labels as stored (the API server adds kubernetes.io/metadata.name). */
  namespaceLabels: Record<string, string>;
  configurationName: string;
  /** Our configuration's pod webhooks; null when the configuration does not exist. */
  configuration: ClusterWebhooks | null;
  /** Other configurations found that call Vineyard webhooks (the operator's). */
  otherConfigurations: string[];
}

/** Server-set fields a new pod does not have: the simulated creation starts without them. */
export function asNewPod(stored: Json): Json {
  const { status: _status, ...pod } = stored;
  if (isObject(pod.metadata)) {
    const {
      uid: _u,
      resourceVersion: _r,
      creationTimestamp: _c,
      managedFields: _m,
      generation: _g,
      deletionTimestamp: _d,
      deletionGracePeriodSeconds: _dg,
      selfLink: _s,
      ...metadata
    } = pod.metadata;
    pod.metadata = metadata;
  }
  if (isObject(pod.spec)) {
    // Set by the scheduler after admission, not by whoever created the pod.
    const { nodeName: _n, ...spec } = pod.spec;
    pod.spec = spec;
  }
  return pod;
}

const controllerOf = (pod: Json): string | undefined => {
  const refs =
    isObject(pod.metadata) && Array.isArray(pod.metadata.ownerReferences) ? pod.metadata.ownerReferences : [];
  const c = refs.find(r => isObject(r) && r.controller === true) as { kind?: string; name?: string } | undefined;
  return c?.kind && c.name ? `${c.kind.toLowerCase()}/${c.name}` : undefined;
};

/** The explanation, one line per webhook, then hints; `deps` runs the simulated creations. */
export async function explainPod(facts: PodFacts, deps: AdmitDeps): Promise<string> {
  const { namespace, name, pod } = facts;
  const owner = controllerOf(pod);
  const out = [`pod/${name} (namespace ${namespace}${owner ? `, controlled by ${owner}` : ''}):`];
  const hints = new Set<string>();
  for (const other of facts.otherConfigurations) {
    out.push(
      `  note: MutatingWebhookConfiguration ${other} (the Vineyard operator's) exists too: the API server calls its webhooks as well (see docs/migrate.md)`,
    );
  }
  if (!facts.configuration) {
    out.push(
      `  MutatingWebhookConfiguration ${facts.configurationName} not found: no webhook of vineyard-webhook is called for any pod; install deploy/ (docs/install.md), or name the configuration with --mutating-webhook-configuration`,
    );
    return `${out.join('\n')}\n`;
  }
  const { webhooks, missing } = facts.configuration;
  out.push(
    `  configuration: MutatingWebhookConfiguration ${facts.configurationName}, ${webhooks.length} pod webhook${webhooks.length === 1 ? '' : 's'}${missing.length ? ` (not in it: ${missing.join(', ')})` : ''}`,
  );

  // A note every webhook has (a configuration applied without its caBundle) is said once.
  const shared = webhooks.length > 1 ? webhooks[0]!.notes.filter(n => webhooks.every(w => w.notes.includes(n))) : [];
  for (const n of shared) out.push(`  note: every webhook: ${n}`);

  const nsLabels = withNameLabel(namespace, facts.namespaceLabels);
  const labels = podLabels(pod as V1Pod);
  const fresh = asNewPod(pod);
  const recreate = owner
    ? `kubectl -n ${namespace} delete pod ${name} (its ${owner.split('/')[0]} creates a new one)`
    : `delete it and create it again`;
  for (const { hook, notes, neverCalled } of webhooks) {
    const verdict = selectorVerdict(hook, namespace, nsLabels, labels);
    const evidence = evidenceOf(hook, pod);
    const matches = verdict.reached && !neverCalled;
    let line: string;
    if (evidence) {
      line = matches
        ? `matches; ${evidence.what} when the pod was created (annotation ${evidence.annotation})`
        : `does not match now (${neverCalled ?? verdict.reason}), but ${evidence.what} when the pod was created (annotation ${evidence.annotation}): the labels or the configuration changed since`;
    } else if (!matches) {
      line = neverCalled ? `never called: ${neverCalled}` : `does not match: ${verdict.reason}`;
      // Only for a webhook the pod opts into by its own label (sidecar): a hint to
      // enable every namespace-gated webhook for every pod would be noise.
      if (verdict.blockedByNamespaceLabel && hook.objectSelector) {
        const wanted = Object.entries(hook.namespaceSelector?.matchLabels ?? {})
          .filter(([k, v]) => nsLabels[k] !== v)
          .map(([k, v]) => `${k}=${v}`);
        if (wanted.length)
          hints.add(
            `kubectl label namespace ${namespace} ${wanted.join(' ')}, then recreate the pod: ${recreate}; webhooks act only when a pod is created`,
          );
      }
    } else {
      const r = await admitPod(fresh, namespace, nsLabels, { ...deps, webhooks: [hook] });
      const step: WebhookCall | undefined = r.steps[0];
      if (r.denial) {
        line = `matches; created now, the pod would be refused: ${r.denial.message}`;
      } else if (step?.result === 'changed') {
        line = `matches, but this pod does not have what it writes (${fieldsOf(step.paths)}): it was created before the webhook, its namespace label or its pod label, or its call failed under failurePolicy Ignore; created now, it would get: ${describeCalls(hook.name, r.steps, r.pod)}`;
        hints.add(
          `recreate the pod to get what the webhooks write: ${recreate}; webhooks act only when a pod is created`,
        );
      } else {
        line = `matches; nothing to change (${step?.skip ?? 'the pod already has what it writes'})`;
      }
    }
    out.push(`  ${hook.name}: ${line}`);
    for (const n of notes.filter(x => !shared.includes(x))) out.push(`    note: ${n}`);
  }
  for (const h of hints) out.push(`hint: ${h}`);
  return `${out.join('\n')}\n`;
}
