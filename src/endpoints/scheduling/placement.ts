// Placement of workflow pods (`vineyardctl schedule workflow`): the pod's
// template carries `scheduledOrder` (`node=count,...`: how many of the
// workload's pods each node should run) and the user's `workloadSelector`
// (`key=value`: which pods are the workload). Upstream's webhook set
// spec.nodeName to the first node with room; here the default is a required
// node affinity on that node, which keeps the scheduler's resource fit and
// taint checks (nodeName bypasses both, and the kubelet may then reject the
// pod); `--placement node-name` gives upstream's output.
//
// This file is pure: parsing, the choice of a node and the patch. What the
// choice needs from the cluster (the workload's pods and where they run) is
// read by resolvePlacement (placement-resolve.ts).
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { isLabelValue, isQualifiedName, isSubdomain } from '../../vineyard/label-rules.js';
import {
  HOSTNAME_LABEL,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_LABEL,
  PLACEMENT_ANNOTATION,
  POD_INDEX_LABEL,
  SCHEDULED_ORDER_ANNOTATION,
  STATEFULSET_POD_NAME_LABEL,
  WORKLOAD_SELECTOR_ANNOTATION,
} from '../../vineyard/names.js';
import { requireNodeExpression } from '../pod/node-affinity.js';
import { podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName } from '../pod/pod-name.js';

export type PlacementOutput = 'affinity' | 'node-name';

export interface NodeSlots {
  node: string;
  count: number;
}

/** What the resolver decided, for the mutator to write. */
export interface PlacementPlan {
  node: string;
  output: PlacementOutput;
  warnings: string[];
}

/** `node=count,...`, strictly: a DNS name, `=`, a whole number; at least one count above zero. */
export function parseScheduledOrder(value: string): { order: NodeSlots[] } | { problem: string } {
  const order: NodeSlots[] = [];
  const seen = new Set<string>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([^=\s]+)=(\d+)$/.exec(entry);
    if (!m) return { problem: `entry ${JSON.stringify(entry)} is not node=count` };
    const [, node, count] = m;
    if (!isSubdomain(node!))
      return { problem: `${JSON.stringify(node)} is not a node name (a lower-case DNS subdomain)` };
    if (seen.has(node!)) return { problem: `node ${node} is listed twice` };
    seen.add(node!);
    order.push({ node: node!, count: Number(count) });
  }
  if (order.length === 0) return { problem: 'it lists no node' };
  if (order.every(o => o.count === 0)) return { problem: 'every count is 0, so no pod may run anywhere' };
  return { order: order.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)) };
}

/** The selector of the workload's pods: `workloadSelector`, else the pod's job label. */
export function workloadSelector(
  pod: Readonly<V1Pod>,
): { key: string; value: string; from: string } | { problem: string } {
  const annotation = podAnnotations(pod)[WORKLOAD_SELECTOR_ANNOTATION];
  if (annotation !== undefined) {
    const m = /^\s*([^=\s]+)=([^=\s]*)\s*$/.exec(annotation);
    if (!m || !isQualifiedName(m[1]!) || !isLabelValue(m[2]!)) {
      return {
        problem: `annotation ${WORKLOAD_SELECTOR_ANNOTATION} is ${JSON.stringify(annotation)}, which is not key=value with a valid label key and value (e.g. app=my-job)`,
      };
    }
    return { key: m[1]!, value: m[2]!, from: `annotation ${WORKLOAD_SELECTOR_ANNOTATION}` };
  }
  const job = podLabels(pod)[JOB_LABEL];
  if (job && isLabelValue(job)) return { key: JOB_LABEL, value: job, from: `label ${JOB_LABEL}` };
  return {
    problem: `it has neither annotation ${WORKLOAD_SELECTOR_ANNOTATION} (key=value naming the workload's pods) nor label ${JOB_LABEL}: add one, so the webhook can count the workload's pods on each node`,
  };
}

/** Which replica the pod is, when its controller says so. */
export function podOrdinal(pod: Readonly<V1Pod>): number | undefined {
  const labels = podLabels(pod);
  const candidates = [
    labels[POD_INDEX_LABEL],
    podAnnotations(pod)[JOB_COMPLETION_INDEX_ANNOTATION],
    /-(\d+)$/.exec(labels[STATEFULSET_POD_NAME_LABEL] ?? '')?.[1],
  ];
  for (const c of candidates) if (c !== undefined && /^\d+$/.test(c)) return Number(c);
  return undefined;
}

/**
 * The node for the next pod. `used` counts the workload's pods already on (or
 * bound for) each node. With an ordinal, the order is laid out as slots
 * (nodes sorted, each repeated count times) and the pod takes its own: two
 * webhook replicas agree without talking. Otherwise the first node with room;
 * when all are full, the one least over.
 */
export function chooseNode(
  order: readonly NodeSlots[],
  used: ReadonlyMap<string, number>,
  ordinal: number | undefined,
): { node: string; full: boolean } {
  if (ordinal !== undefined) {
    const slots = order.flatMap(o => Array.from({ length: o.count }, () => o.node));
    return { node: slots[ordinal % slots.length]!, full: false };
  }
  const room = order.map(o => ({ node: o.node, left: o.count - (used.get(o.node) ?? 0) }));
  const free = room.find(r => r.left > 0);
  if (free) return { node: free.node, full: false };
  let best = room[0]!;
  for (const r of room) if (r.left > best.left) best = r;
  return { node: best.node, full: true };
}

/** The node this webhook chose for a pod, if it placed it. */
export const placedNode = (pod: Readonly<V1Pod>): string | undefined =>
  podAnnotations(pod)[PLACEMENT_ANNOTATION] || undefined;

export function place(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  plan: PlacementPlan | null | undefined,
  p: PatchBuilder,
): Verdict {
  if (!plan) return allow();
  p.set(['metadata', 'annotations', PLACEMENT_ANNOTATION], plan.node);
  if (plan.output === 'node-name') p.set(['spec', 'nodeName'], plan.node);
  else requireNodeExpression(p, { key: HOSTNAME_LABEL, operator: 'In', values: [plan.node] });
  return allow(plan.warnings.map(w => `${podDisplayName(req, pod)}: ${w}`));
}

export interface PlacementContext {
  placement?: PlacementPlan | null;
}

export const placementMutator: NamedMutator<V1Pod, PlacementContext> = {
  name: 'placement',
  mutate: (req, pod, ctx, p) => place(req, pod, ctx.placement, p),
};

export { SCHEDULED_ORDER_ANNOTATION };
