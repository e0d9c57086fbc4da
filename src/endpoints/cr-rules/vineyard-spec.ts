// The rules of the spec fields a Sidecar and a Vineyardd share (`etcdReplicas`,
// `vineyard`, `metric`, `service`, `volume`, `securityContext`, `volumes`,
// `volumeMounts`): both CRs describe a vineyardd the same way, so both
// validating webhooks run these, and a field is judged alike in either.
// Absent fields are fine: they take their defaults.
import { SHARED_SPEC_DEFAULTS, SOCKET_TEMPLATE } from '../../vineyard/sidecar-defaults.js';
import { DEFAULT_SOCKET_DIR, LOG_DIR, LOG_VOLUME, SOCKET_VOLUME } from '../../vineyard/names.js';
import { normalMountPath } from '../../vineyard/vineyardd-container.js';
import { parseQuantity, QUANTITY_HINT, quantitySuggestions } from '../../vineyard/quantity.js';
import { subdomainErrors } from '../../vineyard/label-rules.js';
import type { FieldErrors, JsonRecord } from './field-errors.js';
import { quoteList } from './field-errors.js';
import { isObject } from '../../json.js';

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'];
/** Volumes the injector adds to the pod itself; a user volume of the same name would collide. */
const RESERVED_VOLUMES = [SOCKET_VOLUME, LOG_VOLUME];

/** The shared default of a field under `spec`. */
function defaultOf(path: string): unknown {
  return SHARED_SPEC_DEFAULTS.find(d => d.path.join('.') === path)?.value('', '');
}

/** An image field, empty being a mistake (a missing field takes `fallback`), and with `withPolicy` its pull policy. */
export function checkImage(
  f: FieldErrors,
  parent: JsonRecord,
  path: string,
  fallback: unknown,
  imageKey = 'image',
  withPolicy = true,
): void {
  const image = f.string(parent, imageKey, path);
  if (image === '') {
    f.invalid(
      `${path}.${imageKey}`,
      image,
      `must not be empty: name an image, or remove the field to use the default ${String(fallback)}`,
    );
  }
  if (withPolicy) checkPullPolicy(f, parent, path);
}

export function checkPullPolicy(f: FieldErrors, parent: JsonRecord, path: string): void {
  const policy = f.string(parent, 'imagePullPolicy', path);
  if (policy !== undefined && !PULL_POLICIES.includes(policy))
    f.unsupported(`${path}.imagePullPolicy`, policy, PULL_POLICIES);
}

export function checkAbsolutePath(f: FieldErrors, parent: JsonRecord, key: string, path: string): void {
  const p = f.string(parent, key, path);
  if (p && !p.startsWith('/')) f.invalid(`${path}.${key}`, p, 'must be an absolute path (starting with "/"), or empty');
}

const PLACEHOLDER = /\{\{\s*\.(Namespace|Name)\s*\}\}/g;

/**
 * A socket directory template as the operator renders it: an absolute path
 * whose only placeholders are `{{.Namespace}}` and `{{.Name}}`, without `..`
 * (it becomes a hostPath on every node).
 */
function checkSocketTemplate(f: FieldErrors, parent: JsonRecord, key: string, path: string): void {
  const p = f.string(parent, key, path);
  if (!p) return;
  const bare = p.replace(PLACEHOLDER, 'x');
  const problems: string[] = [];
  if (!p.startsWith('/')) problems.push('must be an absolute path (starting with "/")');
  if (bare.includes('{{') || bare.includes('}}'))
    problems.push('may use only the placeholders {{.Namespace}} and {{.Name}}');
  if (bare.split('/').includes('..')) problems.push('must not contain ".." path segments');
  if (problems.length)
    f.invalid(`${path}.${key}`, p, `${problems.join(' and ')}, e.g. ${JSON.stringify(SOCKET_TEMPLATE)}`);
}

