// What the Fluid endpoint's resolve step learns about a pod's claims and its
// mutator acts on: which pod volumes are Fluid datasets backed by a Vineyard
// runtime, and what the runtime's mount offers.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { FLUID_DATASET_LABEL_PREFIX, FLUID_MANAGED_BY_LABEL } from '../../vineyard/names.js';
import type { VineyardRuntime } from '../../vineyard/fluid.js';
import { stringMap } from '../pod/pod-helpers.js';

export interface DatasetMount {
  /** The pod volume that holds the claim. */
  volume: string;
  claim: string;
  dataset: string;
  runtime: string;
  runtimeNamespace: string;
  /**
   * The PVC's own `fluid.io/s-...` label key: Fluid puts the same key on the
   * nodes that cache the dataset, and may shorten it with a hash, so it is
   * copied rather than computed.
   */
  nodeLabel: string | undefined;
  /**
   * The runtime's fuse runs a local vineyardd, so `vineyard-local.sock`
   * exists in the mount. Otherwise the config names a socket that exists only
   * on worker nodes, and an IPC path in the environment would stop the
   * client from falling back to RPC.
   */
  localSocket: boolean;
}

export interface FluidContext {
  datasets: DatasetMount[];
}

/** The dataset a claim belongs to, or undefined when Fluid did not make it. */
export function datasetOfClaim(
  pvc: Readonly<V1PersistentVolumeClaim>,
  claim: string,
): { dataset: string; nodeLabel: string | undefined } | undefined {
  const labels = stringMap(pvc.metadata?.labels);
  const nodeLabel = Object.keys(labels)
    .filter(k => k.startsWith(FLUID_DATASET_LABEL_PREFIX))
    .sort()[0];
  const managedBy = labels[FLUID_MANAGED_BY_LABEL]?.trim();
  if (!nodeLabel && managedBy === undefined) return undefined;
  return { dataset: managedBy || claim, nodeLabel };
}

/** The fuse `size` option is set and not "0". */
export function hasLocalSocket(runtime: Readonly<VineyardRuntime> | null): boolean {
  const size = runtime?.spec?.fuse?.options?.size;
  return typeof size === 'string' && size.trim() !== '' && size.trim() !== '0';
}
