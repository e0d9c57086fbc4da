// Sidecar CR validation (spec §5): every problem of the CR in one answer, each
// with its field path, the value sent and what is allowed, worded like the API
// server's own validation. Absent fields are fine: they take the spec §2
// defaults. A wrong JSON type is a problem, never a crash.
import type { AdmissionRequest } from '../../admission/types.js';
import type { Sidecar } from '../../vineyard/sidecar.js';
import { SIDECAR_DEFAULTS } from '../../vineyard/sidecar-defaults.js';
import { DEFAULT_SOCKET_DIR, LOG_DIR, LOG_VOLUME, SIDECAR_KIND, SOCKET_VOLUME, VINEYARD_GROUP } from '../../vineyard/names.js';
import { normalMountPath } from '../../vineyard/vineyardd-container.js';
import { parseQuantity, QUANTITY_HINT, quantitySuggestions } from '../../vineyard/quantity.js';
import { equalitySelectorErrors, subdomainErrors } from '../../vineyard/label-rules.js';
import type { JsonRecord } from './field-errors.js';
import { FieldErrors, formatFieldError, invalidMessage, quoteList } from './field-errors.js';
import { isObject } from '../../json.js';
import { objectName } from '../pod/pod-name.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow, deny } from '../../admission/mutator.js';

const KIND = `${SIDECAR_KIND}.${VINEYARD_GROUP}`;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'];
/** Volumes the injector adds to the pod itself; a user volume of the same name would collide. */
const RESERVED_VOLUMES = [SOCKET_VOLUME, LOG_VOLUME];
/** 422 Unprocessable Entity: what the API server answers for an invalid object. */
const INVALID_CODE = 422;

/** The spec §2 default of a field under `spec`, from the one table that owns them. */
function defaultOf(path: string): unknown {
  return SIDECAR_DEFAULTS.find(d => d.path.join('.') === path)?.value('', '');
}

function checkImage(f: FieldErrors, parent: JsonRecord, path: string, defaultPath: string): void {
  const image = f.string(parent, 'image', path);
  if (image === '') {
    f.invalid(`${path}.image`, image, `must not be empty: name an image, or remove the field to use the default ${String(defaultOf(defaultPath))}`);
  }
  const policy = f.string(parent, 'imagePullPolicy', path);
  if (policy !== undefined && !PULL_POLICIES.includes(policy)) f.unsupported(`${path}.imagePullPolicy`, policy, PULL_POLICIES);
}

function checkAbsolutePath(f: FieldErrors, parent: JsonRecord, key: string, path: string): void {
  const p = f.string(parent, key, path);
  if (p && !p.startsWith('/')) f.invalid(`${path}.${key}`, p, 'must be an absolute path (starting with "/"), or empty');
}

function checkQuantity(f: FieldErrors, parent: JsonRecord, key: string, path: string, emptyMeansUnset: boolean): void {
  const q = f.string(parent, key, path, `must be a string holding a Kubernetes quantity such as "2Gi" (quote numbers in YAML)`);
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

interface Rate { text: string; value: number; defaulted: boolean }

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
  if (!lower.defaulted) f.invalid(`${path}.spillLowerRate`, lower.text, `must be lower than ${path}.spillUpperRate (${note(upper)})`);
  else f.invalid(`${path}.spillUpperRate`, upper.text, `must be greater than ${path}.spillLowerRate (${note(lower)})`);
}

function checkEnv(f: FieldErrors, env: readonly unknown[], path: string): void {
  env.forEach((e, i) => {
    const p = `${path}.env[${i}]`;
    if (!isObject(e)) f.invalid(p, e, 'must be an environment variable, e.g. {"name": "GLOG_v", "value": "1"}');
    else f.requiredString(e, 'name', p, 'must be a non-empty string naming the variable');
  });
}

function checkVineyard(f: FieldErrors, v: JsonRecord, path: string): void {
  checkImage(f, v, path, 'vineyard.image');
  f.boolean(v, 'syncCRDs', path);
  checkAbsolutePath(f, v, 'socket', path);
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
      f.invalid(`${p}.name`, name, `is reserved for a volume the webhook adds to the pod (${quoteList(RESERVED_VOLUMES)}): rename this volume and the volumeMounts that use it`);
    } else if (names.includes(name)) {
      f.add(`${p}.name`, 'Duplicate value', name, 'each volume needs its own name');
    }
    names.push(name);
  });
  return names;
}

/**
 * The directories the injector itself mounts in the vineyard-sidecar container
 * (the socket directory, and the log directory with metrics): a volume mount
 * there, or two at one path, would make every injected pod invalid.
 */
function takenMountPaths(spec: JsonRecord): Map<string, string> {
  const volume = isObject(spec.volume) ? spec.volume : {};
  const metric = isObject(spec.metric) ? spec.metric : {};
  const socketDir = typeof volume.mountPath === 'string' && volume.mountPath ? volume.mountPath : DEFAULT_SOCKET_DIR;
  const taken = new Map([[normalMountPath(socketDir), `the Vineyard socket directory (spec.volume.mountPath, default ${DEFAULT_SOCKET_DIR}) is mounted there`]]);
  if (metric.enable === true) taken.set(LOG_DIR, 'the metrics log volume is mounted there (spec.metric.enable)');
  return taken;
}

