// Small readers over a pod as plain JSON. Every field may be missing or of the
// wrong type in an object that has not been validated yet (mutating admission
// runs before schema validation), so each reader tolerates that.
import type { V1Container, V1EnvVar, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { isObject } from '../../json.js';

/** Own string-valued entries of a labels/annotations map (a non-string value is not a label). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!isObject(v)) return out;
  for (const k of Object.keys(v)) {
    const val = v[k];
    if (typeof val === 'string') out[k] = val;
  }
  return out;
}

export const podLabels = (pod: Readonly<V1Pod>): Record<string, string> => stringMap(pod.metadata?.labels);
export const podAnnotations = (pod: Readonly<V1Pod>): Record<string, string> => stringMap(pod.metadata?.annotations);

/** The containers of `spec.containers` or `spec.initContainers` that are objects, with their indices. */
export function containersOf(
  pod: Readonly<V1Pod>,
  field: 'containers' | 'initContainers' = 'containers',
): Array<{ index: number; container: V1Container }> {
  const list = isObject(pod.spec) ? (pod.spec as Record<string, unknown>)[field] : undefined;
  const out: Array<{ index: number; container: V1Container }> = [];
  if (!Array.isArray(list)) return out;
  for (let index = 0; index < list.length; index++) {
    const c: unknown = list[index];
    if (isObject(c)) out.push({ index, container: c as unknown as V1Container });
  }
  return out;
}

export const listOf = <T>(v: unknown): T[] => (Array.isArray(v) ? (v.filter(isObject) as T[]) : []);

export const envOf = (c: Readonly<V1Container>): V1EnvVar[] => listOf<V1EnvVar>(c.env);
export const mountsOf = (c: Readonly<V1Container>): V1VolumeMount[] => listOf<V1VolumeMount>(c.volumeMounts);
export const volumesOf = (pod: Readonly<V1Pod>): V1Volume[] => listOf<V1Volume>(pod.spec?.volumes);

/** Index of the env entry named `name` in the container's env array, or -1. */
export function envIndex(c: Readonly<V1Container>, name: string): number {
  return Array.isArray(c.env) ? c.env.findIndex(e => isObject(e) && e.name === name) : -1;
}

export function isTrue(v: string | undefined): boolean {
  return typeof v === 'string' && v.trim().toLowerCase() === 'true';
}

export const stringList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every(x => typeof x === 'string') ? (v as string[]) : undefined;
