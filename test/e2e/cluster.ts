// A throwaway control plane for the e2e suite: etcd and kube-apiserver on
// loopback, on free ports, in a temporary directory that is removed on stop.
// No controller manager, scheduler or kubelet: the suite plays the
// controllers itself, which is what makes every request countable.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCa, issueServing } from '../../src/certs/issue.js';
import type { Assets } from './assets.js';
import { KubeClient } from './kube-client.js';
import { freePort } from '../helpers/free-port.js';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A user the API server knows by a static token. */
export interface TokenUser {
  name: string;
  groups: string[];
  token: string;
}

export interface Cluster {
  url: string;
  /** PEM of the CA that signed the API server's certificate. */
  ca: string;
  dir: string;
  /** Client as a cluster admin (system:masters). */
  admin: KubeClient;
  /** Kubeconfig file authenticating as `user`. */
  kubeconfigFor(user: TokenUser): string;
  /** Kubeconfig file authenticating as the cluster admin: what a user's kubectl has. */
  adminKubeconfig(): string;
  /** Client authenticating as `user`. */
  clientFor(user: TokenUser): KubeClient;
  /** Stops kube-apiserver and starts it again on the same port and etcd (watches break, state stays). */
  restartApiserver(): Promise<void>;
  /** Last lines of a process log, for failure messages. */
  logTail(which: 'etcd' | 'kube-apiserver', lines?: number): string;
  stop(): Promise<void>;
}

const token = () => randomBytes(24).toString('hex');

/** Users the suite needs; tokens are fixed at start because the API server reads the file once. */
export const webhookUser = (namespace: string, serviceAccount: string): TokenUser => ({
  name: `system:serviceaccount:${namespace}:${serviceAccount}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  token: token(),
});

function stopProcess(p: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    const kill = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

function launch(bin: string, args: string[], logFile: string): ChildProcess {
  const out = createWriteStream(logFile);
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.pipe(out);
  p.stderr!.pipe(out);
  return p;
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  alive: () => string | undefined,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not ready after ${timeoutMs / 1000}s`);
    await sleep(200);
  }
}

export async function startCluster(assets: Assets, users: TokenUser[] = []): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'vw-e2e-'));
  const procs: { etcd?: ChildProcess; apiserver?: ChildProcess } = {};
  const log = (which: string) => join(dir, `${which}.log`);
  const logTail = (which: string, lines = 30) => {
    try {
      return readFileSync(log(which), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const exited = (p: ChildProcess | undefined, name: string) =>
    p && (p.exitCode !== null || p.signalCode !== null)
      ? `${name} exited (${p.exitCode ?? p.signalCode}):\n${logTail(name)}`
      : undefined;
  const stop = async () => {
    await stopProcess(procs.apiserver);
    await stopProcess(procs.etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    procs.etcd = launch(
      assets.etcd,
      [
        '--name',
        'e2e',
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-cluster',
        `e2e=http://127.0.0.1:${peerPort}`,
        '--log-level',
        'warn',
      ],
      log('etcd'),
    );

    const ca = await issueCa('vineyard-webhook-e2e-ca', { validityMs: 86_400_000 });
    const serving = await issueServing(ca, {
      commonName: 'kube-apiserver',
      sans: ['127.0.0.1', 'localhost'],
      validityMs: 86_400_000,
    });
    const sa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const files = {
      ca: join(dir, 'ca.crt'),
      cert: join(dir, 'apiserver.crt'),
      key: join(dir, 'apiserver.key'),
      saPub: join(dir, 'sa.pub'),
      saKey: join(dir, 'sa.key'),
      tokens: join(dir, 'tokens.csv'),
    };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key, { mode: 0o600 });
    writeFileSync(files.saPub, sa.publicKey);
    writeFileSync(files.saKey, sa.privateKey, { mode: 0o600 });
    const admin: TokenUser = { name: 'e2e-admin', groups: ['system:masters'], token: token() };
    const all = [admin, ...users];
    writeFileSync(
      files.tokens,
      all.map((u, i) => `${u.token},${u.name},uid-${i},"${u.groups.join(',')}"`).join('\n') + '\n',
      { mode: 0o600 },
    );

    await waitFor(
      'etcd',
      async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok,
      () => exited(procs.etcd, 'etcd'),
      30_000,
    );

    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${files.cert}`,
      `--tls-private-key-file=${files.key}`,
      `--token-auth-file=${files.tokens}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // No controller manager runs, so nothing would mint service-account tokens.
      '--disable-admission-plugins=ServiceAccount',
      '--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ];
    procs.apiserver = launch(assets.apiserver, apiserverArgs, log('kube-apiserver'));

    const url = `https://127.0.0.1:${apiPort}`;
    const clientFor = (u: TokenUser) => new KubeClient(url, ca.cert, u.token);
    const adminClient = clientFor(admin);
    const apiserverReady = () =>
      waitFor(
        'kube-apiserver',
        async () => {
          const ready = await adminClient.raw('GET', '/readyz');
          if (ready.status !== 200) return false;
          return (await adminClient.raw('GET', '/api/v1/namespaces/default')).status === 200;
        },
        () => exited(procs.apiserver, 'kube-apiserver'),
        90_000,
      );
    await apiserverReady();
    const restartApiserver = async () => {
      await stopProcess(procs.apiserver);
      procs.apiserver = launch(assets.apiserver, apiserverArgs, `${log('kube-apiserver')}.restarted`);
      await apiserverReady();
    };

    const kubeconfigFor = (u: TokenUser): string => {
      const file = join(dir, `kubeconfig-${all.indexOf(u)}`);
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'e2e', cluster: { server: url, 'certificate-authority': files.ca } }],
          users: [{ name: 'u', user: { token: u.token } }],
          contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'u' } }],
          'current-context': 'e2e',
        }),
        { mode: 0o600 },
      );
      return file;
    };

    return {
      url,
      ca: ca.cert,
      dir,
      admin: adminClient,
      logTail,
      stop,
      clientFor,
      restartApiserver,
      adminKubeconfig: () => kubeconfigFor(admin),
      kubeconfigFor,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