function checkVolumeMounts(f: FieldErrors, mounts: readonly unknown[], volumes: readonly string[], taken: Map<string, string>): void {
  const seen = new Map(taken);
  mounts.forEach((m, i) => {
    const p = `spec.volumeMounts[${i}]`;
    if (!isObject(m)) {
      f.invalid(p, m, 'must be a volume mount, e.g. {"name": "dev-volumes", "mountPath": "/dev"}');
      return;
    }
    const name = f.requiredString(m, 'name', p, 'must name a volume in spec.volumes');
    if (name !== undefined && !volumes.includes(name)) {
      f.add(`${p}.name`, 'Not found', name, volumes.length
        ? `must name a volume in spec.volumes (${quoteList(volumes)})`
        : 'must name a volume in spec.volumes, which has none: add the volume there');
    }
    const mountPath = f.requiredString(m, 'mountPath', p, 'must be the path in the vineyard-sidecar container where the volume is mounted');
    if (mountPath === undefined) return;
    const why = seen.get(normalMountPath(mountPath));
    if (why) f.add(`${p}.mountPath`, 'Duplicate value', mountPath, `${why}: mount the volume at another path`);
    else seen.set(normalMountPath(mountPath), `spec.volumeMounts mounts another volume there`);
  });
}

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  const path = 'spec';
  f.integer(spec, 'replicas', path, 0);
  const selector = f.string(spec, 'selector', path);
  if (selector !== undefined) for (const e of equalitySelectorErrors(selector)) f.invalid('spec.selector', selector, e);
  f.integer(spec, 'etcdReplicas', path, 1);

  const vineyard = f.record(spec, 'vineyard', path);
  if (vineyard) checkVineyard(f, vineyard, 'spec.vineyard');

  const metric = f.record(spec, 'metric', path);
  if (metric) {
    f.boolean(metric, 'enable', 'spec.metric');
    checkImage(f, metric, 'spec.metric', 'metric.image');
  }

  const volume = f.record(spec, 'volume', path);
  if (volume) {
    const pvc = f.string(volume, 'pvcName', 'spec.volume');
    if (pvc) for (const e of subdomainErrors(pvc)) f.invalid('spec.volume.pvcName', pvc, `must name a PersistentVolumeClaim in the Sidecar's namespace: ${e}`);
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
  if (mounts) checkVolumeMounts(f, mounts, names, takenMountPaths(spec));
}

/** Every problem of a Sidecar CR, formatted like the API server's field errors. */
export function sidecarProblems(obj: unknown): string[] {
  const f = new FieldErrors();
  const spec = isObject(obj) ? obj.spec : undefined;
  if (isObject(spec)) checkSpec(f, spec);
  else if (spec !== undefined && spec !== null) f.invalid('spec', spec, 'must be an object');
  return f.errors.map(formatFieldError);
}

const selectorOf = (obj: unknown): unknown => {
  const s = isObject(obj) && isObject(obj.spec) ? obj.spec.selector : undefined;
  return s ?? defaultOf('selector');
};

/** Pods injected with a Sidecar are counted through its selector: changing it would orphan them. */
function selectorChange(oldObj: unknown, obj: unknown): string | undefined {
  const before = selectorOf(oldObj);
  const after = selectorOf(obj);
  if (typeof after !== 'string' || JSON.stringify(before) === JSON.stringify(after)) return undefined;
  return formatFieldError({
    path: 'spec.selector', type: 'Invalid value', value: after,
    detail: `field is immutable: changing it would orphan the pods already injected with this Sidecar; create a new Sidecar instead`,
  });
}

export function validateSidecarSpec(req: AdmissionRequest, obj: Readonly<Sidecar>): Verdict {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
  const problems = sidecarProblems(obj);
  const warnings: string[] = [];
  let blocking = problems;
  if (req.operation === 'UPDATE' && isObject(req.oldObject)) {
    // Like the API server's validation ratcheting: a problem the stored object
    // already has (same field, same value) does not block an update, so a
    // Sidecar created before this webhook can still be scaled and fixed.
    const stored = new Set(sidecarProblems(req.oldObject));
    blocking = problems.filter(p => !stored.has(p));
    for (const p of problems.filter(p => stored.has(p))) {
      warnings.push(`${KIND} ${JSON.stringify(objectName(req, obj))}: ${p} (the stored Sidecar already has this problem, so the update is allowed; please fix it)`);
    }
    const changed = selectorChange(req.oldObject, obj);
    if (changed) blocking = [changed, ...blocking];
  }
  if (!blocking.length) return allow(warnings);
  return deny(invalidMessage(KIND, objectName(req, obj), blocking), INVALID_CODE, warnings);
}

export const validateSidecarCR: NamedMutator<Sidecar, unknown> = { name: 'validate-sidecar-cr', mutate: validateSidecarSpec };
