// What the unit tests of data-aware scheduling and of Operations build their
// clusters and consumers from: vineyardd pods on nodes, the LocalObjects
// vineyardd writes for a job, and a consumer pod owned by a ReplicaSet.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../src/admission/types.js';

/** The consumers' namespace, where vineyardd's objects say the data was created. */
export const NS = 'vineyard-job';

/** A Ready vineyardd pod of vineyard-system/vineyardd-sample bound to `node`. */
export const vineyarddPod = (node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: `vineyardd-${node}`,
    namespace: 'vineyard-system',
    labels: { 'app.kubernetes.io/instance': 'vineyard-system-vineyardd-sample' },
  },
  spec: { nodeName: node, containers: [{ name: 'vineyardd', image: 'v' }] },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});

/** A LocalObject of `job` on `host`, as vineyardd's --sync_crds writes it. */
export const localObject = (id: string, host: string, job = 'job1') => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'LocalObject',
  metadata: {
    name: id,
    namespace: 'vineyard-system',
    labels: { 'k8s.v6d.io/job': job, 'k8s.v6d.io/created-podnamespace': NS, 'k8s.v6d.io/signature': `s${id.slice(1)}` },
  },
  spec: { id, signature: `s${id.slice(1)}`, hostname: host },
});

export interface ConsumerOptions {
  /** The pod's job (label scheduling.k8s.v6d.io/job). */
  job: string;
  /** The name of its ReplicaSet (default: the job's). */
  owner?: string;
  /** Labels added to the scheduling ones. */
  labels?: Record<string, string>;
  /** The jobs it requires (annotation scheduling.k8s.v6d.io/required). */
  required?: string;
}

/** A pod of `job`, created by its ReplicaSet, that requires the data of `required` (default job1). */
export function consumerPod({ job, owner = job, labels = {}, required = 'job1' }: ConsumerOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${job}-`,
      labels: { 'scheduling.k8s.v6d.io/vineyardd': 'vineyardd-sample', 'scheduling.k8s.v6d.io/job': job, ...labels },
      annotations: { 'scheduling.k8s.v6d.io/required': required },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: owner,
          uid: `uid-${job}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
}

/** The CREATE of `pod` in NS. */
export const podCreate = (pod: V1Pod, dryRun = false): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: NS,
  dryRun,
  object: pod as never,
});
