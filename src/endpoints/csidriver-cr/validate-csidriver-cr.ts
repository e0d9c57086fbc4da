// CSIDriver CR validation (k8s.v6d.io, cluster-scoped). The operator makes one
// StorageClass per listed Vineyardd cluster, named `<namespace>.<name>.csi`,
// so a cluster entry must name a Vineyardd and give a valid StorageClass
// name; the rest are images and enums of the CSI driver's pods.
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors, quoteList } from '../cr-rules/field-errors.js';
import { crValidator, specProblems } from '../cr-rules/validate-spec.js';
import { checkNamespaceName, checkObjectName } from '../cr-rules/references.js';
import { checkImage, checkPullPolicy } from '../cr-rules/vineyard-spec.js';
import { subdomainErrors } from '../../vineyard/label-rules.js';
import { CSIDRIVER_KIND } from '../../vineyard/operator-kinds.js';
import { isObject } from '../../json.js';
import type { NamedMutator } from '../../admission/mutator.js';

const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
/** The CRD's defaults, which messages offer when an image is empty. */
const DEFAULT_IMAGE = 'vineyardcloudnative/vineyard-operator';
const SIDECAR_IMAGES: ReadonlyArray<readonly [string, string]> = [
  ['attacherImage', 'registry.k8s.io/sig-storage/csi-attacher:v4.0.0'],
  ['livenessProbeImage', 'registry.k8s.io/sig-storage/livenessprobe:v2.8.0'],
  ['nodeRegistrarImage', 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.6.0'],
  ['provisionerImage', 'registry.k8s.io/sig-storage/csi-provisioner:v3.3.0'],
];

/** The StorageClass the operator creates for a Vineyardd cluster. */
export const clusterStorageClass = (namespace: string, name: string): string => `${namespace}.${name}.csi`;

function checkClusters(f: FieldErrors, spec: JsonRecord): void {
  const clusters = f.array(spec, 'clusters', 'spec');
  if (clusters === undefined && (spec.clusters === undefined || spec.clusters === null)) {
    f.add(
      'spec.clusters',
      'Required value',
      undefined,
      'must list the Vineyardd clusters the CSI driver serves, e.g. [{"namespace": "vineyard-system", "name": "vineyardd-sample"}]',
    );
    return;
  }
  if (!clusters) return;
  if (!clusters.length) {
    f.invalid(
      'spec.clusters',
      clusters,
      'must list at least one Vineyardd cluster, e.g. [{"namespace": "vineyard-system", "name": "vineyardd-sample"}]',
    );
    return;
  }
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    const p = `spec.clusters[${i}]`;
    if (!isObject(c)) {
      f.invalid(
        p,
        c,
        'must name a Vineyardd cluster, e.g. {"namespace": "vineyard-system", "name": "vineyardd-sample"}',
      );
      return;
    }
    const ns = checkNamespaceName(f, c, 'namespace', p, 'the Vineyardd');
    const name = checkObjectName(f, c, 'name', p, 'a Vineyardd (e.g. vineyardd-sample)');
    if (ns === undefined || name === undefined) return;
    const sc = clusterStorageClass(ns, name);
    for (const e of subdomainErrors(sc))
      f.invalid(
        p,
        `${ns}/${name}`,
        `the StorageClass ${JSON.stringify(sc)} the operator creates for it ${e}: use a shorter name`,
      );
    if (seen.has(sc)) f.add(p, 'Duplicate value', `${ns}/${name}`, 'each Vineyardd cluster is listed once');
    seen.add(sc);
  });
}

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  checkClusters(f, spec);
  f.boolean(spec, 'enableToleration', 'spec');
  f.boolean(spec, 'enableVerboseLog', 'spec');
  checkImage(f, spec, 'spec', DEFAULT_IMAGE);
  const sidecar = f.record(spec, 'sidecar', 'spec');
  if (sidecar) {
    for (const [key, fallback] of SIDECAR_IMAGES) checkImage(f, sidecar, 'spec.sidecar', fallback, key, false);
    checkPullPolicy(f, sidecar, 'spec.sidecar');
    f.boolean(sidecar, 'enableTopology', 'spec.sidecar');
  }
  const sc = f.string(spec, 'storageClassName', 'spec');
  if (sc !== undefined)
    for (const e of subdomainErrors(sc)) f.invalid('spec.storageClassName', sc, `must be a StorageClass name: ${e}`);
  const mode = f.string(spec, 'volumeBindingMode', 'spec');
  if (mode !== undefined && !BINDING_MODES.includes(mode))
    f.add('spec.volumeBindingMode', 'Unsupported value', mode, `supported values: ${quoteList(BINDING_MODES)}`);
}

export const csiDriverProblems = (obj: unknown): string[] => specProblems(obj, checkSpec);

export const validateCsiDriverSpec = crValidator<Record<string, unknown>>({
  kind: CSIDRIVER_KIND,
  problems: csiDriverProblems,
});

export const validateCsiDriverCR: NamedMutator<Record<string, unknown>, unknown> = {
  name: 'validate-csidriver-cr',
  mutate: validateCsiDriverSpec,
};
