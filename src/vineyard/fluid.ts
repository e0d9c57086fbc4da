// Fluid's Dataset and VineyardRuntime (data.fluid.io/v1alpha1), as far as this
// webhook reads them. Unknown fields are kept: objects stay plain JSON.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export interface DatasetRuntimeRef {
  name?: string;
  namespace?: string;
  /** `vineyard`, `alluxio`, `jindo`, ... */
  type?: string;
  category?: string;
}

export interface Dataset {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: Record<string, unknown>;
  status?: { phase?: string; runtimes?: DatasetRuntimeRef[]; [k: string]: unknown };
}

export interface VineyardRuntime {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: { fuse?: { options?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };
  status?: Record<string, unknown>;
}
