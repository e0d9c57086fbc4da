// Data-aware placement at admission: what Vineyard's scheduler
// plugin did in its Score phase, done once when the pod is created, so it
// works on every Kubernetes version (the plugin only runs on 1.19-1.24).
//
// A pod that requires jobs must run where their objects are: a required node
// affinity on the data nodes (ANDed into every term the pod has), and a
// preference that spreads the pod's replicas over the data the way upstream
// did. Never spec.nodeName: it bypasses the scheduler's resource fit and
// taint checks.
//
// This file is pure: which objects count, the plugin's chunk rule, and the
// patch. The resolver (data-resolve.ts) reads the cluster and hands its plan
// over in the context.
import type { V1Container, V1Pod, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import {
  DATA_PLACEMENT_ANNOTATION,
  HOSTNAME_LABEL,
  JOB_LABEL,
  NODENAME_ENV,
  OBJECT_POD_NAMESPACE_LABEL,
  POD_NAME_ENV,
  POD_NAMESPACE_ENV,
} from '../../vineyard/names.js';
import type { VineyardObject } from '../../vineyard/objects.js';
import { requiredJobs } from '../../vineyard/required-jobs.js';
import { preferNodeExpression, requireNodeExpression } from '../pod/node-affinity.js';
import { containersOf, envIndex, listOf, podAnnotations, podLabels } from '../pod/pod-helpers.js';

/** Where one required job's objects are, after the namespace and vineyardd filters. */
export interface JobData {
  job: string;
  globalIds: string[];
  /** node -> ids of the job's LocalObjects on it, both sorted. */
  locations: Map<string, string[]>;
  /** LocalObjects found but left out because their host runs no ready vineyardd of the cluster. */
  stale: Array<{ id: string; host: string }>;
  /** Where they were looked for, for a refusal. */
  source: 'globalobjects' | 'localobjects';
}

/** What the mutator writes: computed by the resolver, the same for every replica of a workload unless its rank differs. */
export interface DataPlan {
  jobs: string[];
  /** Sorted data nodes of all required jobs that run a ready vineyardd. */
  nodes: string[];
  /** The node the pod's rank gets by the plugin's chunk rule; absent without a rank. */
  target?: string;
  /** Without a target: each data node preferred by its share of the objects. */
  shares: Array<{ node: string; weight: number }>;
  /** Pods of this job are spread over the data nodes (no rank to tell them apart). */
  spreadJob?: string;
}

/** Objects of another namespace's job with the same name are not this pod's data (upstream mixed them). */
export function inNamespace(o: Readonly<VineyardObject>, namespace: string): boolean {
  const created = o.metadata?.labels?.[OBJECT_POD_NAMESPACE_LABEL] ?? '';
  return created === '' || created === namespace;
}

/**
 * A job's data from the objects read for it: the members of its GlobalObjects
 * when it has any (`locals` then holds the members' LocalObjects), else its
 * own LocalObjects. A LocalObject counts only on a node in `vineyarddNodes`:
 * `0.0.0.0`, a sidecar's pod hostname and a node whose vineyardd is gone are
 * places nobody can read the object from.
 */
export function jobData(
  job: string,
  namespace: string,
  globals: readonly VineyardObject[],
  locals: readonly VineyardObject[],
  vineyarddNodes: ReadonlySet<string>,
): JobData {
  const mine = globals.filter(g => inNamespace(g, namespace));
  const members = new Set(mine.flatMap(g => g.spec?.members ?? []));
  const chunks = locals.filter(
    l => inNamespace(l, namespace) && (!mine.length || members.has(l.spec?.signature ?? '')),
  );
  const locations = new Map<string, string[]>();
  const stale: JobData['stale'] = [];
  const seen = new Set<string>();
  for (const l of chunks) {
    const id = l.spec?.id || l.metadata?.name || '';
    const host = (l.spec?.hostname ?? '').trim();
    if (!id || seen.has(id)) continue;
    seen.add(id);
    if (!vineyarddNodes.has(host)) {
      stale.push({ id, host });
      continue;
    }
    locations.set(host, [...(locations.get(host) ?? []), id]);
  }
  for (const ids of locations.values()) ids.sort();
  const sorted = new Map([...locations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const globalIds = [...new Set(mine.map(g => g.spec?.id || g.metadata?.name || '').filter(Boolean))].sort();
  return { job, globalIds, locations: sorted, stale, source: mine.length ? 'globalobjects' : 'localobjects' };
}

/** Chunk counts per node across the required jobs (the plugin merged them too), nodes sorted. */
export function mergedCounts(data: readonly JobData[]): Array<{ node: string; count: number }> {
  const counts = new Map<string, number>();
  for (const d of data) for (const [node, ids] of d.locations) counts.set(node, (counts.get(node) ?? 0) + ids.length);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, count]) => ({ node, count }));
}

/**
 * The plugin's rule: with T chunks and R replicas each replica reads
 * nchunks = ceil(T/R) of them, and replica `rank` goes to the first node
 * (sorted) where the running chunk count reaches nchunks*rank + (nchunks+1)/2,
 * the middle of its share. Ranks past the data get no node.
 */
