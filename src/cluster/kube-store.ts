// ClusterStore over the Kubernetes API (@kubernetes/client-node).
// PLACEHOLDER: replaced by the cluster-layer implementation.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterStore } from './store.js';

export function createKubeStore(_kc: KubeConfig): ClusterStore {
  throw new Error('the cluster store is not implemented yet');
}