function checkQuantity(f: FieldErrors, parent: JsonRecord, key: string, path: string, emptyMeansUnset: boolean): void {
  const q = f.string(
    parent,
    key,
    path,
    `must be a string holding a Kubernetes quantity such as "2Gi" (quote numbers in YAML)`,
  );
  if (q === undefined || (q === '' && emptyMeansUnset)) return;
  const parsed = parseQuantity(q);
  if (!parsed) {
    const meant = quantitySuggestions(q);
    const unset = emptyMeansUnset ? ', or empty' : '; remove the field to leave it unset';
    const guess = meant.length ? `; did you mean ${meant.map(m => JSON.stringify(m)).join(' or ')}?` : '';
    f.invalid(`${path}.${key}`, q, `${QUANTITY_HINT}${unset}${guess}`);
  } else if (parsed.negative) f.invalid(`${path}.${key}`, q, 'must not be negative');
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

interface Rate {
  text: string;
  value: number;
  defaulted: boolean;
}

/** A spill rate: a string holding a number in [0, 1]; absent means its default. */
function readRate(f: FieldErrors, spill: JsonRecord, key: string, path: string): Rate | undefined {
  const text = f.string(spill, key, path, 'must be a string holding a number between 0 and 1, e.g. "0.3"');
  if (text === undefined) {
    if (spill[key] !== undefined && spill[key] !== null) return undefined;
    const d = String(defaultOf(`vineyard.spill.${key}`));
    return { text: d, value: Number(d), defaulted: true };
  }
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 1)) {
    f.invalid(`${path}.${key}`, text, 'must be a number between 0 and 1');
    return undefined;
  }
  return { text, value, defaulted: false };
}

function checkSpill(f: FieldErrors, spill: JsonRecord, path: string): void {
  f.string(spill, 'name', path);
  checkAbsolutePath(f, spill, 'path', path);
  f.record(spill, 'persistentVolumeSpec', path);
  f.record(spill, 'persistentVolumeClaimSpec', path);
  const lower = readRate(f, spill, 'spillLowerRate', path);
  const upper = readRate(f, spill, 'spillUpperRate', path);
  if (!lower || !upper || lower.value < upper.value) return;
  const note = (r: Rate) => `${JSON.stringify(r.text)}${r.defaulted ? ', the default' : ''}`;
  // Blame the rate the user wrote; when both are written, the lower one.
  if (!lower.defaulted)
    f.invalid(`${path}.spillLowerRate`, lower.text, `must be lower than ${path}.spillUpperRate (${note(upper)})`);
  else f.invalid(`${path}.spillUpperRate`, upper.text, `must be greater than ${path}.spillLowerRate (${note(lower)})`);
}

function checkEnv(f: FieldErrors, env: readonly unknown[], path: string): void {
  env.forEach((e, i) => {
    const p = `${path}.env[${i}]`;
    if (!isObject(e)) f.invalid(p, e, 'must be an environment variable, e.g. {"name": "GLOG_v", "value": "1"}');
    else f.requiredString(e, 'name', p, 'must be a non-empty string naming the variable');
  });
}

/** `path`: the socket is a plain absolute path (a Sidecar's, rendered at defaulting); `template`: the operator renders it. */
export type SocketRule = 'path' | 'template';

function checkVineyard(f: FieldErrors, v: JsonRecord, path: string, socket: SocketRule): void {
  checkImage(f, v, path, defaultOf('vineyard.image'));
  f.boolean(v, 'syncCRDs', path);
  if (socket === 'template') checkSocketTemplate(f, v, 'socket', path);
  else checkAbsolutePath(f, v, 'socket', path);
  checkQuantity(f, v, 'size', path, true);
  f.boolean(v, 'reserveMemory', path);
  f.integer(v, 'streamThreshold', path, 0, 100);
  const spill = f.record(v, 'spill', path);
  if (spill) checkSpill(f, spill, `${path}.spill`);
  const env = f.array(v, 'env', path);
  if (env) checkEnv(f, env, path);
  checkQuantity(f, v, 'memory', path, false);
  checkQuantity(f, v, 'cpu', path, false);
}

/** Returns the names of the volumes, for the volumeMounts check. */
function checkVolumes(f: FieldErrors, volumes: readonly unknown[]): string[] {
  const names: string[] = [];
  volumes.forEach((v, i) => {
    const p = `spec.volumes[${i}]`;
    if (!isObject(v)) {
      f.invalid(p, v, 'must be a Kubernetes volume, e.g. {"name": "dev-volumes", "hostPath": {"path": "/dev"}}');
      return;
    }
    const name = f.requiredString(v, 'name', p, 'must be a non-empty string naming the volume');
    if (name === undefined) return;
    if (RESERVED_VOLUMES.includes(name)) {
      f.invalid(
        `${p}.name`,
        name,
        `is reserved for a volume the webhook adds to the pod (${quoteList(RESERVED_VOLUMES)}): rename this volume and the volumeMounts that use it`,
      );
    } else if (names.includes(name)) {
      f.add(`${p}.name`, 'Duplicate value', name, 'each volume needs its own name');
    }
    names.push(name);
  });
  return names;
}