export function chunkTarget(
  counts: ReadonlyArray<{ node: string; count: number }>,
  replicas: number,
  rank: number,
): string | undefined {
  const total = counts.reduce((s, c) => s + c.count, 0);
  if (replicas <= 0 || total === 0 || rank < 0) return undefined;
  const nchunks = Math.ceil(total / replicas);
  const want = nchunks * rank + Math.floor((nchunks + 1) / 2);
  let running = 0;
  for (const c of counts) {
    running += c.count;
    if (running >= want) return c.node;
  }
  return undefined;
}

/** Preference weights (1..100) proportional to each node's share of the chunks. */
export function shareWeights(counts: ReadonlyArray<{ node: string; count: number }>): DataPlan['shares'] {
  const total = counts.reduce((s, c) => s + c.count, 0);
  return counts.map(c => ({ node: c.node, weight: Math.min(100, Math.max(1, Math.round((100 * c.count) / total))) }));
}

export function planData(
  jobs: string[],
  data: readonly JobData[],
  rank: { rank: number; replicas: number } | undefined,
  job: string | undefined,
): DataPlan {
  const counts = mergedCounts(data);
  const target = rank ? chunkTarget(counts, rank.replicas, rank.rank) : undefined;
  return {
    jobs,
    nodes: counts.map(c => c.node),
    ...(target ? { target } : {}),
    shares: target ? [] : shareWeights(counts),
    ...(!rank && job ? { spreadJob: job } : {}),
  };
}

/** The decision in one line, recorded on the pod: a reinvocation that finds it changes nothing. */
export function describePlan(plan: Readonly<DataPlan>): string {
  const prefer = plan.target
    ? `prefer=${plan.target}`
    : `shares=${plan.shares.map(s => `${s.node}:${s.weight}`).join(',')}`;
  return `jobs=${plan.jobs.join(',')};nodes=${plan.nodes.join(',')};${prefer}`;
}

function addFieldRefEnv(
  p: PatchBuilder,
  index: number,
  c: Readonly<V1Container>,
  name: string,
  fieldPath: string,
): void {
  if (envIndex(c, name) < 0)
    p.append(['spec', 'containers', index, 'env'], { name, valueFrom: { fieldRef: { fieldPath } } });
}

function spreadConstraint(job: string): V1TopologySpreadConstraint {
  return {
    maxSkew: 1,
    topologyKey: HOSTNAME_LABEL,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { [JOB_LABEL]: job } },
  };
}

export interface DataContext {
  /** null: nothing to place (no required job, no data and --scheduling-no-data=allow, or decided already). */
  data?: DataPlan | null;
}

export function placeByData(req: AdmissionRequest, pod: Readonly<V1Pod>, ctx: DataContext, p: PatchBuilder): Verdict {
  const annotations = podAnnotations(pod);
  const jobs = requiredJobs(annotations);
  // The program finds its chunk's id under the key of its node (env from the job ConfigMap).
  if (jobs.length)
    for (const { index, container } of containersOf(pod))
      addFieldRefEnv(p, index, container, NODENAME_ENV, 'spec.nodeName');
  // vineyardd labels a producer's objects with the namespace and pod it reads from these.
  if ((podLabels(pod)[JOB_LABEL] ?? '').trim()) {
    for (const { index, container } of containersOf(pod)) {
      addFieldRefEnv(p, index, container, POD_NAME_ENV, 'metadata.name');
      addFieldRefEnv(p, index, container, POD_NAMESPACE_ENV, 'metadata.namespace');
    }
  }
  const plan = ctx.data;
  if (!plan || annotations[DATA_PLACEMENT_ANNOTATION] !== undefined) return allow();
  p.set(['metadata', 'annotations', DATA_PLACEMENT_ANNOTATION], describePlan(plan));
  requireNodeExpression(p, { key: HOSTNAME_LABEL, operator: 'In', values: plan.nodes });
  if (plan.target) preferNodeExpression(p, { key: HOSTNAME_LABEL, operator: 'In', values: [plan.target] }, 100);
  for (const s of plan.shares)
    preferNodeExpression(p, { key: HOSTNAME_LABEL, operator: 'In', values: [s.node] }, s.weight);
  if (plan.spreadJob) {
    const c = spreadConstraint(plan.spreadJob);
    // The API server refuses two constraints with one topologyKey and whenUnsatisfiable: the pod's own wins.
    if (
      !listOf<V1TopologySpreadConstraint>(p.get(['spec', 'topologySpreadConstraints'])).some(
        t => t.topologyKey === c.topologyKey && t.whenUnsatisfiable === c.whenUnsatisfiable,
      )
    ) {
      p.append(['spec', 'topologySpreadConstraints'], c);
    }
  }
  return allow();
}

export const dataPlacementMutator: NamedMutator<V1Pod, DataContext> = { name: 'data-placement', mutate: placeByData };
