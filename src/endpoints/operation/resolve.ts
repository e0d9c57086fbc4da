// Resolve step of /mutate-v1-pod: labels the pods of the jobs an assembly or
// repartition pod requires (need-injected-assembly / need-injected-repartition)
// so the operator's drivers pick them up. Only pods of the request's namespace
// are touched, only by a merge patch of their labels, never on a dry run, never
// for a pod the gate denies, and never twice for one pod: the mutator records
// the labelled jobs in an annotation that a reinvocation finds.
import type { V1Pod } from '@kubernetes/client-node';
import { isApiError } from '../../cluster/store.js';
import { planOperation, readLabelledJobs, type OperationContext } from './gate-operation.js';
import { podNamespace } from '../pod/pod-name.js';
import { APP_LABEL } from '../../vineyard/names.js';
import type { ResolveInput, Resolved } from '../../admission/endpoint.js';

/** Label PATCHes in flight at once: enough for a job's replicas, gentle on the API server. */
const PARALLEL_PATCHES = 4;

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function resolveOperation({
  req,
  obj,
  store,
  progress,
  call,
}: ResolveInput): Promise<Resolved<OperationContext>> {
  const pod = obj as V1Pod;
  const plan = planOperation(req, pod);
  // A denied pod is denied by the mutator with this plan, before any write.
  if (plan.denial || !plan.jobs.length) return { ctx: { plan } };

  const done = readLabelledJobs(pod);
  const jobs = plan.jobs.filter(j => !done.has(j));
  const labelledJobs = plan.jobs.filter(j => done.has(j));
  const namespace = podNamespace(req, pod);
  const warnings: string[] = [];
  for (const job of jobs) {
    const selector = `${APP_LABEL}=${job}`;
    progress.step = `list pods in ${namespace} with ${selector}`;
    const pods = await store.listPods(namespace, selector, call);
    if (!pods.length) {
      warnings.push(
        `required job ${job} has no pod labelled ${selector} in namespace ${namespace} yet, so none was labelled ${Object.keys(plan.labels).join(', ')}; start ${job} first`,
      );
      continue;
    }
    labelledJobs.push(job);
    if (req.dryRun) continue;
    await eachLimited(pods, PARALLEL_PATCHES, async target => {
      const name = target.metadata?.name ?? '';
      const have = target.metadata?.labels ?? {};
      const missing = Object.fromEntries(Object.entries(plan.labels).filter(([k, v]) => have[k] !== v));
      if (!name || !Object.keys(missing).length) return;
      progress.step = `patch labels of pod ${namespace}/${name}`;
      try {
        await store.patchPodLabels(namespace, name, missing, call);
      } catch (e) {
        // Deleted since the list: it needs no label any more.
        if (!(isApiError(e) && e.notFound)) throw e;
      }
    });
  }
  return { ctx: { plan, labelledJobs }, warnings };
}
