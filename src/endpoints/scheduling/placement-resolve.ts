// What placement needs from the cluster: the workload's pods in the pod's own
// namespace (upstream counted every namespace) that run, or are bound by this
// webhook, on each node, not being deleted and not finished. Read live: the
// pods of a burst are created moments apart and each must see the ones before.
//
// Pods admitted by this replica but not stored yet are invisible to that read,
// so each admission reserves its node (never on a dry run). A reservation
// knows how many pods placed on its node the list must show once its pod is
// stored; until the list shows that many it counts, and after 30 s it lapses
// (the pod was refused after our answer). Between webhook replicas a race
// remains for pods without an ordinal: two replicas may pick the same node for
// two pods admitted in the same instant.
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolveInput } from '../../admission/endpoint.js';
import type { ClusterStore } from '../../cluster/store.js';
import { PLACEMENT_LABEL, SCHEDULED_ORDER_ANNOTATION } from '../../vineyard/names.js';
import { podIsLive } from '../../vineyard/default-sidecar-count.js';
import { podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import {
  chooseNode,
  parseScheduledOrder,
  placedNode,
  podOrdinal,
  workloadSelector,
  type PlacementPlan,
} from './placement.js';

const RESERVATION_MS = 30_000;

/** A node held for a pod not stored yet: `expect` placed pods on the node once it is. */
interface Reservation {
  node: string;
  expect: number;
  until: number;
}

/** Per store, so servers (and tests) sharing a process never share reservations. */
const reservationsByStore = new WeakMap<ClusterStore, Map<string, Reservation[]>>();

/** The reservations of a workload not yet seen stored, given the pods the list shows placed on each node. */
function pendingReservations(
  store: ClusterStore,
  key: string,
  placed: ReadonlyMap<string, number>,
  now: number,
): Reservation[] {
  let all = reservationsByStore.get(store);
  if (!all) reservationsByStore.set(store, (all = new Map()));
  const pending = (all.get(key) ?? []).filter(r => r.until > now && (placed.get(r.node) ?? 0) < r.expect);
  all.set(key, pending);
  return pending;
}

export type PlacementResolved = { plan: PlacementPlan | null } | { denial: string };

export async function resolvePlacement({
  req,
  obj,
  store,
  config,
  progress,
  call,
}: ResolveInput): Promise<PlacementResolved> {
  const pod = obj as unknown as V1Pod;
  if (podLabels(pod)[PLACEMENT_LABEL] !== 'true') return { plan: null };
  const who = podDisplayName(req, pod);
  // Decided already (a reinvocation), or bound by someone else: left alone.
  if (placedNode(pod) || pod.spec?.nodeName) return { plan: null };
  const orderText = podAnnotations(pod)[SCHEDULED_ORDER_ANNOTATION];
  if (orderText === undefined) {
    return {
      denial: `${who} has label ${PLACEMENT_LABEL}=true but no annotation ${SCHEDULED_ORDER_ANNOTATION}: add it (node=count,..., as \`vineyardctl schedule workflow\` writes), or remove the label`,
    };
  }
  const parsed = parseScheduledOrder(orderText);
  if ('problem' in parsed) {
    return {
      denial: `${who}: annotation ${SCHEDULED_ORDER_ANNOTATION} ${JSON.stringify(orderText)} is invalid: ${parsed.problem}; write node=count pairs separated by commas, e.g. node-a=2,node-b=1`,
    };
  }
  const selector = workloadSelector(pod);
  if ('problem' in selector) return { denial: `${who}: ${selector.problem}` };

  const namespace = podNamespace(req, pod);
  const labelSelector = `${selector.key}=${selector.value}`;
  progress.step = `list pods in ${namespace} with ${labelSelector}`;
  const pods = await store.listPods(namespace, labelSelector, call);
  const used = new Map<string, number>();
  const placed = new Map<string, number>();
  for (const p of pods) {
    const mine = placedNode(p);
    if (mine) placed.set(mine, (placed.get(mine) ?? 0) + 1);
    const node = p.spec?.nodeName || mine;
    if (!node || !podIsLive(p)) continue;
    used.set(node, (used.get(node) ?? 0) + 1);
  }
  const key = `${namespace}\n${labelSelector}`;
  const now = Date.now();
  const pending = pendingReservations(store, key, placed, now);
  for (const r of pending) used.set(r.node, (used.get(r.node) ?? 0) + 1);
  const ordinal = podOrdinal(pod);
  const choice = chooseNode(parsed.order, used, ordinal);
  const warnings: string[] = [];
  if (choice.full) {
    warnings.push(
      `every node of annotation ${SCHEDULED_ORDER_ANNOTATION} (${orderText}) already runs its count of the pods selected by ${labelSelector} (${selector.from}); placed on ${choice.node}, the node with the most room`,
    );
  }
  if (!req.dryRun) {
    const before = Math.max(
      placed.get(choice.node) ?? 0,
      ...pending.filter(r => r.node === choice.node).map(r => r.expect),
    );
    pending.push({ node: choice.node, expect: before + 1, until: now + RESERVATION_MS });
  }
  return { plan: { node: choice.node, output: config.placement ?? 'affinity', warnings } };
}