/**
 * The directories the vineyardd container itself mounts (the socket
 * directory, and the log directory with metrics): a volume mount there, or
 * two at one path, would make every vineyardd pod invalid.
 */
function takenMountPaths(spec: JsonRecord): Map<string, string> {
  const volume = isObject(spec.volume) ? spec.volume : {};
  const metric = isObject(spec.metric) ? spec.metric : {};
  const socketDir = typeof volume.mountPath === 'string' && volume.mountPath ? volume.mountPath : DEFAULT_SOCKET_DIR;
  const taken = new Map([
    [
      normalMountPath(socketDir),
      `the Vineyard socket directory (spec.volume.mountPath, default ${DEFAULT_SOCKET_DIR}) is mounted there`,
    ],
  ]);
  if (metric.enable === true) taken.set(LOG_DIR, 'the metrics log volume is mounted there (spec.metric.enable)');
  return taken;
}

function checkVolumeMounts(
  f: FieldErrors,
  mounts: readonly unknown[],
  volumes: readonly string[],
  taken: Map<string, string>,
  container: string,
): void {
  const seen = new Map(taken);
  mounts.forEach((m, i) => {
    const p = `spec.volumeMounts[${i}]`;
    if (!isObject(m)) {
      f.invalid(p, m, 'must be a volume mount, e.g. {"name": "dev-volumes", "mountPath": "/dev"}');
      return;
    }
    const name = f.requiredString(m, 'name', p, 'must name a volume in spec.volumes');
    if (name !== undefined && !volumes.includes(name)) {
      f.add(
        `${p}.name`,
        'Not found',
        name,
        volumes.length
          ? `must name a volume in spec.volumes (${quoteList(volumes)})`
          : 'must name a volume in spec.volumes, which has none: add the volume there',
      );
    }
    const mountPath = f.requiredString(
      m,
      'mountPath',
      p,
      `must be the path in the ${container} container where the volume is mounted`,
    );
    if (mountPath === undefined) return;
    const why = seen.get(normalMountPath(mountPath));
    if (why) f.add(`${p}.mountPath`, 'Duplicate value', mountPath, `${why}: mount the volume at another path`);
    else seen.set(normalMountPath(mountPath), `spec.volumeMounts mounts another volume there`);
  });
}

export interface SharedSpecRules {
  /** How `spec.vineyard.socket` is read. */
  socket: SocketRule;
  /** The CR kind, as messages name it ("the Sidecar's namespace"). */
  kind: string;
  /** The container `spec.volumeMounts` go into, as messages name it. */
  container: string;
}

/** Every problem of the shared fields of `spec`, recorded in `f` in field order after the caller's own. */
export function checkSharedSpec(f: FieldErrors, spec: JsonRecord, rules: SharedSpecRules): void {
  const path = 'spec';
  f.integer(spec, 'etcdReplicas', path, 1);

  const vineyard = f.record(spec, 'vineyard', path);
  if (vineyard) checkVineyard(f, vineyard, 'spec.vineyard', rules.socket);

  const metric = f.record(spec, 'metric', path);
  if (metric) {
    f.boolean(metric, 'enable', 'spec.metric');
    checkImage(f, metric, 'spec.metric', defaultOf('metric.image'));
  }

  const volume = f.record(spec, 'volume', path);
  if (volume) {
    const pvc = f.string(volume, 'pvcName', 'spec.volume');
    if (pvc)
      for (const e of subdomainErrors(pvc))
        f.invalid(
          'spec.volume.pvcName',
          pvc,
          `must name a PersistentVolumeClaim in the ${rules.kind}'s namespace: ${e}`,
        );
    checkAbsolutePath(f, volume, 'mountPath', 'spec.volume');
  }

  const service = f.record(spec, 'service', path);
  if (service) {
    const type = f.string(service, 'type', 'spec.service');
    if (type !== undefined && !SERVICE_TYPES.includes(type)) f.unsupported('spec.service.type', type, SERVICE_TYPES);
    f.integer(service, 'port', 'spec.service', 1, 65535);
    f.string(service, 'selector', 'spec.service');
  }

  f.record(spec, 'securityContext', path);
  const volumes = f.array(spec, 'volumes', path);
  const names = volumes ? checkVolumes(f, volumes) : [];
  const mounts = f.array(spec, 'volumeMounts', path);
  if (mounts) checkVolumeMounts(f, mounts, names, takenMountPaths(spec), rules.container);
}
