// Sidecar injection: adds vineyardd (and its metrics exporter) to a
// pod, wires every app container to its socket, and records the injection so
// a second call (reinvocation) changes nothing.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import type { Sidecar, SidecarMode } from '../../vineyard/sidecar.js';
import { sidecarSpecWithDefaults } from '../../vineyard/sidecar-defaults.js';
import {
  METRICS_CONTAINER,
  NAME_LABEL,
  ROLE_LABEL,
  ROLE_LABEL_VALUE,
  RPC_LABEL,
  RPC_LABEL_VALUE,
  SIDECAR_CONTAINER,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_NATIVE_ANNOTATION,
  SIDECAR_STATUS_ANNOTATION,
  SOCKET_ENV,
  SOCKET_VOLUME,
} from '../../vineyard/names.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { podDisplayName } from '../pod/pod-name.js';
import { containersOf, isTrue, mountsOf, podAnnotations, podLabels, volumesOf } from '../pod/pod-helpers.js';
import { setEnvValue } from '../pod/set-env.js';
import { socketWaitRewrite } from '../../vineyard/socket-wait-command.js';
import { allow, deny, type Verdict } from '../../admission/mutator.js';
import type { PodSkip } from '../pod/skip-reasons.js';
import { isLabelValue } from '../../vineyard/label-rules.js';
import {
  metricsContainer,
  normalMountPath,
  sidecarLayout,
  sidecarVolumes,
  vineyarddContainer,
  type SidecarLayout,
} from '../../vineyard/vineyardd-container.js';

export interface SidecarContext {
  /** The Sidecar CR as read (or, for a dry run of a first pod, as it would be created). */
  sidecar: Sidecar;
  /** Server default, overridden per pod by the sidecar.v6d.io/native annotation. */
  mode: SidecarMode;
  /** Where vineyardd keeps its metadata, as the resolver decided (pod, Sidecar, server default). */
  meta?: 'etcd' | 'local';
}

/** Why a pod gets no injection, or undefined when it should get one. The resolver asks, and neither writes nor runs the mutator for a skipped pod. */
export function injectionSkip(pod: Readonly<V1Pod>): PodSkip | undefined {
  const labels = podLabels(pod);
  if (!isTrue(labels[SIDECAR_ENABLED_LABEL]))
    return { reason: 'not-enabled', message: `label ${SIDECAR_ENABLED_LABEL} is not "true"` };
  if (podAnnotations(pod)[SIDECAR_STATUS_ANNOTATION] !== undefined)
    return { reason: 'already-injected', message: `already injected (annotation ${SIDECAR_STATUS_ANNOTATION})` };
  const named = ({ container }: { container: V1Container }) => container.name === SIDECAR_CONTAINER;
  if (containersOf(pod).some(named) || containersOf(pod, 'initContainers').some(named))
    return { reason: 'already-injected', message: `already has a container named ${SIDECAR_CONTAINER}` };
  return undefined;
}

function nativeMode(pod: Readonly<V1Pod>, serverMode: SidecarContext['mode']): boolean {
  const a = podAnnotations(pod)[SIDECAR_NATIVE_ANNOTATION];
  if (a !== undefined && a.trim() !== '') return isTrue(a);
  return serverMode === 'native';
}

/** A startup probe so that, as a native sidecar, vineyardd counts as started only once its socket exists. */
function socketStartupProbe(layout: SidecarLayout) {
  return {
    exec: { command: ['/bin/bash', '-c', `test -e '${layout.socket.replace(/'/g, `'\\''`)}'`] },
    periodSeconds: 1,
    failureThreshold: 600,
  };
}

function conflicts(
  pod: Readonly<V1Pod>,
  added: { volumes: string[]; containers: string[] },
  layout: SidecarLayout,
  podRef: string,
): string[] {
  const problems: string[] = [];
  const volumeNames = new Set(volumesOf(pod).map(v => v.name));
  for (const v of added.volumes) {
    if (volumeNames.has(v))
      problems.push(
        `spec.volumes already has a volume named ${v}, which the Vineyard sidecar adds: rename the pod's volume`,
      );
  }
  const containerNames = new Set(
    [...containersOf(pod), ...containersOf(pod, 'initContainers')].map(c => c.container.name),
  );
  for (const c of added.containers) {
    if (containerNames.has(c))
      problems.push(
        `the pod already has a container named ${c}, which the Vineyard sidecar adds: rename the container`,
      );
  }
  for (const { container } of containersOf(pod)) {
    const clash = mountsOf(container).find(
      m =>
        typeof m.mountPath === 'string' &&
        normalMountPath(m.mountPath) === layout.mountPath &&
        m.name !== SOCKET_VOLUME,
    );
    if (clash)
      problems.push(
        `container ${container.name} mounts volume ${clash.name} at ${layout.mountPath}, where the Vineyard socket directory goes: set spec.volume.mountPath of the Sidecar CR to another directory or move the mount`,
      );
  }
  return problems.map(p => `${podRef}: ${p}`);
}

/**
 * Directories the vineyardd container would mount twice: a Sidecar whose
 * spec.volumeMounts use the socket or log directory (or one path twice)
 * would make every pod it is injected into one the API server rejects.
 */
function ownMountClashes(vineyardd: Readonly<V1Container>, sidecar: Readonly<Sidecar>): string[] {
  const ref = `Sidecar ${sidecar.metadata.namespace ?? ''}/${sidecar.metadata.name ?? ''}`;
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const m of vineyardd.volumeMounts ?? []) {
    if (typeof m !== 'object' || m === null || typeof m.mountPath !== 'string') continue;
    const path = normalMountPath(m.mountPath);
    const first = seen.get(path);
    // The Sidecar's own mounts are as stored, not checked by the pod's shape.
    const name = typeof m.name === 'string' ? m.name : JSON.stringify(m.name);
    if (first === undefined) seen.set(path, name);
    else
      problems.push(
        `${ref} mounts volume ${name} at ${path} in the ${SIDECAR_CONTAINER} container, where volume ${first} is mounted already: change spec.volumeMounts (or spec.volume.mountPath) of the Sidecar so that every path is mounted once`,
      );
  }
  return problems;
}

