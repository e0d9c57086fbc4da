// What data-aware placement reads, and the one thing it writes.
//
// Reads, for a pod that names a Vineyardd and requires jobs:
// - the Vineyardd's ready pods (live list in its namespace, by the
//   `app.kubernetes.io/instance=<ns>-<name>` label its pods carry and the
//   socket affinity already relies on): their spec.nodeName are the nodes
//   where an object can be read. Ready, bound and not terminating only: a
//   LocalObject outlives the vineyardd that wrote it.
// - GlobalObjects and LocalObjects in the Vineyardd's namespace (watch caches).
// - the pod's replica count, only when the pod has a rank: label
//   scheduling.k8s.v6d.io/replicas, else a GET of its controller.
// Writes, never on a dry run: each required job's ConfigMap in the pod's
// namespace, and, for an assembly or repartition consumer, its Operation
// (operation-wait.ts), which it waits for before anything else is written.
//
// A pod that already carries the decision (a reinvocation) reads and writes nothing.
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolveInput } from '../../admission/endpoint.js';
import {
  DATA_PLACEMENT_ANNOTATION,
  GLOBALOBJECT_KIND,
  JOB_LABEL,
  LOCALOBJECT_KIND,
  OBJECT_JOB_LABEL,
  OBJECT_POD_NAMESPACE_LABEL,
  OBJECT_SIGNATURE_LABEL,
  REPLICAS_LABEL,
  VINEYARDD_INSTANCE_LABEL,
} from '../../vineyard/names.js';
import type { ReplicaOwnerKind, VineyardObject } from '../../vineyard/objects.js';
import { requiredJobs } from '../../vineyard/required-jobs.js';
import { isSubdomain } from '../../vineyard/label-rules.js';
import { podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import { inNamespace, jobData, planData, type DataPlan, type JobData } from './data-placement.js';
import { sharedOwners, writeJobConfigMap } from './job-configmap.js';
import { awaitOperations, wantedOperations } from './operation-wait.js';
import { podOrdinal } from './placement.js';
import { vineyarddInstance, type VineyarddRef } from './vineyardd-cluster.js';

export type NoDataPolicy = 'deny' | 'allow';

export type DataResolved = { plan: DataPlan | null; warnings: string[] } | { denial: string };

const isReady = (p: Readonly<V1Pod>): boolean =>
  !p.metadata?.deletionTimestamp &&
  !!p.spec?.nodeName &&
  (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True');

const OWNER_KINDS: readonly string[] = ['ReplicaSet', 'StatefulSet', 'Job'] satisfies ReplicaOwnerKind[];

/** Env names before RelaxedEnvironmentVariableValidation (GA in 1.34): envFrom silently skips other keys. */
const oldEnvName = (key: string) => /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key);

async function replicasOf(
  { req, obj, store, progress, call }: ResolveInput,
  warnings: string[],
): Promise<number | undefined> {
  const pod = obj as V1Pod;
  const label = podLabels(pod)[REPLICAS_LABEL];
  if (label !== undefined && /^\d+$/.test(label.trim()) && Number(label) > 0) return Number(label);
  const owner = (pod.metadata?.ownerReferences ?? []).find(o => o?.controller && OWNER_KINDS.includes(o.kind));
  if (!owner) {
    warnings.push(
      `${podDisplayName(req, pod)}: has a rank but neither label ${REPLICAS_LABEL} nor a ReplicaSet, StatefulSet or Job owner, so it is placed by each data node's share`,
    );
    return undefined;
  }
  const namespace = podNamespace(req, pod);
  progress.step = `get ${owner.kind} ${namespace}/${owner.name}`;
  const n = await store.getOwnerReplicas(namespace, owner.kind as ReplicaOwnerKind, owner.name, call);
  return n !== null && n > 0 ? n : undefined;
}

function noDataMessage(
  job: string,
  namespace: string,
  ref: VineyarddRef,
  d: JobData,
  nodes: ReadonlySet<string>,
): string {
  const where = `in namespace ${ref.namespace} (the Vineyardd's), with label ${OBJECT_POD_NAMESPACE_LABEL}=${namespace} or none`;
  const looked = `${GLOBALOBJECT_KIND}s labelled ${OBJECT_JOB_LABEL}=${job} (then their members' ${LOCALOBJECT_KIND}s by ${OBJECT_SIGNATURE_LABEL}), else ${LOCALOBJECT_KIND}s labelled ${OBJECT_JOB_LABEL}=${job}, ${where}`;
  const vineyardd = `Vineyardd ${ref.namespace}/${ref.name}`;
  const stale = d.stale.length
    ? `; found ${d.stale.length} on hosts that run no ready vineyardd of ${vineyardd} (${[...new Set(d.stale.map(s => s.host || '""'))].sort().join(', ')}; ready on: ${[...nodes].sort().join(', ') || 'none'})`
    : '';
  return `no data of required job ${job} for namespace ${namespace} yet: looked for ${looked}${stale}. Run ${job} first (its pods need label ${JOB_LABEL}=${job} and a vineyardd with --sync_crds); this pod is refused until then and its controller retries`;
}

export async function resolveData(
  input: ResolveInput,
  ref: VineyarddRef | null,
  noData: NoDataPolicy,
): Promise<DataResolved> {
  const { req, obj, store, progress, call } = input;
  const pod = obj as V1Pod;
  const jobs = requiredJobs(podAnnotations(pod));
  // A job name that cannot be one is refused by the scheduler defaulting, with the fix.
  if (!ref || !jobs.length || !jobs.every(isSubdomain) || podAnnotations(pod)[DATA_PLACEMENT_ANNOTATION] !== undefined)
    return { plan: null, warnings: [] };
  const namespace = podNamespace(req, pod);
  const who = podDisplayName(req, pod);

  const selector = `${VINEYARDD_INSTANCE_LABEL}=${vineyarddInstance(ref)}`;
  progress.step = `list pods in ${ref.namespace} with ${selector}`;
  const nodes = new Set(
    (await store.listPods(ref.namespace, selector, call)).filter(isReady).map(p => p.spec!.nodeName!),
  );

  const data: JobData[] = [];
  const missing: string[] = [];
  const missingJobs: string[] = [];
  for (const job of jobs) {
    progress.step = `list globalobjects in ${ref.namespace} with ${OBJECT_JOB_LABEL}=${job}`;
    const globals = await store.listVineyardObjects('globalobjects', ref.namespace, `${OBJECT_JOB_LABEL}=${job}`, call);
    const signatures = [...new Set(globals.filter(g => inNamespace(g, namespace)).flatMap(g => g.spec?.members ?? []))];
    let locals: VineyardObject[];
    if (signatures.length) {
      locals = [];
      for (const sig of signatures) {
        progress.step = `list localobjects in ${ref.namespace} with ${OBJECT_SIGNATURE_LABEL}=${sig}`;
        locals.push(
          ...(await store.listVineyardObjects('localobjects', ref.namespace, `${OBJECT_SIGNATURE_LABEL}=${sig}`, call)),
        );
      }
    } else {
      progress.step = `list localobjects in ${ref.namespace} with ${OBJECT_JOB_LABEL}=${job}`;
      locals = await store.listVineyardObjects('localobjects', ref.namespace, `${OBJECT_JOB_LABEL}=${job}`, call);
    }
    const d = jobData(job, namespace, globals, locals, nodes);
    if (!d.locations.size) {
      missing.push(noDataMessage(job, namespace, ref, d, nodes));
      missingJobs.push(job);
    }
    data.push(d);
  }
  if (missing.length) {
    // A pod can name many jobs: the first few in full, the rest by name, so the denial stays readable.
    const shown =
      missing.length > 3
        ? [
            ...missing.slice(0, 3),
            `and ${missing.length - 3} more required jobs have no data yet either: ${missingJobs.slice(3).join(', ')}`,
          ]
        : missing;
    if (noData === 'deny') return { denial: `${who}: ${shown.join('; ')}` };
    // Nothing to assemble or repartition yet either: no Operation is created.
    const operations = wantedOperations(req, pod, jobs);
    const noOperation = 'operations' in operations && operations.operations.length ? ' and no Operation created' : '';
    return {
      plan: null,
      warnings: missing.map(
        m =>
          `${who}: ${m}; admitted anyway (--scheduling-no-data=allow) with no data placement${noOperation ? ',' : ' and'} no job ConfigMap written${noOperation}`,
      ),
    };
  }

  // An assembly or repartition consumer reads what its Operation writes: until
  // that has run, nothing is placed or written for it.
  const operations = wantedOperations(req, pod, jobs);
  if ('denial' in operations) return { denial: operations.denial };
  if (operations.operations.length) {
    const waiting = await awaitOperations(input, operations.operations);
    if (waiting) return { denial: waiting };
  }
  const jobKey = operations.operations.length ? ('operator' as const) : ('data' as const);

  const warnings: string[] = [];
  const ordinal = podOrdinal(pod);
  const replicas = ordinal === undefined ? undefined : await replicasOf(input, warnings);
  const rank = ordinal !== undefined && replicas !== undefined ? { rank: ordinal, replicas } : undefined;
  const job = (podLabels(pod)[JOB_LABEL] ?? '').trim() || undefined;
  const plan = planData(jobs, data, rank, job);

  for (const d of data) {
    const bad = [...d.locations.keys()].filter(n => !oldEnvName(n));
    if (bad.length)
      warnings.push(
        `${who}: node names ${bad.join(', ')} are keys of ConfigMap ${namespace}/${d.job} but not environment variable names before Kubernetes 1.34, where envFrom skips them: a pod placed there finds no ${d.job} id under its NODENAME`,
      );
    if (req.dryRun) continue;
    await writeJobConfigMap(
      store,
      namespace,
      d,
      sharedOwners(pod.metadata?.ownerReferences),
      call,
      s => {
        progress.step = s;
      },
      jobKey,
    );
  }
  return { plan, warnings };
}
