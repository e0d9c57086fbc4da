// Socket hostPath wiring: what `vineyardctl schedule workload` does
// by hand. The pod gets the vineyardd cluster's socket directory at /var/run
// and a required affinity to that cluster's pods, because a Unix socket only
// works on the node where vineyardd runs. A pod that already has the socket
// volume was wired (by hand or by an earlier call) and is left alone.
import { canonical } from '../pod/node-affinity.js';
import type { V1Pod, V1PodAffinityTerm, V1Volume } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import {
  DEFAULT_SOCKET_DIR,
  HOSTNAME_TOPOLOGY_KEY,
  SOCKET_ENV,
  SOCKET_FILE,
  SOCKET_VOLUME,
  VINEYARDD_INSTANCE_LABEL,
} from '../../vineyard/names.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { containersOf, listOf, mountsOf, volumesOf } from '../pod/pod-helpers.js';
import { setEnvValue } from '../pod/set-env.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import {
  vineyarddInstance,
  type SchedulingContext,
  type SocketSource,
  type VineyarddRef,
} from './vineyardd-cluster.js';

// Where `vineyardctl schedule workload` and the docs mount the socket directory.
const SOCKET_MOUNT_PATH = DEFAULT_SOCKET_DIR;
const SOCKET_PATH = `${SOCKET_MOUNT_PATH}/${SOCKET_FILE}`;
const AFFINITY_TERMS = ['spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'] as const;

const normalPath = (p: unknown): string => (typeof p === 'string' ? p.replace(/\/+$/, '') || '/' : '');

function servesSocket(v: Readonly<V1Volume>, socket: SocketSource): boolean {
  return socket.kind === 'hostPath'
    ? v.hostPath !== undefined && v.hostPath !== null && normalPath(v.hostPath.path) === normalPath(socket.path)
    : v.persistentVolumeClaim?.claimName === socket.claimName;
}

function socketVolume(socket: SocketSource): V1Volume {
  return socket.kind === 'hostPath'
    ? { name: SOCKET_VOLUME, hostPath: { path: socket.path } }
    : { name: SOCKET_VOLUME, persistentVolumeClaim: { claimName: socket.claimName } };
}

const describe = (socket: SocketSource): string =>
  socket.kind === 'hostPath' ? `hostPath ${socket.path}` : `PersistentVolumeClaim ${socket.claimName}`;

function affinityTerm(ref: VineyarddRef): V1PodAffinityTerm {
  return {
    labelSelector: {
      matchExpressions: [{ key: VINEYARDD_INSTANCE_LABEL, operator: 'In', values: [vineyarddInstance(ref)] }],
    },
    namespaces: [ref.namespace],
    topologyKey: HOSTNAME_TOPOLOGY_KEY,
  };
}

function hasTerm(pod: Readonly<V1Pod>, term: V1PodAffinityTerm): boolean {
  const want = canonical(term);
  const existing = listOf<V1PodAffinityTerm>(
    pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
  );
  return existing.some(t => canonical(t) === want);
}

export function wireSocketHostPath(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  ctx: SchedulingContext,
  p: PatchBuilder,
): Verdict {
  const { vineyardd: ref, socket } = ctx;
  if (!ref || !socket) return allow();
  const volumes = volumesOf(pod);
  if (volumes.some(v => servesSocket(v, socket))) return allow();

  const who = podDisplayName(req, pod);
  const cluster = `Vineyardd ${ref.namespace}/${ref.name}`;
  // The API server rejects two volumes of one name: never add a second one.
  const clash = volumes.find(v => v.name === SOCKET_VOLUME);
  if (clash) {
    return allow([
      `${who}: the socket of ${cluster} (${describe(socket)}) was not wired because the pod already has a volume named ${SOCKET_VOLUME} with another source; rename that volume, or mount ${describe(socket)} at ${SOCKET_MOUNT_PATH} yourself`,
    ]);
  }

  const warnings: string[] = [];
  // Two mounts at one path are rejected too: a container that already uses
  // /var/run for something else keeps it and goes without the socket.
  const targets = containersOf(pod).filter(({ container }) => {
    const taken = mountsOf(container).find(m => normalPath(m.mountPath) === SOCKET_MOUNT_PATH);
    if (taken)
      warnings.push(
        `${who}: container ${container.name} already mounts volume ${taken.name} at ${SOCKET_MOUNT_PATH}, so the socket of ${cluster} (${describe(socket)}) was not mounted into it; if that volume is an old hand-made socket volume, point it at ${describe(socket)}`,
      );
    return !taken;
  });
  if (!targets.length) return allow(warnings);

  p.append(['spec', 'volumes'], socketVolume(socket));
  for (const { index, container } of targets) {
    p.append(['spec', 'containers', index, 'volumeMounts'], { name: SOCKET_VOLUME, mountPath: SOCKET_MOUNT_PATH });
    const old = setEnvValue(p, index, container, SOCKET_ENV, SOCKET_PATH);
    if (old)
      warnings.push(
        `${who}: env ${SOCKET_ENV} of container ${container.name} was ${old.valueFrom ? 'set from a reference' : JSON.stringify(old.value ?? '')}; replaced by ${SOCKET_PATH}, where the socket of ${cluster} is mounted`,
      );
  }
  const namespace = podNamespace(req, pod);
  if (socket.kind === 'pvc' && namespace !== ref.namespace) {
    // A pod can only mount claims of its own namespace.
    warnings.push(
      `${who}: ${cluster} keeps its socket on PersistentVolumeClaim ${socket.claimName}, which this pod looks up in its own namespace ${namespace}; make sure a claim of that name in ${namespace} is bound to the same volume, or the pod stays Pending`,
    );
  }
  const term = affinityTerm(ref);
  if (!hasTerm(pod, term)) p.append([...AFFINITY_TERMS], term);
  return allow(warnings);
}

export const wireSocketHostPathMutator: NamedMutator<V1Pod, SchedulingContext> = {
  name: 'wire-socket-host-path',
  mutate: wireSocketHostPath,
};
