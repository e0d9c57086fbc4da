// Assembly and repartition consumers. Upstream, the scheduler
// plugin was the only creator of their Operation CR: it made one per pod and
// held the pod Pending until the operator's controller had run it. Without
// the plugin (any Kubernetes past 1.24) nothing creates it, the assembly never
// runs, and the consumer starts on data it cannot read.
//
// Here the scheduling endpoint creates it and refuses the pod until its
// status says `succeeded`; the pod's controller retries, which is the wait.
// - One Operation per consumer job, not per pod (upstream ran the same
//   assembly once per replica): named `<job>-<assembly|repartition>` after the
//   pod's scheduling.k8s.v6d.io/job, so every replica, every retry and every
//   webhook replica finds the same one; a concurrent create's AlreadyExists
//   means another replica made it.
// - Spec as the plugin wrote it: name, type from `<op>.v6d.io/type`, require
//   (the required jobs, `.`-joined as assembly splits them; one job is the job
//   itself, as upstream), target (the consumer's job), timeoutSeconds 300.
//   The consumer's owners are its co-owners (controller: false), so deleting
//   the workload deletes its Operation and a later run assembles again.
// - The wait is bounded: past --operation-timeout from the Operation's
//   creation the refusal says it did not succeed in time and what to check.
//   Deleting the Operation starts over.
// - Read live: only these consumers ask, once per retry of their controller;
//   a watch of every Operation in the cluster would cost more than it saves.
// - A dry run creates nothing; it is refused as the real request would be.
//
// Pure parts first (what to create, how to read its status); the I/O is
// awaitOperations, called by the resolver once the required data exists.
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolveInput } from '../../admission/endpoint.js';
import type { AdmissionRequest } from '../../admission/types.js';
import { isApiError } from '../../cluster/store.js';
import { formatDuration } from '../../duration.js';
import {
  APP_MANAGED_BY_LABEL,
  ASSEMBLY_ENABLED_LABEL,
  ASSEMBLY_TYPE_LABEL,
  JOB_LABEL,
  NEED_INJECTED_ASSEMBLY_LABEL,
  NEED_INJECTED_REPARTITION_LABEL,
  OPERATION_KIND,
  OPERATION_NAMESPACE_LABEL,
  OPERATION_PLURAL,
  OPERATION_SUCCEEDED,
  REPARTITION_ENABLED_LABEL,
  REPARTITION_TYPE_LABEL,
  VINEYARD_GROUP,
  VINEYARD_VERSION,
  WEBHOOK_APP_NAME,
  NAMESPACE_LABEL_ENABLED,
} from '../../vineyard/names.js';
import { isSubdomain } from '../../vineyard/label-rules.js';
import type { VineyardOperation } from '../../vineyard/objects.js';
import { DEFAULT_OPERATION_TIMEOUT_SECONDS, OPERATION_TYPES } from '../../vineyard/operation-types.js';
import { isTrue, podLabels } from '../pod/pod-helpers.js';
import { podDisplayName, podNamespace } from '../pod/pod-name.js';
import { jobNameOf } from './default-scheduling.js';
import { sharedOwners } from './job-configmap.js';

/** How long a consumer waits for its Operation when --operation-timeout is not given. */
export const DEFAULT_OPERATION_WAIT_MS = 10 * 60_000;

const OPERATIONS = [
  { op: 'assembly', enabled: ASSEMBLY_ENABLED_LABEL, type: ASSEMBLY_TYPE_LABEL, needs: NEED_INJECTED_ASSEMBLY_LABEL },
  {
    op: 'repartition',
    enabled: REPARTITION_ENABLED_LABEL,
    type: REPARTITION_TYPE_LABEL,
    needs: NEED_INJECTED_REPARTITION_LABEL,
  },
] as const;

export type WantedOperations = { operations: VineyardOperation[] } | { denial: string };

