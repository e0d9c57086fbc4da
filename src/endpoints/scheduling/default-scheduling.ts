// Scheduler defaulting: fills in what the Vineyard scheduler docs
// ask users to write by hand (the vineyardd namespace label, JOB_NAME, the
// required jobs' env and ConfigMaps), so a pod that names its vineyardd and
// its job is enough. A pod that already has them is left as it is.
import type { V1Container, V1EnvFromSource, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import {
  DEFAULT_SCHEDULER,
  JOB_LABEL,
  JOB_NAME_ENV,
  REQUIRED_ANNOTATION,
  REQUIRED_JOB_NAME_ENV,
  VINEYARDD_LABEL,
  VINEYARDD_NAMESPACE_LABEL,
} from '../../vineyard/names.js';
import { isLabelValue, isSubdomain } from '../../vineyard/label-rules.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { containersOf, envIndex, envOf, listOf, podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName } from '../pod/pod-name.js';
import { requiredJobs } from '../../vineyard/required-jobs.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow, deny } from '../../admission/mutator.js';
import { readVineyarddLabel, type SchedulingContext } from './vineyardd-cluster.js';

/** The literal value of the container's env `name`; undefined when absent or set through valueFrom. */
function envValue(c: Readonly<V1Container>, name: string): string | undefined {
  const e = envOf(c).find(x => x.name === name);
  return typeof e?.value === 'string' ? e.value : undefined;
}

/** The pod's job as this endpoint leaves it: the label, else the first container's JOB_NAME when it can be the label. */
export function jobNameOf(pod: Readonly<V1Pod>): string | undefined {
  const label = (podLabels(pod)[JOB_LABEL] ?? '').trim();
  if (label) return label;
  const source = containersOf(pod).find(({ container }) => envValue(container, JOB_NAME_ENV)?.trim());
  const fromEnv = source ? envValue(source.container, JOB_NAME_ENV)!.trim() : '';
  return fromEnv && isLabelValue(fromEnv) ? fromEnv : undefined;
}

/** The job name from the label, else from the first container's JOB_NAME (which then becomes the label). */
function syncJobName(req: AdmissionRequest, pod: Readonly<V1Pod>, p: PatchBuilder, warnings: string[]): void {
  const containers = containersOf(pod);
  let job = (podLabels(pod)[JOB_LABEL] ?? '').trim();
  if (!job) {
    const source = containers.find(({ container }) => envValue(container, JOB_NAME_ENV)?.trim());
    if (!source) return;
    const fromEnv = envValue(source.container, JOB_NAME_ENV)!.trim();
    if (!isLabelValue(fromEnv)) {
      warnings.push(
        `${podDisplayName(req, pod)}: env ${JOB_NAME_ENV}=${JSON.stringify(fromEnv)} of container ${source.container.name} is not a valid label value, so label ${JOB_LABEL} was not set; set the label yourself`,
      );
      return;
    }
    p.set(['metadata', 'labels', JOB_LABEL], fromEnv);
    job = fromEnv;
  }
  for (const { index, container } of containers) {
    if (envIndex(container, JOB_NAME_ENV) < 0) {
      p.append(['spec', 'containers', index, 'env'], { name: JOB_NAME_ENV, value: job });
      continue;
    }
    const value = envValue(container, JOB_NAME_ENV);
    if (value !== undefined && value.trim() !== job) {
      warnings.push(
        `${podDisplayName(req, pod)}: container ${container.name} has env ${JOB_NAME_ENV}=${JSON.stringify(value)} but label ${JOB_LABEL} is ${JSON.stringify(job)}; the Vineyard scheduler uses the label, the program sees the env`,
      );
    }
  }
}

/** REQUIRED_JOB_NAME and one envFrom ConfigMap per required job: where the scheduler hands over the jobs' object ids. */
function wireRequiredJobs(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  jobs: readonly string[],
  p: PatchBuilder,
  warnings: string[],
): void {
  const joined = jobs.join(',');
  for (const { index, container } of containersOf(pod)) {
    if (envIndex(container, REQUIRED_JOB_NAME_ENV) < 0) {
      p.append(['spec', 'containers', index, 'env'], { name: REQUIRED_JOB_NAME_ENV, value: joined });
    } else {
      const value = envValue(container, REQUIRED_JOB_NAME_ENV);
      if (value !== undefined && value !== joined) {
        warnings.push(
          `${podDisplayName(req, pod)}: container ${container.name} has env ${REQUIRED_JOB_NAME_ENV}=${JSON.stringify(value)} but annotation ${REQUIRED_ANNOTATION} lists ${JSON.stringify(joined)}; left as written`,
        );
      }
    }
    const refs = new Set(listOf<V1EnvFromSource>(container.envFrom).map(e => e.configMapRef?.name));
    for (const job of jobs) {
      if (!refs.has(job)) p.append(['spec', 'containers', index, 'envFrom'], { configMapRef: { name: job } });
    }
  }
}

export function defaultScheduling(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  ctx: SchedulingContext,
  p: PatchBuilder,
): Verdict {
  const labels = podLabels(pod);
  const vineyardd = readVineyarddLabel(labels);
  if (vineyardd.kind === 'absent') return allow();
  if (vineyardd.kind === 'invalid') return deny(`${podDisplayName(req, pod)}: ${vineyardd.message}`);

  const jobs = requiredJobs(podAnnotations(pod));
  const badJob = jobs.find(j => !isSubdomain(j));
  if (badJob !== undefined) {
    return deny(
      `${podDisplayName(req, pod)}: annotation ${REQUIRED_ANNOTATION} names job ${JSON.stringify(badJob)}, which cannot be a job name (the Vineyard scheduler keeps each job's objects in a ConfigMap named after it: lower-case letters, digits, '-' and '.'); list the required jobs' ${JOB_LABEL} values separated by commas, or none`,
    );
  }

  const warnings: string[] = [];
  const { ref } = vineyardd;
  // Label values cannot hold `/`: the API server would reject the pod as written.
  if (vineyardd.namespaced) p.set(['metadata', 'labels', VINEYARDD_LABEL], ref.name);
  if (vineyardd.namespaceLabelMissing) p.set(['metadata', 'labels', VINEYARDD_NAMESPACE_LABEL], ref.namespace);

  syncJobName(req, pod, p, warnings);
  if (jobs.length) wireRequiredJobs(req, pod, jobs, p, warnings);

  const current = pod.spec?.schedulerName;
  if (ctx.schedulerName && (!current || current === DEFAULT_SCHEDULER)) {
    p.set(['spec', 'schedulerName'], ctx.schedulerName);
  }
  return allow(warnings);
}

export const defaultSchedulingMutator: NamedMutator<V1Pod, SchedulingContext> = {
  name: 'default-scheduling',
  mutate: defaultScheduling,
};
