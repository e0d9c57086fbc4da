// Connects the app containers that mount a Vineyard-backed Fluid dataset to
// that dataset's Vineyard. The mount holds vineyard-config.yaml,
// which the Python client only finds at /var/run or through VINEYARD_CONFIG;
// without it the client silently starts a private vineyardd. The C++ client
// reads only the environment, hence the rpc-conf ConfigMap as envFrom. Values
// a user set are kept: "unless set" everywhere, never a replacement.
import { preferNodeExpression, requireNodeExpression } from '../pod/node-affinity.js';
import type { V1Container, V1EnvFromSource, V1NodeSelectorRequirement, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import {
  FLUID_LOCAL_SOCKET_FILE,
  FLUID_RPC_CONF_SUFFIX,
  FLUID_SERVERFUL_INJECT_LABEL,
  FLUID_STATUS_ANNOTATION,
  SOCKET_ENV,
  SOCKET_FILE,
  SOCKET_VOLUME,
  VINEYARD_CONFIG_ENV,
  VINEYARD_RPC_ENDPOINT_ENV,
  fluidDatasetSchedLabel,
} from '../../vineyard/names.js';
import { containersOf, envIndex, envOf, isTrue, listOf, mountsOf, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import type { DatasetMount, FluidContext } from './dataset-mounts.js';

/** Fluid's own weight for its cache-locality preference. */
const LOCALITY_WEIGHT = 100;

const trimSlash = (p: string): string => p.replace(/\/+$/, '') || '/';
const join = (dir: string, file: string): string => (dir === '/' ? `/${file}` : `${dir}/${file}`);

/**
 * The socket this server's own wiring gave the container (sidecar injection or
 * scheduling): the socket volume it mounts, and the env pointing into it.
 */
function ownSocketWiring(c: Readonly<V1Container>): string | undefined {
  const value = envOf(c).find(e => e.name === SOCKET_ENV)?.value;
  if (typeof value !== 'string') return undefined;
  const ours = mountsOf(c).some(
    m =>
      m.name === SOCKET_VOLUME &&
      typeof m.mountPath === 'string' &&
      value === join(trimSlash(m.mountPath), SOCKET_FILE),
  );
  return ours ? value : undefined;
}

function hasConfigMapEnv(c: Readonly<V1Container>, name: string): boolean {
  return listOf<V1EnvFromSource>(c.envFrom).some(e => e.configMapRef?.name === name);
}

/** Wires one container to the dataset it mounts at `path`. */
function wireContainer(
  p: PatchBuilder,
  who: string,
  podNs: string,
  index: number,
  c: Readonly<V1Container>,
  ds: DatasetMount,
  path: string,
  warnings: string[],
): void {
  const at = ['spec', 'containers', index] as const;
  if (envIndex(c, VINEYARD_CONFIG_ENV) < 0) p.append([...at, 'env'], { name: VINEYARD_CONFIG_ENV, value: path });

  const configMap = `${ds.runtime}${FLUID_RPC_CONF_SUFFIX}`;
  if (envIndex(c, VINEYARD_RPC_ENDPOINT_ENV) < 0 && !hasConfigMapEnv(c, configMap)) {
    if (ds.runtimeNamespace === podNs) p.append([...at, 'envFrom'], { configMapRef: { name: configMap } });
    else
      warnings.push(
        `${who}: container ${c.name}: ConfigMap ${configMap} of VineyardRuntime ${ds.runtimeNamespace}/${ds.runtime} is in another namespace than the pod, so ${VINEYARD_RPC_ENDPOINT_ENV} is not added; the client reads the RPC endpoint from ${path}`,
      );
  }

  const own = ownSocketWiring(c);
  if (own !== undefined) {
    warnings.push(
      `${who}: container ${c.name}: ${SOCKET_ENV}=${own} from this webhook's own socket wiring (volume ${SOCKET_VOLUME}) was kept, and it takes precedence over ${join(path, 'vineyard-config.yaml')}: the client connects to that vineyardd, not to dataset ${ds.dataset}'s; remove one of the two wirings from the pod`,
    );
  } else if (ds.localSocket && envIndex(c, SOCKET_ENV) < 0) {
    p.append([...at, 'env'], { name: SOCKET_ENV, value: join(path, FLUID_LOCAL_SOCKET_FILE) });
  }
}

/** Adds `expr` to the pod's node affinity: preferred (weight 100), or required in every term (terms are ORed). */
function addLocality(p: PatchBuilder, expr: V1NodeSelectorRequirement, required: boolean): void {
  if (required) requireNodeExpression(p, expr);
  else preferNodeExpression(p, expr, LOCALITY_WEIGHT);
}

export function wireDataset(req: AdmissionRequest, pod: Readonly<V1Pod>, ctx: FluidContext, p: PatchBuilder): Verdict {
  const who = podDisplayName(req, pod);
  const podNs = podNamespace(req, pod);
  const labels = podLabels(pod);
  const warnings: string[] = [];
  const byVolume = new Map(ctx.datasets.map(d => [d.volume, d]));
  const before = p.ops.length;
  const wired = new Set<DatasetMount>();

  // Init containers run before any vineyard client would, and Fluid's fuse
  // wiring does not reach them either: app containers only.
  for (const { index, container } of containersOf(pod)) {
    let first: DatasetMount | undefined;
    for (const m of mountsOf(container)) {
      const ds = typeof m.name === 'string' ? byVolume.get(m.name) : undefined;
      if (!ds || typeof m.mountPath !== 'string') continue;
      if (m.subPath || m.subPathExpr) {
        warnings.push(
          `${who}: container ${container.name} mounts dataset ${ds.dataset} (volume ${ds.volume}) with a subPath, so the mount does not hold the dataset's vineyard-config.yaml; that mount was not wired: mount the whole volume`,
        );
        continue;
      }
      if (first) {
        warnings.push(
          `${who}: container ${container.name} mounts two Vineyard datasets (${first.dataset} and ${ds.dataset}); a client connects to one Vineyard, so it was wired to ${first.dataset} only`,
        );
        continue;
      }
      first = ds;
      wired.add(ds);
      wireContainer(p, who, podNs, index, container, ds, trimSlash(m.mountPath), warnings);
    }
  }

  // Fluid's own webhook adds its cache-locality affinity to pods labelled for it.
  if (!isTrue(labels[FLUID_SERVERFUL_INJECT_LABEL])) {
    for (const ds of wired) {
      if (!ds.nodeLabel) {
        warnings.push(
          `${who}: PersistentVolumeClaim ${ds.claim} has no label starting with fluid.io/s-, so no node affinity to dataset ${ds.dataset}'s nodes was added`,
        );
        continue;
      }
      addLocality(
        p,
        { key: ds.nodeLabel, operator: 'In', values: ['true'] },
        labels[fluidDatasetSchedLabel(ds.dataset)] === 'required',
      );
    }
  }

  if (p.ops.length > before) {
    p.set(
      ['metadata', 'annotations', FLUID_STATUS_ANNOTATION],
      JSON.stringify({ datasets: [...wired].map(d => d.dataset) }),
    );
  }
  return allow(warnings);
}

export const wireDatasetMutator: NamedMutator<V1Pod, FluidContext> = { name: 'wire-dataset', mutate: wireDataset };
