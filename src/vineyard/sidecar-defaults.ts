// The one owner of a Sidecar spec's defaults (spec §2): the CR defaulting
// webhook fills them into the object, the injector reads a CR through them.
import type { Sidecar, SidecarSpec } from './sidecar.js';
import { isObject } from '../json.js';

export const SOCKET_TEMPLATE = '/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}';

/** Renders the Go-template placeholders the Vineyard operator supports in socket paths. */
export function renderSocket(template: string, namespace: string, name: string): string {
  return template.replace(/\{\{\s*\.Namespace\s*\}\}/g, namespace).replace(/\{\{\s*\.Name\s*\}\}/g, name);
}

export interface SidecarDefault {
  /** Path under `spec`. */
  path: readonly string[];
  value: (namespace: string, name: string) => unknown;
}

const fixed = (path: string, v: unknown): SidecarDefault => ({ path: path.split('.'), value: () => v });

/** In the order the defaulting webhook adds them. */
export const SIDECAR_DEFAULTS: readonly SidecarDefault[] = [
  fixed('replicas', 0),
  fixed('selector', ''),
  fixed('etcdReplicas', 1),
  fixed('vineyard.image', 'vineyardcloudnative/vineyardd:latest'),
  fixed('vineyard.imagePullPolicy', 'IfNotPresent'),
  fixed('vineyard.syncCRDs', true),
  { path: ['vineyard', 'socket'], value: (ns, name) => renderSocket(SOCKET_TEMPLATE, ns, name) },
  fixed('vineyard.size', ''),
  fixed('vineyard.reserveMemory', false),
  fixed('vineyard.streamThreshold', 80),
  fixed('vineyard.spill.spillLowerRate', '0.3'),
  fixed('vineyard.spill.spillUpperRate', '0.8'),
  fixed('metric.enable', false),
  fixed('metric.image', 'vineyardcloudnative/vineyard-grok-exporter:latest'),
  fixed('metric.imagePullPolicy', 'IfNotPresent'),
  fixed('service.type', 'ClusterIP'),
  fixed('service.port', 9600),
  fixed('volume.pvcName', ''),
  fixed('volume.mountPath', ''),
];

/** Reads `path` under obj; undefined when any step is missing or not an object. */
export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** The defaults whose field is absent (or null) in the spec. */
export function missingDefaults(spec: unknown): SidecarDefault[] {
  return SIDECAR_DEFAULTS.filter(d => {
    const v = getPath(spec, d.path);
    return v === undefined || v === null;
  });
}

/**
 * The CR's spec with every missing default filled in, as a new object. Only
 * the objects a default is written into are copied (spec, spec.vineyard...);
 * deeper values (env, volumes...) are the CR's own: read them, never write.
 * Why not a deep copy: it runs for every injected pod.
 */
export function sidecarSpecWithDefaults(sidecar: Readonly<Sidecar>): SidecarSpec {
  const missing = missingDefaults(sidecar.spec);
  const spec: Record<string, unknown> = isObject(sidecar.spec) ? { ...sidecar.spec } : {};
  const copies = new Set<object>([spec]);
  const ns = sidecar.metadata?.namespace ?? '';
  const name = sidecar.metadata?.name ?? '';
  for (const d of missing) {
    let cur = spec;
    for (let i = 0; i < d.path.length - 1; i++) {
      const at = cur[d.path[i]!];
      if (isObject(at) && copies.has(at)) {
        cur = at;
        continue;
      }
      const next: Record<string, unknown> = isObject(at) ? { ...at } : {};
      copies.add(next);
      cur[d.path[i]!] = next;
      cur = next;
    }
    cur[d.path[d.path.length - 1]!] = d.value(ns, name);
  }
  return spec as SidecarSpec;
}