/** Runs only on pods injectionSkip lets through: the resolver answers for the others. */
export function injectSidecar(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  ctx: SidecarContext,
  b: PatchBuilder,
): Verdict {
  const podRef = podDisplayName(req, pod);
  if (!Array.isArray(pod.spec?.containers)) return deny(`${podRef}: spec.containers must be a list of containers`, 400);

  const { sidecar } = ctx;
  const spec = sidecarSpecWithDefaults(sidecar);
  const layout = sidecarLayout(spec);
  const native = nativeMode(pod, ctx.mode);
  const metrics = spec.metric?.enable === true;
  const volumes = sidecarVolumes(spec);
  const meta = ctx.meta ?? 'etcd';
  const vineyardd = vineyarddContainer(sidecar, spec, layout, meta);
  const exporter = metrics ? metricsContainer(spec) : undefined;
  const problems = [
    ...conflicts(
      pod,
      {
        volumes: volumes.map(v => v.name),
        containers: metrics ? [SIDECAR_CONTAINER, METRICS_CONTAINER] : [SIDECAR_CONTAINER],
      },
      layout,
      podRef,
    ),
    ...ownMountClashes(vineyardd, sidecar).map(p => `${podRef}: ${p}`),
  ];
  if (problems.length) return deny(problems.join('; '), 400);

  const warnings: string[] = [];

  // App containers first: their indices are those of the original pod.
  for (const { index, container } of containersOf(pod)) {
    const at = ['spec', 'containers', index];
    if (!mountsOf(container).some(m => m.name === SOCKET_VOLUME))
      b.append([...at, 'volumeMounts'], { name: SOCKET_VOLUME, mountPath: layout.mountPath });
    setEnvValue(b, index, container, SOCKET_ENV, layout.socket);
    if (native) continue; // the kubelet starts app containers only after vineyardd's startup probe passes
    const rw = socketWaitRewrite(container as V1Container, layout.socket);
    if (rw.kind === 'command') b.set([...at, 'command'], rw.command);
    else if (rw.kind === 'args') b.set([...at, 'args'], rw.args);
    else if (rw.warning) warnings.push(rw.warning);
  }

  if (native) {
    // Restartable init containers (Kubernetes >= 1.29), first so that they
    // are up before any other init container and every app container.
    const sidecars = [
      { ...vineyardd, restartPolicy: 'Always', startupProbe: socketStartupProbe(layout) },
      ...(exporter ? [{ ...exporter, restartPolicy: 'Always' }] : []),
    ];
    for (let i = sidecars.length - 1; i >= 0; i--) b.prepend(['spec', 'initContainers'], sidecars[i]);
  } else {
    b.append(['spec', 'containers'], vineyardd);
    if (exporter) b.append(['spec', 'containers'], exporter);
  }
  for (const v of volumes) b.append(['spec', 'volumes'], v);

  const name = sidecar.metadata.name ?? '';
  const labels = podLabels(pod);
  const wanted: Array<[string, string]> = [
    [RPC_LABEL, RPC_LABEL_VALUE],
    [ROLE_LABEL, ROLE_LABEL_VALUE],
  ];
  // A CR name can be a 253-character subdomain; a label value cannot.
  if (name !== '' && isLabelValue(name)) wanted.push([NAME_LABEL, name]);
  else
    warnings.push(
      `${podRef}: Sidecar name ${name} is not a valid label value (at most 63 characters): label ${NAME_LABEL} was not set, so the Sidecar's rpc Service will not select this pod; use a shorter Sidecar name`,
    );
  for (const [k, v] of wanted) if (labels[k] !== v) b.set(['metadata', 'labels', k], v);
  b.set(
    ['metadata', 'annotations', SIDECAR_STATUS_ANNOTATION],
    JSON.stringify({ sidecar: name, mode: native ? 'native' : 'container', ...(meta === 'local' ? { meta } : {}) }),
  );
  return allow(warnings);
}
