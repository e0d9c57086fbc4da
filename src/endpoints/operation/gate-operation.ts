// Operation gating. Every pod gets POD_NAME / POD_NAMESPACE, which
// the assembly and repartition drivers read. A pod that asks for an assembly
// or a repartition is checked here, before anything is written: the resolve
// step labels the required jobs' pods only for a plan without a denial.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/types.js';
import {
  APP_LABEL,
  ASSEMBLY_ENABLED_LABEL,
  ASSEMBLY_TYPE_LABEL,
  DASK_SCHEDULER_ANNOTATION,
  DASK_WORKER_SELECTOR_ANNOTATION,
  NEED_INJECTED_ASSEMBLY_LABEL,
  NEED_INJECTED_REPARTITION_LABEL,
  OPERATION_LABELLED_ANNOTATION,
  POD_NAME_ENV,
  POD_NAMESPACE_ENV,
  REPARTITION_ENABLED_LABEL,
  REPARTITION_TYPE_LABEL,
  REQUIRED_ANNOTATION,
} from '../../vineyard/names.js';
import { isLabelValue } from '../../vineyard/label-rules.js';
import { ASSEMBLY_TYPES, REPARTITION_TYPES } from '../../vineyard/operation-types.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { containersOf, envIndex, isTrue, podAnnotations, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName } from '../pod/pod-name.js';
import { requiredJobs } from '../../vineyard/required-jobs.js';
import type { NamedMutator, Verdict } from '../../admission/mutator.js';
import { allow, deny } from '../../admission/mutator.js';

/**
 * The resolver's plan, handed to the mutator so that both act on one decision,
 * and the required jobs whose pods carry the labels (labelled now, before, or
 * on a dry run would be): only those are recorded as labelled.
 */
export interface OperationContext {
  plan: OperationPlan;
  labelledJobs?: readonly string[];
}

export interface OperationPlan {
  /** The labels the required jobs' pods must carry; empty: the pod asks for no operation. */
  labels: Record<string, string>;
  /** Required jobs whose pods get `labels`. */
  jobs: string[];
  denial?: string;
  warnings: string[];
}

const shown = (v: string | undefined) => (v === undefined ? 'missing' : JSON.stringify(v));

/** What the pod asks for, or why it cannot have it. Pure; computed once, by the resolve step. */
export function planOperation(req: AdmissionRequest, pod: Readonly<V1Pod>): OperationPlan {
  const labels = podLabels(pod);
  const annotations = podAnnotations(pod);
  const who = podDisplayName(req, pod);
  const problems: string[] = [];
  const wanted: Record<string, string> = {};
  const asked: string[] = [];

  if (isTrue(labels[ASSEMBLY_ENABLED_LABEL])) {
    asked.push(`${ASSEMBLY_ENABLED_LABEL}=true`);
    wanted[NEED_INJECTED_ASSEMBLY_LABEL] = 'true';
    const type = labels[ASSEMBLY_TYPE_LABEL];
    if (!(ASSEMBLY_TYPES as readonly string[]).includes(type ?? '')) {
      problems.push(
        `label ${ASSEMBLY_TYPE_LABEL} is ${shown(type)}; an assembly needs ${ASSEMBLY_TYPE_LABEL}=local (streams on one node, local objects) or ${ASSEMBLY_TYPE_LABEL}=distributed (streams across nodes, global objects)`,
      );
    }
  }
  if (isTrue(labels[REPARTITION_ENABLED_LABEL])) {
    asked.push(`${REPARTITION_ENABLED_LABEL}=true`);
    wanted[NEED_INJECTED_REPARTITION_LABEL] = 'true';
    const type = labels[REPARTITION_TYPE_LABEL];
    if (!(REPARTITION_TYPES as readonly string[]).includes(type ?? '')) {
      problems.push(
        `label ${REPARTITION_TYPE_LABEL} is ${shown(type)}; a repartition needs ${REPARTITION_TYPE_LABEL}=dask, the only supported type`,
      );
    } else {
      const missing = [DASK_SCHEDULER_ANNOTATION, DASK_WORKER_SELECTOR_ANNOTATION].filter(a => !annotations[a]?.trim());
      if (missing.length) {
        problems.push(
          `a dask repartition needs annotation ${DASK_SCHEDULER_ANNOTATION} (the dask scheduler's address, e.g. tcp://dask-scheduler.default:8786) and annotation ${DASK_WORKER_SELECTOR_ANNOTATION} (the dask worker pods' labels, e.g. app:dask,component:worker); missing: ${missing.join(', ')}`,
        );
      }
    }
  }
  if (problems.length) return { labels: {}, jobs: [], denial: `${who}: ${problems.join('; ')}`, warnings: [] };
  if (!asked.length) return { labels: {}, jobs: [], warnings: [] };

  const warnings: string[] = [];
  const jobs: string[] = [];
  for (const job of requiredJobs(annotations)) {
    if (isLabelValue(job)) jobs.push(job);
    else
      warnings.push(
        `${who}: required job ${JSON.stringify(job)} (annotation ${REQUIRED_ANNOTATION}) cannot be the value of label ${APP_LABEL}, so no pod of it was labelled`,
      );
  }
  if (!jobs.length && !warnings.length) {
    warnings.push(
      `${who}: ${asked.join(' and ')} but annotation ${REQUIRED_ANNOTATION} names no job (missing or none), so there is no earlier job's output to operate on; list the jobs this pod consumes, separated by commas`,
    );
  }
  return { labels: wanted, jobs, warnings };
}

/** The marker value: the required jobs whose pods were labelled for this pod. */
const labelledJobsValue = (jobs: readonly string[]): string => [...jobs].sort().join(',');

export function readLabelledJobs(pod: Readonly<V1Pod>): Set<string> {
  return new Set(
    (podAnnotations(pod)[OPERATION_LABELLED_ANNOTATION] ?? '')
      .split(',')
      .map(s => s.trim())
      .filter(Boolean),
  );
}

const FIELD_ENV = [
  { name: POD_NAME_ENV, fieldPath: 'metadata.name' },
  { name: POD_NAMESPACE_ENV, fieldPath: 'metadata.namespace' },
] as const;

export function gateOperation(
  _req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  { plan, labelledJobs = [] }: OperationContext,
  p: PatchBuilder,
): Verdict {
  if (plan.denial) return deny(plan.denial, 403, plan.warnings);
  for (const field of ['initContainers', 'containers'] as const) {
    for (const { index, container } of containersOf(pod, field)) {
      for (const { name, fieldPath } of FIELD_ENV) {
        if (envIndex(container, name) < 0)
          p.append(['spec', field, index, 'env'], { name, valueFrom: { fieldRef: { fieldPath } } });
      }
    }
  }
  // Recorded so that a reinvocation on this pod does not label the jobs again;
  // a job without pods yet is left out, so a reinvocation looks for them again.
  if (labelledJobs.length) {
    const marker = labelledJobsValue(labelledJobs);
    if (podAnnotations(pod)[OPERATION_LABELLED_ANNOTATION] !== marker)
      p.set(['metadata', 'annotations', OPERATION_LABELLED_ANNOTATION], marker);
  }
  return allow(plan.warnings);
}

export const gateOperationMutator: NamedMutator<V1Pod, OperationContext> = {
  name: 'gate-operation',
  mutate: gateOperation,
};
