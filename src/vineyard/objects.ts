// What vineyardd's --sync_crds writes for each persisted object: a
// LocalObject per chunk (where it lives) and a GlobalObject per distributed
// object (its members' signatures). Both k8s.v6d.io/v1alpha1, named after the
// object id, in the Vineyardd's namespace.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export interface VineyardObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: {
    id?: string;
    signature?: string;
    typename?: string;
    /** LocalObject: the node name of the vineyardd that holds it (its MY_NODE_NAME, else its hostname, else 0.0.0.0). */
    hostname?: string;
    instance_id?: number;
    /** GlobalObject: the signatures of its member LocalObjects. */
    members?: string[];
    metadata?: string;
  };
}

export type VineyardObjectPlural = 'globalobjects' | 'localobjects';

/** The workload kinds whose size the data-aware placement reads: spec.replicas, or a Job's spec.parallelism. */
export type ReplicaOwnerKind = 'ReplicaSet' | 'StatefulSet' | 'Job';

/**
 * The operator's Operation (k8s.v6d.io/v1alpha1): an assembly or repartition
 * its controller runs, reporting `status.state` (`succeeded` once done).
 */
export interface VineyardOperation {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: {
    /** `assembly` or `repartition`. */
    name?: string;
    /** The label `<name>.v6d.io/type` of the consumer: local, distributed, dask. */
    type?: string;
    /** The required job(s) whose output it works on. */
    require?: string;
    /** The consumer's job. */
    target?: string;
    timeoutSeconds?: number;
  };
  status?: { state?: string };
}
