// How a message names the pod being admitted. Pods made by controllers have
// only `generateName` at admission time, and often no metadata.namespace.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../admission/types.js';

export function podNamespace(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  return req.namespace || pod.metadata?.namespace || 'default';
}

/** `pod <namespace>/<name>`, or `pod <namespace>/<generateName>*` before the name exists. */
export function podDisplayName(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  const meta = pod.metadata;
  const name = meta?.name || req.name || (meta?.generateName ? `${meta.generateName}*` : '(unnamed)');
  return `pod ${podNamespace(req, pod)}/${name}`;
}
