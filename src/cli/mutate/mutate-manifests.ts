// The offline twin of the webhook for a whole manifest: every Pod, and the
// pod template of every workload (what the pods its controller creates will
// look like), admitted as the API server would admit such a pod; every other
// object passes through untouched, in order.
import { admitPod, type AdmitDeps, type WebhookDenial } from './admit-pod.js';
import { namespaceLabels } from './pod-webhooks.js';
import { isObject } from '../../json.js';
import { getAt, metadataOf, podTemplatePath, setAt, type Json } from './pod-templates.js';

export interface MutateOptions extends AdmitDeps {
  /** Namespace of objects that name none (--namespace). */
  namespace: string;
  /** Labels every namespace is taken to have (--namespace-label), over those of Namespace objects. */
  namespaceLabels: Readonly<Record<string, string>>;
  /** Namespace objects known besides those of the manifest (e.g. from --resources). */
  namespaces?: readonly unknown[];
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
}

export interface MutateResult {
  /** The input documents, in order, admitted pods and templates replaced. */
  documents: Json[];
  reports: ObjectReport[];
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
  if (!metadata.name && !metadata.generateName && ownerName) metadata.generateName = added.generateName = `${ownerName}-`;
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

export async function mutateManifests(docs: readonly Json[], opts: MutateOptions): Promise<MutateResult> {
  const nsLabels = labelsByNamespace([...(opts.namespaces ?? []), ...docs.flatMap(d => (d.kind === 'List' && Array.isArray(d.items) ? d.items : [d]))]);
  const reports: ObjectReport[] = [];

  const mutateObject = async (obj: Json): Promise<Json> => {
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      const items: Json[] = [];
      for (const item of obj.items) items.push(isObject(item) ? await mutateObject(item) : item);
      return { ...obj, items };
    }
    const path = podTemplatePath(obj);
    if (!path) return obj;
    const meta = metadataOf(obj);
    const namespace = meta.namespace || opts.namespace;
    const report: ObjectReport = { ref: `${String(obj.kind)}/${meta.name || meta.generateName || '(no name)'}`, namespace, warnings: [], calls: [] };
    reports.push(report);
    const template = path.length ? getAt(obj, path) : obj;
    if (!template) {
      report.warnings.push(`no pod template at ${path.join('.')}: passed through unchanged`);
      return obj;
    }
    const { pod, added } = path.length ? podFromTemplate(template, meta.name) : { pod: obj, added: {} };
    const labels = namespaceLabels(namespace, { ...nsLabels.get(namespace), ...opts.namespaceLabels });
    const admitted = await admitPod(pod, namespace, labels, opts);
    report.warnings.push(...admitted.warnings);
    report.calls = admitted.calls;
    if (admitted.denial) {
      report.denial = admitted.denial;
      return obj;
    }
    return path.length ? setAt(obj, path, templateFromPod(admitted.pod, template, added)) : admitted.pod;
  };

  const documents: Json[] = [];
  for (const d of docs) documents.push(await mutateObject(d));
  return { documents, reports };
}
