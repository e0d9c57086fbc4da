// Kubeconfigs pointing at a fake API server (plain http on 127.0.0.1), as an
// object for code that takes a KubeConfig and as a file for code that reads
// --kubeconfig / $KUBECONFIG. client-node refuses http:// servers unless
// insecure-skip-tls-verify is set, so it always is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export const FAKE_TOKEN = 'fake-token';

export interface FakeKubeconfigOptions {
  namespace?: string;
  token?: string;
}

function configObject(url: string, opts: FakeKubeconfigOptions) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake', user: { token: opts.token ?? FAKE_TOKEN } }],
    contexts: [
      {
        name: 'fake',
        context: { cluster: 'fake', user: 'fake', ...(opts.namespace ? { namespace: opts.namespace } : {}) },
      },
    ],
    'current-context': 'fake',
  };
}

export function fakeKubeConfig(url: string, opts: FakeKubeconfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token: opts.token ?? FAKE_TOKEN }],
    contexts: [
      { name: 'fake', cluster: 'fake', user: 'fake', ...(opts.namespace ? { namespace: opts.namespace } : {}) },
    ],
    currentContext: 'fake',
  });
  return kc;
}

export interface KubeconfigFile {
  path: string;
  remove(): void;
}

/** Writes a kubeconfig file in a fresh temp directory; `remove()` deletes it. */
export function writeFakeKubeconfig(url: string, opts: FakeKubeconfigOptions = {}): KubeconfigFile {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, stringify(configObject(url, opts)));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
