// Resolve step of /mutate-v1-pod-fluid: which of a labelled pod's claims are
// Fluid datasets bound to a Vineyard runtime. Reads only (PVCs, Datasets,
// VineyardRuntimes), so a dry run is safe. Anything that rules a claim out is
// a warning naming the claim and the reason, never a denial: the pod runs as
// it would without this webhook. An API failure other than "Fluid is not
// installed" is a denial (failurePolicy Fail), because admitting the pod
// unwired would let its client start a private vineyardd without a word.
import type { V1Pod } from '@kubernetes/client-node';
import { isApiError } from '../../cluster/store.js';
import type { ResolveInput, Resolved, Skip } from '../../admission/endpoint.js';
import { allow } from '../../admission/mutator.js';
import type { Dataset } from '../../vineyard/fluid.js';
import {
  DATASET_PLURAL,
  FLUID_DATASET_LABEL_PREFIX,
  FLUID_GROUP,
  FLUID_INJECT_LABEL,
  FLUID_MANAGED_BY_LABEL,
  FLUID_STATUS_ANNOTATION,
  FLUID_VINEYARD_RUNTIME_TYPE,
  VINEYARD_RUNTIME_PLURAL,
} from '../../vineyard/names.js';
import { containersOf, isTrue, listOf, mountsOf, podAnnotations, podLabels, volumesOf } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import { datasetOfClaim, hasLocalSocket, type DatasetMount, type FluidContext } from './dataset-mounts.js';

class FluidNotInstalled extends Error {}

const NO_DATASET: Skip = {
  reason: 'nothing-to-change',
  message: 'no claim the pod mounts is a Fluid dataset served by Vineyard',
};

const notServed = (e: unknown): boolean => isApiError(e) && e.notFound;

/** Fluid's Dataset, or null; FluidNotInstalled when the API server does not serve Datasets. */
async function readDataset(input: ResolveInput, namespace: string, name: string): Promise<Dataset | null> {
  try {
    input.progress.step = `get ${DATASET_PLURAL} ${namespace}/${name}`;
    return await input.store.getDataset(namespace, name, input.call);
  } catch (e) {
    if (notServed(e)) throw new FluidNotInstalled();
    throw e;
  }
}

export async function resolveFluid(input: ResolveInput): Promise<Resolved<FluidContext>> {
  const { req, store, progress, call } = input;
  const pod = input.obj as V1Pod;
  // Unlabelled (a wider webhook configuration than deploy/'s) or already wired
  // (a reinvocation): no API request at all.
  if (!isTrue(podLabels(pod)[FLUID_INJECT_LABEL])) {
    return { done: allow(), skip: { reason: 'not-enabled', message: `label ${FLUID_INJECT_LABEL} is not "true"` } };
  }
  if (podAnnotations(pod)[FLUID_STATUS_ANNOTATION] !== undefined) {
    return {
      done: allow(),
      skip: { reason: 'already-injected', message: `already wired (annotation ${FLUID_STATUS_ANNOTATION})` },
    };
  }

  const who = podDisplayName(req, pod);
  const namespace = podNamespace(req, pod);
  const mounted = new Set(containersOf(pod).flatMap(({ container }) => mountsOf(container).map(m => m.name)));
  const claims = volumesOf(pod).flatMap(v => {
    const claim = v.persistentVolumeClaim?.claimName;
    return typeof v.name === 'string' && typeof claim === 'string' && claim !== '' && mounted.has(v.name)
      ? [{ volume: v.name, claim }]
      : [];
  });
  if (!claims.length) {
    return {
      done: allow([
        `${who}: label ${FLUID_INJECT_LABEL}=true, but no container mounts a PersistentVolumeClaim, so there is no Fluid dataset to connect it to`,
      ]),
      skip: NO_DATASET,
    };
  }

  const warnings: string[] = [];
  const datasets: DatasetMount[] = [];
  try {
    for (const { volume, claim } of claims) {
      const what = `volume ${volume} (PersistentVolumeClaim ${claim})`;
      progress.step = `get persistentvolumeclaims ${namespace}/${claim}`;
      const pvc = await store.getPersistentVolumeClaim(namespace, claim, call);
      if (!pvc) {
        warnings.push(
          `${who}: ${what} was skipped: the claim does not exist yet, so it cannot be told to be a Fluid dataset; create the Dataset and its runtime before the pod`,
        );
        continue;
      }
      const found = datasetOfClaim(pvc, claim);
      if (!found) {
        warnings.push(
          `${who}: ${what} was skipped: it is not a Fluid dataset's claim (no label starting with ${FLUID_DATASET_LABEL_PREFIX} and no ${FLUID_MANAGED_BY_LABEL} label)`,
        );
        continue;
      }
      const { dataset: name, nodeLabel } = found;
      const ds = await readDataset(input, namespace, name);
      if (!ds) {
        warnings.push(`${who}: ${what} was skipped: its Dataset ${namespace}/${name} (${FLUID_GROUP}) does not exist`);
        continue;
      }
      const runtimes = listOf<{ name?: unknown; namespace?: unknown; type?: unknown }>(ds.status?.runtimes);
      if (!runtimes.length) {
        const phase =
          typeof ds.status?.phase === 'string' && ds.status.phase ? `phase ${ds.status.phase}` : 'no phase yet';
        warnings.push(
          `${who}: ${what} was skipped: Dataset ${namespace}/${name} is not bound to a runtime yet (${phase}); create the pod once the Dataset is Bound`,
        );
        continue;
      }
      const runtime = runtimes.find(r => r.type === FLUID_VINEYARD_RUNTIME_TYPE);
      if (!runtime) {
        const types = [...new Set(runtimes.map(r => String(r.type ?? '?')))].join(', ');
        warnings.push(
          `${who}: ${what} was skipped: Dataset ${namespace}/${name} is served by runtime type ${types}, not ${FLUID_VINEYARD_RUNTIME_TYPE}`,
        );
        continue;
      }
      const runtimeName = typeof runtime.name === 'string' && runtime.name ? runtime.name : name;
      const runtimeNamespace =
        typeof runtime.namespace === 'string' && runtime.namespace ? runtime.namespace : namespace;
      let vr = null;
      try {
        progress.step = `get ${VINEYARD_RUNTIME_PLURAL} ${runtimeNamespace}/${runtimeName}`;
        vr = await store.getVineyardRuntime(runtimeNamespace, runtimeName, call);
      } catch (e) {
        if (!notServed(e)) throw e;
      }
      if (!vr)
        warnings.push(
          `${who}: VineyardRuntime ${runtimeNamespace}/${runtimeName} of Dataset ${namespace}/${name} could not be read, so whether its fuse runs a local vineyardd is unknown: VINEYARD_IPC_SOCKET is not set and the client connects over RPC`,
        );
      datasets.push({
        volume,
        claim,
        dataset: name,
        runtime: runtimeName,
        runtimeNamespace,
        nodeLabel,
        localSocket: hasLocalSocket(vr),
      });
    }
  } catch (e) {
    if (!(e instanceof FluidNotInstalled)) throw e;
    return {
      done: allow([
        ...warnings,
        `${who}: label ${FLUID_INJECT_LABEL}=true, but Fluid is not installed (the API server does not serve ${DATASET_PLURAL}.${FLUID_GROUP}), so no claim can be a Vineyard dataset; the pod is left unchanged`,
      ]),
      skip: NO_DATASET,
    };
  }
  if (!datasets.length) return { done: allow(warnings), skip: NO_DATASET };
  return { ctx: { datasets }, warnings };
}
