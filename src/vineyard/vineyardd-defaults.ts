// The one owner of a Vineyardd spec's defaults: the fields it shares with a
// Sidecar take the Sidecar's defaults, the rest are the operator's CRD's.
// The result is what the API server itself stores when the operator's CRD is
// installed (its structural defaults), so a cluster gets the same Vineyardd
// whether this webhook or the CRD filled a field.
import type { SpecDefault } from './sidecar-defaults.js';
import { fixedDefault, SHARED_SPEC_DEFAULTS, SOCKET_TEMPLATE } from './sidecar-defaults.js';

const key = (d: SpecDefault) => d.path.join('.');

/**
 * The socket stays a template: the operator renders it when it builds the
 * vineyardd Deployment, the scheduling endpoint when it wires pods, and the
 * CRD's own default is the template (rendering it here would make a
 * Vineyardd's stored spec depend on which of the two filled it).
 */
const vineyarddShared = SHARED_SPEC_DEFAULTS.map((d): SpecDefault => {
  if (key(d) === 'vineyard.socket') return fixedDefault('vineyard.socket', SOCKET_TEMPLATE);
  if (key(d).startsWith('vineyard.spill.')) return { ...d, onlyInExistingParent: true };
  return d;
});

export const VINEYARDD_DEFAULT_REPLICAS = 3;

/** In the order the defaulting webhook adds them. */
export const VINEYARDD_DEFAULTS: readonly SpecDefault[] = [
  fixedDefault('replicas', VINEYARDD_DEFAULT_REPLICAS),
  ...vineyarddShared,
  // The operator's CRD also empties these in a spill the user wrote; the Sidecar's does not.
  { ...fixedDefault('vineyard.spill.name', ''), onlyInExistingParent: true },
  { ...fixedDefault('vineyard.spill.path', ''), onlyInExistingParent: true },
  fixedDefault('pluginImage.backupImage', 'ghcr.io/v6d-io/v6d/backup-job'),
  fixedDefault('pluginImage.recoverImage', 'ghcr.io/v6d-io/v6d/recover-job'),
  fixedDefault('pluginImage.daskRepartitionImage', 'ghcr.io/v6d-io/v6d/dask-repartition'),
  fixedDefault('pluginImage.localAssemblyImage', 'ghcr.io/v6d-io/v6d/local-assembly'),
  fixedDefault('pluginImage.distributedAssemblyImage', 'ghcr.io/v6d-io/v6d/distributed-assembly'),
];