/** The Operations the pod waits for (none when it asks for no assembly or repartition), or why it cannot have them. */
export function wantedOperations(
  req: AdmissionRequest,
  pod: Readonly<V1Pod>,
  jobs: readonly string[],
): WantedOperations {
  const labels = podLabels(pod);
  const asked = OPERATIONS.filter(o => isTrue(labels[o.enabled]));
  if (!asked.length || !jobs.length) return { operations: [] };
  const who = podDisplayName(req, pod);
  const namespace = podNamespace(req, pod);
  const problems: string[] = [];
  const target = jobNameOf(pod);
  if (!target)
    problems.push(
      `an ${asked.map(o => o.op).join(' and ')} needs label ${JOB_LABEL} (or env JOB_NAME): the Operation the operator runs is named after the consumer's job and targets it`,
    );
  const operations: VineyardOperation[] = [];
  for (const o of asked) {
    const type = labels[o.type];
    const types = OPERATION_TYPES[o.op]!;
    if (type === undefined || !types.includes(type)) {
      problems.push(
        `label ${o.type} is ${type === undefined ? 'missing' : JSON.stringify(type)}; the ${o.op} Operation needs one of ${types.join(', ')}`,
      );
      continue;
    }
    if (!target) continue;
    const name = `${target}-${o.op}`;
    if (!isSubdomain(name)) {
      problems.push(
        `label ${JOB_LABEL}=${target} cannot name the ${o.op} Operation (${JSON.stringify(name)} is not a lower-case DNS name); use a job name of lower-case letters, digits, '-' and '.'`,
      );
      continue;
    }
    const owners = sharedOwners(pod.metadata?.ownerReferences);
    operations.push({
      apiVersion: `${VINEYARD_GROUP}/${VINEYARD_VERSION}`,
      kind: OPERATION_KIND,
      metadata: {
        name,
        namespace,
        labels: { [APP_MANAGED_BY_LABEL]: WEBHOOK_APP_NAME },
        ...(owners.length ? { ownerReferences: owners } : {}),
      },
      spec: { name: o.op, type, require: jobs.join('.'), target, timeoutSeconds: DEFAULT_OPERATION_TIMEOUT_SECONDS },
    });
  }
  return problems.length ? { denial: `${who}: ${problems.join('; ')}` } : { operations };
}

export type OperationStatus =
  | { kind: 'succeeded' }
  | { kind: 'waiting'; created?: string; state?: string }
  | { kind: 'timed-out'; created: string; state?: string };

/** metadata.creationTimestamp as the API server sends it (a string; the client's type says Date). */
const createdAt = (o: Readonly<VineyardOperation>): string | undefined => {
  const t = o.metadata?.creationTimestamp as unknown;
  return typeof t === 'string' ? t : t instanceof Date ? t.toISOString() : undefined;
};

/** Where an existing Operation stands at `nowMs`. Without a creation time (never from an API server) it cannot time out. */
export function operationStatus(o: Readonly<VineyardOperation>, nowMs: number, timeoutMs: number): OperationStatus {
  const state = typeof o.status?.state === 'string' && o.status.state ? o.status.state : undefined;
  if (state === OPERATION_SUCCEEDED) return { kind: 'succeeded' };
  const created = createdAt(o);
  const at = created === undefined ? NaN : Date.parse(created);
  if (created !== undefined && Number.isFinite(at) && nowMs - at >= timeoutMs)
    return { kind: 'timed-out', created, ...(state ? { state } : {}) };
  return { kind: 'waiting', ...(created ? { created } : {}), ...(state ? { state } : {}) };
}

const what = (o: Readonly<VineyardOperation>) =>
  `${o.spec?.name} ${o.spec?.type} of ${o.spec?.require} for ${o.spec?.target}`;

const stateText = (state: string | undefined) =>
  state ? `status.state ${JSON.stringify(state)}` : 'no status.state yet';

