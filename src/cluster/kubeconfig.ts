// Finds the cluster configuration: --kubeconfig, in-cluster service account,
// $KUBECONFIG, ~/.kube/config. None found means standalone mode.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ClusterSource = { kind: 'kubeconfig'; path: string } | { kind: 'in-cluster' } | { kind: 'none' };

export function findClusterConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ClusterSource {
  if (flag) return { kind: 'kubeconfig', path: flag };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SA_DIR, 'token'))) return { kind: 'in-cluster' };
  const fromEnv = env.KUBECONFIG?.split(':').find(p => p && existsSync(p));
  if (fromEnv) return { kind: 'kubeconfig', path: fromEnv };
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return { kind: 'kubeconfig', path: home };
  return { kind: 'none' };
}
