// The built server (`dist/cli.js serve`), started as a user would start it
// against the suite's API server, with the identity of deploy/'s
// ServiceAccount so deploy/'s RBAC is what it runs under.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface WebhookServer {
  port: number;
  /** Base URL the API server calls. */
  url: string;
  /** Everything the server wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function getStatus(port: number, path: string): Promise<number> {
  return new Promise(resolve => {
    // The CA is not known until the server has made it: readiness does not need trust.
    const req = https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 2000 }, res => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

export async function startWebhookServer(opts: {
  kubeconfig: string;
  port: number;
  namespace: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<WebhookServer> {
  const args = [
    CLI,
    'serve',
    '--kubeconfig',
    opts.kubeconfig,
    '--host',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace,
    '--cert-mode',
    'secret',
    '--cert-san',
    '127.0.0.1',
    // Several suites run at once: none may hold the default metrics port.
    '--metrics-port',
    '0',
    ...(opts.extraArgs ?? []),
  ];
  // E2E_SERVER_NODE_ARGS: node flags for the server only (e.g. --cpu-prof while investigating a bench).
  const nodeArgs = process.env.E2E_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VINEYARD_WEBHOOK_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info' },
  });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString('utf8')).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = () =>
    new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const until = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`vineyard-webhook exited with ${child.exitCode}:\n${out.slice(-4000)}`);
    if ((await getStatus(opts.port, '/readyz')) === 200) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(
        `vineyard-webhook not ready after ${(opts.readyTimeoutMs ?? 60_000) / 1000}s:\n${out.slice(-4000)}`,
      );
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return { port: opts.port, url: `https://127.0.0.1:${opts.port}`, output: () => out, stop };
}
