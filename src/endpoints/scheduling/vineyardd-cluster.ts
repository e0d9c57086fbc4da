// Which vineyardd cluster a pod asks for (label scheduling.k8s.v6d.io/vineyardd,
// optionally `namespace/name`) and where that cluster keeps its IPC socket:
// shared by the resolve step, which reads the Vineyardd CR, and the two
// scheduling mutators, so all three read the label the same way.
import { DEFAULT_VINEYARDD_NAMESPACE, VINEYARDD_LABEL, VINEYARDD_NAMESPACE_LABEL } from '../../vineyard/names.js';
import { isDnsLabel, isSubdomain } from '../../vineyard/label-rules.js';
import { renderSocket, SOCKET_TEMPLATE } from '../../vineyard/sidecar-defaults.js';
import type { PlacementContext } from './placement.js';
import type { DataContext } from './data-placement.js';

export interface VineyarddRef {
  namespace: string;
  name: string;
}

export type VineyarddLabel =
  | { kind: 'absent' }
  | { kind: 'invalid'; message: string }
  /** `namespaced`: the label held `namespace/name`, which is not a valid label value and must be split. */
  | { kind: 'ok'; ref: VineyarddRef; namespaced: boolean; namespaceLabelMissing: boolean };

/** Where the pod finds the vineyardd socket directory. */
export type SocketSource = { kind: 'hostPath'; path: string } | { kind: 'pvc'; claimName: string };

/** What the scheduling endpoint's mutators know beyond the pod. */
export interface SchedulingContext extends PlacementContext, DataContext {
  /** null when the pod names no (valid) vineyardd. */
  vineyardd: VineyarddRef | null;
  socket: SocketSource | null;
  /** The server's --scheduler-name; empty: leave spec.schedulerName alone. */
  schedulerName: string;
}

/** The host directory where a vineyardd cluster keeps its socket unless its CR says otherwise. */
export const defaultSocketPath = (ref: VineyarddRef): string => renderSocket(SOCKET_TEMPLATE, ref.namespace, ref.name);

export const defaultSocketSource = (ref: VineyarddRef): SocketSource => ({
  kind: 'hostPath',
  path: defaultSocketPath(ref),
});

/** The value of the vineyardd pods' `app.kubernetes.io/instance` label. */
export const vineyarddInstance = (ref: VineyarddRef): string => `${ref.namespace}-${ref.name}`;

const fix = `set ${VINEYARDD_LABEL} to the name of a Vineyardd (e.g. vineyardd-sample) and, if it is not in ${DEFAULT_VINEYARDD_NAMESPACE}, ${VINEYARDD_NAMESPACE_LABEL} to its namespace (or write both as namespace/name)`;

export function readVineyarddLabel(labels: Readonly<Record<string, string>>): VineyarddLabel {
  const raw = (labels[VINEYARDD_LABEL] ?? '').trim();
  if (!raw) return { kind: 'absent' };
  const nsLabel = (labels[VINEYARDD_NAMESPACE_LABEL] ?? '').trim();
  let namespace: string;
  let name: string;
  const namespaced = raw.includes('/');
  if (namespaced) {
    const parts = raw.split('/');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      return {
        kind: 'invalid',
        message: `label ${VINEYARDD_LABEL}=${JSON.stringify(raw)} is neither a name nor namespace/name: ${fix}`,
      };
    }
    [namespace, name] = parts as [string, string];
    if (nsLabel && nsLabel !== namespace) {
      return {
        kind: 'invalid',
        message: `label ${VINEYARDD_LABEL}=${JSON.stringify(raw)} names namespace ${namespace} but label ${VINEYARDD_NAMESPACE_LABEL}=${JSON.stringify(nsLabel)} names another: remove one of them or make them agree`,
      };
    }
  } else {
    name = raw;
    namespace = nsLabel || DEFAULT_VINEYARDD_NAMESPACE;
  }
  // Both end up in labels, in a hostPath and in an affinity term: only real
  // object names can, and nothing like `..` reaches a host path.
  if (!isDnsLabel(namespace)) {
    return {
      kind: 'invalid',
      message: `${JSON.stringify(namespace)} (from ${namespaced ? VINEYARDD_LABEL : VINEYARDD_NAMESPACE_LABEL}) is not a valid namespace name (lower-case letters, digits and '-', at most 63 characters): ${fix}`,
    };
  }
  if (!isSubdomain(name) || name.length > 63) {
    return {
      kind: 'invalid',
      message: `${JSON.stringify(name)} (from ${VINEYARDD_LABEL}) is not a valid Vineyardd name (lower-case letters, digits, '-' and '.', at most 63 characters): ${fix}`,
    };
  }
  return { kind: 'ok', ref: { namespace, name }, namespaced, namespaceLabelMissing: !nsLabel };
}
