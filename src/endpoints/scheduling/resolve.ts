// Resolve step of /mutate-v1-pod-scheduling: which vineyardd cluster the pod
// names, and where that cluster keeps its socket. Reading the Vineyardd CR is
// best effort: a cluster without the Vineyard operator (no CRD, no RBAC) must
// still get the default socket path, so only a warning says the read failed.
import type { V1Pod } from '@kubernetes/client-node';
import { isApiError } from '../../cluster/store.js';
import { podLabels } from '../pod/pod-helpers.js';
import {
  defaultSocketPath,
  defaultSocketSource,
  readVineyarddLabel,
  type SchedulingContext,
  type SocketSource,
  type VineyarddRef,
} from './vineyardd-cluster.js';
import type { Vineyardd } from '../../vineyard/sidecar.js';
import { renderSocket } from '../../vineyard/sidecar-defaults.js';
import type { ResolveInput, Resolved } from '../../admission/endpoint.js';
import { deny } from '../../admission/mutator.js';
import { resolvePlacement } from './placement-resolve.js';
import { resolveData } from './data-resolve.js';

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** The CR's socket source; undefined (with a warning) when its spec cannot be used. */
function socketOf(cr: Readonly<Vineyardd>, ref: VineyarddRef, warnings: string[]): SocketSource | undefined {
  const pvc = cr.spec?.volume?.pvcName;
  if (nonEmpty(pvc)) return { kind: 'pvc', claimName: pvc.trim() };
  const template = cr.spec?.vineyard?.socket;
  if (!nonEmpty(template)) return undefined;
  const path = renderSocket(template.trim(), cr.metadata?.namespace || ref.namespace, cr.metadata?.name || ref.name);
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    warnings.push(
      `Vineyardd ${ref.namespace}/${ref.name}: spec.vineyard.socket ${JSON.stringify(template)} is not an absolute path; the default socket directory is used`,
    );
    return undefined;
  }
  return { kind: 'hostPath', path };
}

/** Both behaviours of the path: placement of workflow pods, then the vineyardd cluster's socket. */
export async function resolveScheduling(input: ResolveInput): Promise<Resolved<SchedulingContext>> {
  const placement = await resolvePlacement(input);
  if ('denial' in placement) return { done: deny(placement.denial, 400) };
  const resolved = await resolveVineyardd(input);
  return 'ctx' in resolved ? { ...resolved, ctx: { ...resolved.ctx, placement: placement.plan } } : resolved;
}

export async function resolveVineyardd(input: ResolveInput): Promise<Resolved<SchedulingContext>> {
  const { obj, store, config, progress, call } = input;
  const label = readVineyarddLabel(podLabels(obj as V1Pod));
  // Absent or invalid: the mutators allow or deny; there is nothing to read.
  if (label.kind !== 'ok') return { ctx: { vineyardd: null, socket: null, schedulerName: config.schedulerName } };
  const { ref } = label;
  const warnings: string[] = [];
  let socket: SocketSource | undefined;
  try {
    progress.step = `get vineyardds ${ref.namespace}/${ref.name}`;
    const cr = await store.getVineyardd(ref.namespace, ref.name, call);
    if (cr) socket = socketOf(cr, ref, warnings);
  } catch (e) {
    if (!isApiError(e)) throw e;
    warnings.push(
      `could not read Vineyardd ${ref.namespace}/${ref.name} (${e.message}); its socket is assumed to be in the default directory ${defaultSocketPath(ref)}`,
    );
  }
  const data = await resolveData(input, ref, config.schedulingNoData ?? 'deny');
  if ('denial' in data) return { done: deny(data.denial, 403, warnings) };
  warnings.push(...data.warnings);
  return {
    ctx: {
      vineyardd: ref,
      socket: socket ?? defaultSocketSource(ref),
      schedulerName: config.schedulerName,
      data: data.plan,
    },
    warnings,
  };
}
