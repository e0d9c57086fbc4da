// The offline twin of the webhook for a whole manifest: every Pod, and the
// pod template of every workload (what the pods its controller creates will
// look like), admitted as the API server would admit such a pod; every other
// object passes through untouched, in order. Custom resources the webhooks
// admit (Sidecar, Vineyardd, ...) are admitted first, so that pods find them
// as the cluster would hold them once applied.
import type { V1Pod } from '@kubernetes/client-node';
import { admitPod, type AdmitDeps, type WebhookDenial } from './admit-pod.js';
import { admitCustomResource, crEndpoints } from './custom-resources.js';
import { describeCalls, selectorVerdict, shortName, type SelectorVerdict } from './explain.js';
import { namespaceLabels, POD_WEBHOOKS, type PodWebhook } from './pod-webhooks.js';
import { podLabels } from '../../endpoints/pod/pod-helpers.js';
import { isObject } from '../../json.js';
import { getAt, metadataOf, podTemplatePath, setAt, type Json } from './pod-templates.js';

export interface MutateOptions extends AdmitDeps {
  /** Namespace of objects that name none (--namespace). */
  namespace: string;
  /** Labels every namespace is taken to have (--namespace-label), over those of Namespace objects. */
  namespaceLabels: Readonly<Record<string, string>>;
  /** Namespace objects known besides those of the manifest (e.g. from --resources). */
  namespaces?: readonly unknown[];
  /** Labels of a namespace neither the flags nor a Namespace object give (--kubeconfig reads the cluster's). */
  lookupNamespaceLabels?(name: string): Promise<Record<string, string> | undefined>;
  /** Makes an admitted custom resource visible to the pods after it (the store's load); without it, CRs are only checked. */
  load?(obj: Json): void;
}

/** One pod webhook, for one pod: whether the API server would call it, and what it did. */
export interface WebhookReport {
  webhook: string;
  selector: SelectorVerdict;
  /** What it did when called; why not, when not. */
  text: string;
}

/** What happened to one Pod or pod template. */
export interface ObjectReport {
  /** `Kind/name`: how messages name the object. */
  ref: string;
  namespace: string;
  warnings: string[];
  denial?: WebhookDenial;
  /** The webhooks called, in order. */
  calls: string[];
  /** `deployment/job-deployment`, as kubectl names objects. */
  name: string;
  /** Each pod webhook, in order (Pods and pod templates); the custom-resource webhooks' steps (CRs). */
  webhooks: WebhookReport[];
  /** The report's line after the name: what each webhook did or why it skipped. */
  summary: string;
}

export interface MutateResult {
  /** The input documents, in order, admitted pods and templates replaced. */
  documents: Json[];
  reports: ObjectReport[];
  /** Advice about the flags, e.g. the namespace label that no namespace had. */
  hints: string[];
}

/** Labels of the Namespace objects, by name. */
function labelsByNamespace(objects: readonly unknown[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const o of objects) {
    if (!isObject(o) || o.kind !== 'Namespace' || o.apiVersion !== 'v1') continue;
    const meta = metadataOf(o);
    if (meta.name) out.set(meta.name, { ...(isObject(meta.labels) ? meta.labels : {}) });
  }
  return out;
}

/**
 * The pod a controller creates from `template`, for the webhooks: a template
 * has no name, so the controller's name is its generateName (what messages
 * show); the keys added here are removed again from the result.
 */
function podFromTemplate(template: Json, ownerName: string | undefined): { pod: Json; added: Record<string, string> } {
  const metadata: Json = isObject(template.metadata) ? structuredClone(template.metadata) : {};
  const added: Record<string, string> = {};
  if (!metadata.name && !metadata.generateName && ownerName)
    metadata.generateName = added.generateName = `${ownerName}-`;
  const spec = isObject(template.spec) ? structuredClone(template.spec) : {};
  return { pod: { apiVersion: 'v1', kind: 'Pod', metadata, spec }, added };
}

function templateFromPod(pod: Json, template: Json, added: Record<string, string>): Json {
  const metadata: Json = isObject(pod.metadata) ? { ...pod.metadata } : {};
  for (const [k, v] of Object.entries(added)) if (metadata[k] === v) delete metadata[k];
  const out: Json = { ...template };
  if ('metadata' in template || Object.keys(metadata).length) out.metadata = metadata;
  out.spec = pod.spec;
  return out;
}

/**
 * The report line of one pod: the webhooks the API server calls, those the pod
 * asks for (its objectSelector matches), and those a namespace label gates
 * (sidecar, operation: the ones users expect on every pod); a webhook a pod
 * opts into by label and did not (scheduling) is told only by --explain.
 */
const summaryOf = (webhooks: readonly WebhookReport[], hooks: readonly PodWebhook[]): string => {
  const gated = (name: string) =>
    Object.keys(hooks.find(h => h.name === name)?.namespaceSelector?.matchLabels ?? {}).length > 0;
  const told = webhooks.filter(w => w.selector.reached || w.selector.podAsks || gated(w.webhook));
  return told.length ? told.map(w => w.text).join('; ') : 'no webhook applies (see --explain)';
};

