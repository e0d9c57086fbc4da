// Where each workload kind keeps the pod it creates: the pod webhooks see
// those pods, so the offline CLI admits the template in their place.
import { isObject } from '../../json.js';
import { stringMap } from '../../endpoints/pod/pod-helpers.js';

/** Path from the object to its pod template; [] for a Pod, which is its own. */
const TEMPLATE_PATHS: Record<string, { groups: readonly string[]; path: readonly string[] }> = {
  Pod: { groups: [''], path: [] },
  ReplicationController: { groups: [''], path: ['spec', 'template'] },
  Deployment: { groups: ['apps'], path: ['spec', 'template'] },
  StatefulSet: { groups: ['apps'], path: ['spec', 'template'] },
  DaemonSet: { groups: ['apps'], path: ['spec', 'template'] },
  ReplicaSet: { groups: ['apps'], path: ['spec', 'template'] },
  Job: { groups: ['batch'], path: ['spec', 'template'] },
  CronJob: { groups: ['batch'], path: ['spec', 'jobTemplate', 'spec', 'template'] },
};

export type Json = Record<string, unknown>;

const groupOf = (apiVersion: unknown) =>
  typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';

/** The template path of a kind this CLI admits, or undefined for any other object (passed through). */
export function podTemplatePath(obj: Json): readonly string[] | undefined {
  const entry = typeof obj.kind === 'string' ? TEMPLATE_PATHS[obj.kind] : undefined;
  return entry && entry.groups.includes(groupOf(obj.apiVersion)) ? entry.path : undefined;
}

/** The value at `path`, when every step is an object. */
export function getAt(obj: Json, path: readonly string[]): Json | undefined {
  let cur: unknown = obj;
  for (const seg of path) cur = isObject(cur) ? cur[seg] : undefined;
  return isObject(cur) ? cur : undefined;
}

/** A copy of `obj` with `value` at `path` (every parent exists: getAt found the old value there). */
export function setAt(obj: Json, path: readonly string[], value: Json): Json {
  if (!path.length) return value;
  const [head, ...rest] = path as [string, ...string[]];
  return { ...obj, [head]: setAt(obj[head] as Json, rest, value) };
}

/** The metadata fields the command reads, each only when it has the right type (manifests are user input). */
export function metadataOf(obj: Json): {
  name?: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
} {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    name: str(m.name),
    namespace: str(m.namespace),
    generateName: str(m.generateName),
    labels: stringMap(m.labels),
  };
}
