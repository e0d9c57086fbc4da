// The job ConfigMap the scheduler plugin used to create: named after the
// required job, in the consumer's namespace, `<node>: "<local ids>"` for the
// job's chunks and `<job>: "<global ids>"`. The consumer reads it through
// envFrom (NODENAME picks its node's key).
//
// Several writers share it: every consumer workload of the job (each appends
// its owner, controller: false, so the ConfigMap lives as long as one of them
// does), and the operator's assembly and repartition, which rewrite `<job>`
// with `.`-joined ids and add InstanceToWorker. So this webhook updates only
// the keys it wrote itself (listed in an annotation), never a key someone else
// wrote first, and only with the resourceVersion it read.
import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import type { ClusterStore, CallOptions } from '../../cluster/store.js';
import { isApiError } from '../../cluster/store.js';
import { retryOnConflict } from '../../cluster/retry-on-conflict.js';
import {
  APP_MANAGED_BY_LABEL,
  CONFIGMAP_KEYS_ANNOTATION,
  INSTANCE_TO_WORKER_KEY,
  WEBHOOK_APP_NAME,
} from '../../vineyard/names.js';
import type { JobData } from './data-placement.js';

/**
 * Whose the job's own key is: `data` (ours until the operator rewrites it
 * with `.`-joined ids), or `operator` when an Operation of the consumer has
 * succeeded: its assembly or repartition wrote the ids the consumer must read.
 */
export type JobKeyOwner = 'data' | 'operator';

/** The data this webhook wants in job `data.job`'s ConfigMap. */
export function wantedData(data: Readonly<JobData>, jobKey: JobKeyOwner = 'data'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [node, ids] of data.locations) out[node] = ids.join(',');
  if (jobKey === 'data') out[data.job] = data.globalIds.join(',');
  return out;
}

/** Keys the operator owns: InstanceToWorker always, the job's key once assembly or repartition wrote `.`-joined ids or ran for this consumer. */
function operatorKey(key: string, value: string | undefined, job: string, jobKey: JobKeyOwner): boolean {
  return (
    key === INSTANCE_TO_WORKER_KEY ||
    (key === job && (jobKey === 'operator' || (value !== undefined && value.includes('.'))))
  );
}

const ownedKeys = (cm: Readonly<V1ConfigMap> | null): Set<string> =>
  new Set(
    (cm?.metadata?.annotations?.[CONFIGMAP_KEYS_ANNOTATION] ?? '')
      .split(',')
      .map(s => s.trim())
      .filter(Boolean),
  );

/**
 * `current` with this webhook's keys brought up to `want` and `owners`
 * appended; null when nothing changes. Pure, so a retry after a conflict
 * merges into the newer object the same way.
 */
export function mergeJobConfigMap(
  current: Readonly<V1ConfigMap>,
  job: string,
  want: Readonly<Record<string, string>>,
  owners: readonly V1OwnerReference[],
  jobKey: JobKeyOwner = 'data',
): V1ConfigMap | null {
  const next = structuredClone(current) as V1ConfigMap;
  next.metadata ??= {};
  const data: Record<string, string> = { ...(next.data ?? {}) };
  const owned = ownedKeys(current);
  let changed = false;
  for (const [key, value] of Object.entries(want)) {
    const theirs = key in data && !owned.has(key);
    if (theirs || operatorKey(key, data[key], job, jobKey)) {
      owned.delete(key);
      continue;
    }
    owned.add(key);
    if (data[key] !== value) {
      data[key] = value;
      changed = true;
    }
  }
  // A node that no longer holds the job's data: its key was ours, so it goes.
  for (const key of [...owned]) {
    if (key in want) continue;
    owned.delete(key);
    if (key in data && !operatorKey(key, data[key], job, jobKey)) {
      delete data[key];
      changed = true;
    }
  }
  const refs = [...(next.metadata.ownerReferences ?? [])];
  for (const o of owners) {
    if (!refs.some(r => r.uid === o.uid)) {
      refs.push(o);
      changed = true;
    }
  }
  const keys = [...owned].sort().join(',');
  if ((current.metadata?.annotations?.[CONFIGMAP_KEYS_ANNOTATION] ?? '') !== keys) changed = true;
  if (!changed) return null;
  next.data = data;
  next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [CONFIGMAP_KEYS_ANNOTATION]: keys };
  if (refs.length) next.metadata.ownerReferences = refs;
  return next;
}

export function newJobConfigMap(
  job: string,
  want: Readonly<Record<string, string>>,
  owners: readonly V1OwnerReference[],
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: job,
      labels: { [APP_MANAGED_BY_LABEL]: WEBHOOK_APP_NAME },
      annotations: { [CONFIGMAP_KEYS_ANNOTATION]: Object.keys(want).sort().join(',') },
      ...(owners.length ? { ownerReferences: [...owners] } : {}),
    },
    data: { ...want },
  };
}

/** The consumer's owners as co-owners: never the controller (a second consumer would be refused), never blocking deletion (needs finalizer RBAC). */
export function sharedOwners(refs: readonly V1OwnerReference[] | undefined): V1OwnerReference[] {
  return (refs ?? [])
    .filter(r => r?.uid && r.kind && r.name && r.apiVersion)
    .map(r => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid, controller: false }));
}

const ATTEMPTS = 5;

/** Creates or updates job `data.job`'s ConfigMap in `namespace`; retries a lost race on the fresh object. */
export async function writeJobConfigMap(
  store: ClusterStore,
  namespace: string,
  data: Readonly<JobData>,
  owners: readonly V1OwnerReference[],
  call: CallOptions,
  step: (s: string) => void,
  jobKey: JobKeyOwner = 'data',
): Promise<'created' | 'updated' | 'unchanged'> {
  const want = wantedData(data, jobKey);
  const name = data.job;
  // A NotFound on update: it was deleted since the read; the next attempt creates
  // it. (On create, NotFound is the namespace missing: no race, thrown as is.)
  let found = false;
  const raced = (e: unknown) => isApiError(e) && (e.alreadyExists || e.conflict || (e.notFound && found));
  return retryOnConflict(`ConfigMap ${namespace}/${name}`, { attempts: ATTEMPTS, raced }, async () => {
    step(`get configmaps ${namespace}/${name}`);
    const current = await store.getConfigMap(namespace, name, call);
    found = current !== null;
    if (!current) {
      step(`create configmaps ${namespace}/${name}`);
      await store.createConfigMap(namespace, newJobConfigMap(name, want, owners), call);
      return 'created' as const;
    }
    const next = mergeJobConfigMap(current, name, want, owners, jobKey);
    if (!next) return 'unchanged' as const;
    step(`update configmaps ${namespace}/${name}`);
    await store.updateConfigMap(namespace, next, call);
    return 'updated' as const;
  });
}
