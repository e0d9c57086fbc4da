// How a message names the object being admitted. Pods made by controllers
// have only `generateName` at admission time, and often no metadata.namespace.
// Only strings are used: a name of another JSON type (which no API server
// sends) must not break every message that names the object.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import { isObject } from '../../json.js';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

const metadataOf = (obj: unknown): Record<string, unknown> => {
  const meta = isObject(obj) ? obj.metadata : undefined;
  return isObject(meta) ? meta : {};
};

/** metadata.name, else the request's name; '' while only generateName exists. */
export function objectName(req: AdmissionRequest, obj: unknown): string {
  return text(metadataOf(obj).name) || text(req.name);
}

/** The name, or `<generateName>*` before the name exists, or `(unnamed)`. */
export function displayName(req: AdmissionRequest, obj: unknown): string {
  const generateName = text(metadataOf(obj).generateName);
  return objectName(req, obj) || (generateName ? `${generateName}*` : '(unnamed)');
}

export function podNamespace(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  return text(req.namespace) || text(pod.metadata?.namespace) || 'default';
}

/** `pod <namespace>/<name>`, or `pod <namespace>/<generateName>*` before the name exists. */
export function podDisplayName(req: AdmissionRequest, pod: Readonly<V1Pod>): string {
  return `pod ${podNamespace(req, pod)}/${displayName(req, pod)}`;
}
