// Where the e2e suite finds kube-apiserver and etcd: the envtest convention
// (KUBEBUILDER_ASSETS names one directory holding both), else the directory
// test/e2e/setup.sh fills.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const K8S_VERSION = '1.20.2';

export function defaultAssetsDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'vineyard-webhook', `k8s-${K8S_VERSION}`);
}

export interface Assets {
  dir: string;
  apiserver: string;
  etcd: string;
}

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The binaries, or why they cannot be used (one line, with how to get them). */
export function findAssets(): Assets | { missing: string } {
  const fromEnv = process.env.KUBEBUILDER_ASSETS;
  const dir = fromEnv || defaultAssetsDir();
  const apiserver = join(dir, 'kube-apiserver');
  const etcd = join(dir, 'etcd');
  const absent = [apiserver, etcd].filter(f => !executable(f));
  if (absent.length === 0) return { dir, apiserver, etcd };
  const where = fromEnv ? `KUBEBUILDER_ASSETS=${fromEnv}` : `${dir} (set KUBEBUILDER_ASSETS to use envtest's binaries)`;
  return {
    missing: `no ${absent.map(f => f.slice(dir.length + 1)).join(' or ')} in ${where}; run \`npm run e2e:setup\` to build them`,
  };
}
