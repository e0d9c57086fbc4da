// The custom resources of a manifest (Sidecar, Vineyardd, and any other kind
// an endpoint of the table admits, Pods aside), admitted as the API server
// would admit them: every mutating endpoint for the kind, then every
// validating one, through the server's own pipelines. Pods read the admitted
// objects: a Sidecar applied with its Deployment is defaulted before the
// sidecar webhook injects from it, and a Sidecar the validating webhook would
// refuse fails the preview instead of being injected from.
import { randomUUID } from 'node:crypto';
import type { AdmissionRequest, JsonObject } from '../../admission/types.js';
import type { AnyEndpoint } from '../../admission/endpoint.js';
import type { RunDeps } from '../../admission/run.js';
import { runPipeline } from '../../admission/run.js';
import { endpoints } from '../../endpoints/table.js';
import { isObject } from '../../json.js';
import { patchedCopy } from '../../jsonpatch/patched-copy.js';
import { metadataOf, type Json } from './pod-templates.js';

const groupOf = (apiVersion: unknown) =>
  typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
const versionOf = (apiVersion: unknown) => (typeof apiVersion === 'string' ? apiVersion.split('/').pop()! : '');

/** The endpoints that admit `obj`, mutating first (the API server's order), or [] for Pods and kinds no webhook admits. */
export function crEndpoints(obj: Json): AnyEndpoint[] {
  const group = groupOf(obj.apiVersion);
  const found = endpoints.filter(
    e => e.expects.kind !== 'Pod' && e.expects.kind === obj.kind && e.expects.group === group,
  );
  return [...found.filter(e => e.mutating), ...found.filter(e => !e.mutating)];
}

/** deploy/ names each webhook `<endpoint name>.vineyard-webhook.v6d.io`. */
export const webhookName = (e: AnyEndpoint) => `${e.name}.vineyard-webhook.v6d.io`;

export interface CrAdmission {
  /** The object as admitted: defaulted, with the namespace it is created in. */
  object: Json;
  /** `defaulted spec.x, spec.y` / `valid`, per webhook, for the report. */
  steps: string[];
  warnings: string[];
  denial?: { webhook: string; code: number; message: string };
}

function createRequest(obj: Json, namespace: string): AdmissionRequest {
  const { name } = metadataOf(obj);
  const kind = String(obj.kind);
  return {
    uid: randomUUID(),
    kind: { group: groupOf(obj.apiVersion), version: versionOf(obj.apiVersion), kind },
    resource: {
      group: groupOf(obj.apiVersion),
      version: versionOf(obj.apiVersion),
      resource: `${kind.toLowerCase()}s`,
    },
    ...(name ? { name } : {}),
    namespace,
    operation: 'CREATE',
    userInfo: { username: 'vineyard-webhook-mutate' },
    object: obj as JsonObject,
    oldObject: null,
    dryRun: false,
  };
}

/** Admits one custom resource in `namespace` (its own, or --namespace). */
export async function admitCustomResource(obj: Json, namespace: string, deps: RunDeps): Promise<CrAdmission> {
  let current: Json = { ...obj, metadata: { ...(isObject(obj.metadata) ? obj.metadata : {}), namespace } };
  const steps: string[] = [];
  const warnings = new Set<string>();
  for (const endpoint of crEndpoints(obj)) {
    const out = await runPipeline(endpoint, createRequest(current, namespace), deps);
    for (const w of out.response.warnings ?? []) warnings.add(w);
    if (!out.response.allowed) {
      return {
        object: obj,
        steps,
        warnings: [...warnings],
        denial: {
          webhook: webhookName(endpoint),
          code: out.response.status?.code ?? 400,
          message: out.response.status?.message ?? 'denied',
        },
      };
    }
    if (!endpoint.mutating) {
      steps.push(`${endpoint.name}: valid`);
      continue;
    }
    if (!out.patch.length) {
      steps.push(`${endpoint.name}: nothing to default`);
      continue;
    }
    current = patchedCopy(current, out.patch, false);
    steps.push(`${endpoint.name}: ${out.patch.length} default${out.patch.length > 1 ? 's' : ''} filled`);
  }
  // Printed as the user wrote it: a manifest without namespaces stays one `kubectl apply -n` can place.
  if (!metadataOf(obj).namespace && isObject(current.metadata)) {
    const { namespace: _, ...meta } = current.metadata;
    return { object: { ...current, metadata: meta }, steps, warnings: [...warnings] };
  }
  return { object: current, steps, warnings: [...warnings] };
}
