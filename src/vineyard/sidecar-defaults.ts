// The one owner of a Sidecar spec's defaults: the CR defaulting
// webhook fills them into the object, the injector reads a CR through them.
import type { Sidecar, SidecarSpec } from './sidecar.js';
import { isObject } from '../json.js';

export const SOCKET_TEMPLATE = '/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}';

/** Renders the Go-template placeholders the Vineyard operator supports in socket paths. */
export function renderSocket(template: string, namespace: string, name: string): string {
  return template.replace(/\{\{\s*\.Namespace\s*\}\}/g, namespace).replace(/\{\{\s*\.Name\s*\}\}/g, name);
}

export interface SpecDefault {
  /** Path under `spec`. */
  path: readonly string[];
  value: (namespace: string, name: string) => unknown;
  /**
   * Filled only inside a parent object the user wrote, as a CRD's nested
   * schema default is: the Vineyardd CRD defaults spill rates only in a
   * `spill` that exists, and a spill block nobody asked for would read as a
   * spill configuration.
   */
  onlyInExistingParent?: boolean;
}

export type SidecarDefault = SpecDefault;

export const fixedDefault = (path: string, v: unknown): SpecDefault => ({ path: path.split('.'), value: () => v });
const fixed = fixedDefault;

/**
 * The fields a Sidecar shares with a Vineyardd (`etcdReplicas`, `vineyard`,
 * `metric`, `service`, `volume`): the operator's CRDs give both the same
 * defaults, so both CR webhooks take them from here.
 */
export const SHARED_SPEC_DEFAULTS: readonly SpecDefault[] = [
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

/** In the order the defaulting webhook adds them. */
export const SIDECAR_DEFAULTS: readonly SpecDefault[] = [
  fixed('replicas', 0),
  fixed('selector', ''),
  ...SHARED_SPEC_DEFAULTS,
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

/** The defaults of `table` whose field is absent (or null) in the spec. */
export function missingDefaults(spec: unknown, table: readonly SpecDefault[] = SIDECAR_DEFAULTS): SpecDefault[] {
  return table.filter(d => {
    if (d.onlyInExistingParent && !isObject(getPath(spec, d.path.slice(0, -1)))) return false;
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