/** What the operator needs before it can run the Operation: the required jobs' pods labelled for it. */
function prerequisite(o: Readonly<VineyardOperation>, namespace: string): string {
  const needs = OPERATIONS.find(x => x.op === o.spec?.name)?.needs ?? NEED_INJECTED_ASSEMBLY_LABEL;
  return `the pods of ${o.spec?.require} labelled ${needs}=true (which /mutate-v1-pod writes when namespace ${namespace} is labelled ${OPERATION_NAMESPACE_LABEL}=${NAMESPACE_LABEL_ENABLED})`;
}

export function waitingMessage(
  who: string,
  o: Readonly<VineyardOperation>,
  how: 'created' | 'would-create' | OperationStatus,
  timeoutMs: number,
): string {
  const ns = o.metadata?.namespace ?? '';
  const ref = `Operation ${ns}/${o.metadata?.name} (${what(o)})`;
  const limit = `--operation-timeout, ${formatDuration(timeoutMs)}`;
  if (how === 'would-create') {
    return `${who} would wait for ${ref}, which does not exist: the real request creates it (a dry run does not) and is refused until the operator has run it`;
  }
  if (how !== 'created' && how.kind === 'timed-out') {
    return `${who}: ${ref} did not succeed within ${limit} of its creation at ${how.created} (${stateText(how.state)}). Check that the Vineyard operator runs and what its logs say about it, the Jobs it started in namespace ${ns} (kubectl get jobs -n ${ns}), and ${prerequisite(o, ns)}; then delete the Operation (kubectl delete ${OPERATION_PLURAL}.${VINEYARD_GROUP} -n ${ns} ${o.metadata?.name}) for the webhook to create it again. This pod is refused until it has succeeded`;
  }
  const since =
    how === 'created'
      ? 'created it now'
      : `created at ${how.kind === 'waiting' && how.created ? how.created : 'an unknown time'}, ${stateText(how.kind === 'waiting' ? how.state : undefined)}`;
  return `${who} waits for ${ref} to succeed (${since}): the Vineyard operator runs it once it finds ${prerequisite(o, ns)}. This pod is refused until status.state is ${JSON.stringify(OPERATION_SUCCEEDED)}, for at most ${limit} from the Operation's creation, and its controller retries`;
}

/**
 * Reads (and creates, when missing and not a dry run) each wanted Operation;
 * the refusal while one has not succeeded, undefined once all have.
 */
export async function awaitOperations(
  { req, obj, store, config, progress, call }: ResolveInput,
  operations: readonly VineyardOperation[],
): Promise<string | undefined> {
  const who = podDisplayName(req, obj as V1Pod);
  const timeoutMs = config.operationTimeoutMs ?? DEFAULT_OPERATION_WAIT_MS;
  const nowMs = config.now ? Date.parse(config.now) : Date.now();
  const refusals: string[] = [];
  for (const wanted of operations) {
    const namespace = wanted.metadata!.namespace!;
    const name = wanted.metadata!.name!;
    progress.step = `get ${OPERATION_PLURAL}.${VINEYARD_GROUP} ${namespace}/${name}`;
    const current = await store.getOperation(namespace, name, call);
    if (current) {
      const status = operationStatus(current, nowMs, timeoutMs);
      if (status.kind !== 'succeeded') refusals.push(waitingMessage(who, current, status, timeoutMs));
      continue;
    }
    if (req.dryRun) {
      refusals.push(waitingMessage(who, wanted, 'would-create', timeoutMs));
      continue;
    }
    progress.step = `create ${OPERATION_PLURAL}.${VINEYARD_GROUP} ${namespace}/${name}`;
    try {
      await store.createOperation(namespace, wanted, call);
    } catch (e) {
      // Another webhook replica, or a retry of this pod, made it a moment ago: the same Operation.
      if (!(isApiError(e) && e.alreadyExists)) throw e;
    }
    refusals.push(waitingMessage(who, wanted, 'created', timeoutMs));
  }
  return refusals.length ? refusals.join('; ') : undefined;
}
