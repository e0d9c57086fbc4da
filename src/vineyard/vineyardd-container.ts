// The containers and volumes a Sidecar CR adds to a pod, built from the CR's spec with its defaults filled in.
import type { V1Container, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Sidecar, SidecarSpec } from './sidecar.js';
import {
  DEFAULT_SOCKET_DIR,
  EXPORTER_PORT,
  EXPORTER_PORT_NAME,
  LOG_DIR,
  LOG_VOLUME,
  METRICS_CONTAINER,
  RPC_PORT,
  RPC_PORT_NAME,
  SIDECAR_CONTAINER,
  SOCKET_FILE,
  SOCKET_VOLUME,
} from './names.js';
import { shellQuote } from './socket-wait-command.js';

export interface SidecarLayout {
  /** Directory holding the socket, mounted in every container. */
  mountPath: string;
  socket: string;
}

/** A mount path without trailing slashes (`/var/run/` is `/var/run`), `/` kept. */
export const normalMountPath = (p: string): string => p.replace(/(.)\/+$/, '$1');

export function sidecarLayout(spec: Readonly<SidecarSpec>): SidecarLayout {
  const dir = (typeof spec.volume?.mountPath === 'string' && spec.volume.mountPath) || DEFAULT_SOCKET_DIR;
  const mountPath = normalMountPath(dir);
  return { mountPath, socket: `${mountPath === '/' ? '' : mountPath}/${SOCKET_FILE}` };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** The vineyardd command line; optional flags only when their field is set. */
function vineyarddCommandLine(
  name: string,
  spec: Readonly<SidecarSpec>,
  layout: SidecarLayout,
  meta: 'etcd' | 'local',
): string {
  const v = spec.vineyard ?? {};
  const parts = [
    '/usr/local/bin/vineyardd',
    '--sync_crds',
    String(v.syncCRDs ?? true),
    '--socket',
    shellQuote(layout.socket),
  ];
  // The operator passed `--size` with an empty value, which swallowed the next flag.
  if (str(v.size)) parts.push('--size', shellQuote(str(v.size)));
  if (v.reserveMemory === true) parts.push('--reserve_memory');
  parts.push('--stream_threshold', shellQuote(str(v.streamThreshold ?? 80)));
  // Local metadata needs no etcd: nothing outside the pod has to exist for vineyardd to start.
  if (meta === 'local') parts.push('--meta', 'local');
  else
    parts.push(
      '--etcd_cmd',
      'etcd',
      '--etcd_prefix',
      '/vineyard',
      '--etcd_endpoint',
      shellQuote(`http://${name}-etcd-service:2379`),
    );
  const spill = v.spill ?? {};
  if (str(spill.path)) {
    parts.push(
      '--spill_path',
      shellQuote(str(spill.path)),
      '--spill_lower_rate',
      shellQuote(str(spill.spillLowerRate)),
      '--spill_upper_rate',
      shellQuote(str(spill.spillUpperRate)),
    );
  }
  if (spec.metric?.enable === true) parts.push('--metrics', '-log_dir', `${LOG_DIR}/`);
  return parts.join(' ');
}

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

export function vineyarddContainer(
  sidecar: Readonly<Sidecar>,
  spec: Readonly<SidecarSpec>,
  layout: SidecarLayout,
  meta: 'etcd' | 'local' = 'etcd',
): V1Container {
  const name = sidecar.metadata.name ?? '';
  const v = spec.vineyard ?? {};
  const mounts: V1VolumeMount[] = [{ name: SOCKET_VOLUME, mountPath: layout.mountPath }];
  if (spec.metric?.enable === true) mounts.push({ name: LOG_VOLUME, mountPath: LOG_DIR });
  mounts.push(...list<V1VolumeMount>(spec.volumeMounts));
  const container: V1Container = {
    name: SIDECAR_CONTAINER,
    image: v.image,
    imagePullPolicy: v.imagePullPolicy,
    command: ['/bin/bash', '-c', vineyarddCommandLine(name, spec, layout, meta)],
    env: [
      { name: 'VINEYARDD_UID', value: sidecar.metadata.uid ?? '' },
      { name: 'VINEYARDD_NAME', value: name },
      { name: 'VINEYARDD_NAMESPACE', value: sidecar.metadata.namespace ?? '' },
      ...list<NonNullable<V1Container['env']>[number]>(v.env),
    ],
    ports: [{ containerPort: RPC_PORT, name: RPC_PORT_NAME, protocol: 'TCP' }],
    volumeMounts: mounts,
  };
  const quantities: Record<string, string> = {};
  if (str(v.cpu)) quantities.cpu = str(v.cpu);
  if (str(v.memory)) quantities.memory = str(v.memory);
  if (Object.keys(quantities).length) container.resources = { requests: { ...quantities }, limits: { ...quantities } };
  // Shared, not copied, like env, volumes and mounts: the patch only reads it.
  if (spec.securityContext && typeof spec.securityContext === 'object')
    container.securityContext = spec.securityContext;
  return container;
}

export function metricsContainer(spec: Readonly<SidecarSpec>): V1Container {
  return {
    name: METRICS_CONTAINER,
    image: spec.metric?.image,
    imagePullPolicy: spec.metric?.imagePullPolicy,
    command: ['./grok_exporter', '-config', 'grok_exporter.yml', '-disable-exporter-metrics'],
    ports: [{ containerPort: EXPORTER_PORT, name: EXPORTER_PORT_NAME, protocol: 'TCP' }],
    volumeMounts: [{ name: LOG_VOLUME, mountPath: LOG_DIR }],
  };
}

export function sidecarVolumes(spec: Readonly<SidecarSpec>): V1Volume[] {
  const pvc = str(spec.volume?.pvcName);
  const volumes: V1Volume[] = [
    pvc ? { name: SOCKET_VOLUME, persistentVolumeClaim: { claimName: pvc } } : { name: SOCKET_VOLUME, emptyDir: {} },
  ];
  if (spec.metric?.enable === true) volumes.push({ name: LOG_VOLUME, emptyDir: {} });
  volumes.push(...list<V1Volume>(spec.volumes));
  return volumes;
}