/** The hint when no namespace-gated webhook reached any pod although a pod asked for one (the likeliest first mistake). */
function namespaceLabelHint(reports: readonly ObjectReport[], hooks: readonly PodWebhook[]): string | undefined {
  const gated = hooks.filter(h => Object.keys(h.namespaceSelector?.matchLabels ?? {}).length);
  // A namespace labelled for any of them shows the user knows the labels: no hint then.
  const labelledFor = (h: PodWebhook) =>
    reports.some(r => r.webhooks.some(w => w.webhook === h.name && w.selector.namespaceMatches));
  if (!gated.length || gated.some(labelledFor)) return undefined;
  // Webhooks that pods opt into by a label (sidecar) first: those pods plainly want them.
  const blocked = gated
    .map(h => ({
      h,
      objects: reports.filter(r => r.webhooks.some(w => w.webhook === h.name && w.selector.blockedByNamespaceLabel)),
    }))
    .filter(b => b.objects.length)
    .sort((a, b) => Number(!!b.h.objectSelector) - Number(!!a.h.objectSelector));
  if (!blocked.length) return undefined;
  const flags = blocked.map(b =>
    Object.entries(b.h.namespaceSelector!.matchLabels!)
      .map(([k, v]) => `--namespace-label ${k}=${v}`)
      .join(' '),
  );
  const first = blocked[0]!;
  const names = first.objects.map(r => r.name);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  const namespaces = [...new Set(first.objects.map(r => r.namespace))].join(', ');
  return (
    `no namespace has a label that lets the ${blocked.map(b => shortName(b.h.name)).join(' or ')} webhook reach a pod, so ${shown} ${names.length > 1 ? 'are' : 'is'} not changed by ${blocked.length > 1 ? 'them' : 'it'}: ` +
    `if namespace ${namespaces} is labelled so in the cluster, pass ${flags.join(' and/or ')} (or put the Namespace object in the input, or read it with --kubeconfig)`
  );
}

export async function mutateManifests(docs: readonly Json[], opts: MutateOptions): Promise<MutateResult> {
  const nsLabels = labelsByNamespace([
    ...(opts.namespaces ?? []),
    ...docs.flatMap(d => (d.kind === 'List' && Array.isArray(d.items) ? d.items : [d])),
  ]);
  const hooks = opts.webhooks ?? POD_WEBHOOKS;
  const reports: ObjectReport[] = [];
  const admittedCrs = new Map<Json, Json>();

  const labelsOf = async (namespace: string): Promise<Record<string, string>> => {
    const known = nsLabels.get(namespace) ?? (await opts.lookupNamespaceLabels?.(namespace));
    return namespaceLabels(namespace, { ...known, ...opts.namespaceLabels });
  };

  const each = (d: Json): Json[] => (d.kind === 'List' && Array.isArray(d.items) ? d.items.filter(isObject) : [d]);
  // Every custom resource before any pod: kubectl applies a file's objects in
  // one go, and a pod template's controller creates pods only afterwards.
  for (const obj of docs.flatMap(each)) {
    if (!crEndpoints(obj).length) continue;
    const meta = metadataOf(obj);
    const namespace = meta.namespace || opts.namespace;
    const ref = `${String(obj.kind)}/${meta.name || '(no name)'}`;
    const r = await admitCustomResource(obj, namespace, opts);
    reports.push({
      ref,
      name: `${String(obj.kind).toLowerCase()}/${meta.name || '(no name)'}`,
      namespace,
      warnings: r.warnings,
      calls: [],
      webhooks: [],
      summary: r.steps.join('; ') || 'no webhook applies',
      ...(r.denial ? { denial: r.denial } : {}),
    });
    if (r.denial) continue;
    admittedCrs.set(obj, r.object);
    opts.load?.({ ...r.object, metadata: { ...(r.object.metadata as Json), namespace } });
  }

  const mutateObject = async (obj: Json): Promise<Json> => {
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      const items: Json[] = [];
      for (const item of obj.items) items.push(isObject(item) ? await mutateObject(item) : item);
      return { ...obj, items };
    }
    const cr = admittedCrs.get(obj);
    if (cr) return cr;
    const path = podTemplatePath(obj);
    if (!path) return obj;
    const meta = metadataOf(obj);
    const namespace = meta.namespace || opts.namespace;
    const ref = `${String(obj.kind)}/${meta.name || meta.generateName || '(no name)'}`;
    const report: ObjectReport = {
      ref,
      name: `${String(obj.kind).toLowerCase()}/${meta.name || meta.generateName || '(no name)'}`,
      namespace,
      warnings: [],
      calls: [],
      webhooks: [],
      summary: '',
    };
    reports.push(report);
    const template = path.length ? getAt(obj, path) : obj;
    if (!template) {
      report.warnings.push(`no pod template at ${path.join('.')}: passed through unchanged`);
      report.summary = `no pod template at ${path.join('.')}`;
      return obj;
    }
    const { pod, added } = path.length ? podFromTemplate(template, meta.name) : { pod: obj, added: {} };
    const labels = await labelsOf(namespace);
    const admitted = await admitPod(pod, namespace, labels, { ...opts, webhooks: hooks });
    report.warnings.push(...admitted.warnings);
    report.calls = admitted.calls;
    // Selectors are judged on the pod as the first webhook saw it: a later
    // webhook's labels cannot explain why an earlier one was not called.
    const initial = podLabels(pod as V1Pod);
    report.webhooks = hooks.map(h => {
      const steps = admitted.steps.filter(s => s.webhook === h.name);
      const selector = steps.length
        ? { reached: true, podAsks: true, blockedByNamespaceLabel: false, namespaceMatches: true }
        : selectorVerdict(h, namespace, labels, initial);
      const text = steps.length
        ? describeCalls(h.name, steps, admitted.pod)
        : `${shortName(h.name)}: ${selector.reason ?? 'not called'}`;
      return { webhook: h.name, selector, text };
    });
    report.summary = summaryOf(report.webhooks, hooks);
    if (admitted.denial) {
      report.denial = admitted.denial;
      return obj;
    }
    return path.length ? setAt(obj, path, templateFromPod(admitted.pod, template, added)) : admitted.pod;
  };

  const documents: Json[] = [];
  for (const d of docs) documents.push(await mutateObject(d));
  const hint = namespaceLabelHint(reports, hooks);
  return { documents, reports, hints: hint ? [hint] : [] };
}
