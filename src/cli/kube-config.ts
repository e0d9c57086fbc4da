// The cluster a CLI command reads, found as kubectl finds it: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config (and, inside a pod, its service
// account). Nothing found is a usage error that says where it looked, never
// client-node's fallback to http://localhost:8080.
import { KubeConfig } from '@kubernetes/client-node';
import { findClusterConfig } from '../cluster/kubeconfig.js';
import { UsageError } from '../flags.js';

export function loadKubeConfig(flag: string | undefined, context?: string): KubeConfig {
  const source = findClusterConfig(flag);
  const kc = new KubeConfig();
  try {
    if (source.kind === 'kubeconfig') kc.loadFromFile(source.path);
    else if (source.kind === 'in-cluster') kc.loadFromCluster();
    else throw new UsageError('no cluster to read: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `--kubeconfig: cannot load ${source.kind === 'kubeconfig' ? source.path : 'the in-cluster configuration'}: ${(e as Error).message}`,
    );
  }
  if (context) {
    if (!kc.getContextObject(context))
      throw new UsageError(
        `--context: the kubeconfig has no context ${JSON.stringify(context)} (kubectl config get-contexts)`,
      );
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster())
    throw new UsageError(
      `--kubeconfig: ${source.kind === 'kubeconfig' ? source.path : 'the configuration'} has no current context with a cluster (kubectl config use-context NAME)`,
    );
  return kc;
}
