// How a message names the pod being admitted. Pods made by controllers have
// only `generateName` at admission time, and often no metadata.namespace.
// Only strings are used: a name of another JSON type (which no API server
// sends) must not break every message that names the pod.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../admission/types.js';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export function podNamespace(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  return text(req.namespace) || text(pod.metadata?.namespace) || 'default';
}

/** `pod <namespace>/<name>`, or `pod <namespace>/<generateName>*` before the name exists. */
export function podDisplayName(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  const meta = pod.metadata;
  const generateName = text(meta?.generateName);
  const name = text(meta?.name) || text(req.name) || (generateName ? `${generateName}*` : '(unnamed)');
  return `pod ${podNamespace(req, pod)}/${name}`;
}
