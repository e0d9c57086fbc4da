// The CLI as a user runs it: --help, flag validation, and a standalone
// server that answers a review and exits 0 on SIGTERM.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { serveFlags, envName, parseServeArgs } from '../src/config.js';
import { h1, podReview } from './helpers/server.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

t.test('serve --help lists every flag and its env var', async t => {
  const r = run(['serve', '--help']);
  t.equal(r.status, 0);
  for (const f of serveFlags) {
    t.match(r.stdout, `--${f.name}`, `mentions --${f.name}`);
    if (f.noEnv) t.notMatch(r.stdout, envName(f.name), `no ${envName(f.name)}`);
    else t.match(r.stdout, envName(f.name), `mentions ${envName(f.name)}`);
  }
});

t.test('invalid flags and values exit non-zero naming the flag', async t => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['serve', '--port', 'abc'], {}, /--port/],
    [['serve', '--port', '70000'], {}, /--port/],
    [['serve', '--bogus'], {}, /--bogus/],
    [['serve', '--cert-mode', 'magic'], {}, /--cert-mode: "magic" is not one of self, files, secret/],
    [['serve', '--body-limit', 'lots'], {}, /--body-limit/],
    [['serve', '--cert-san', 'Not A Name'], {}, /--cert-san/],
    [['serve', '--tls-cert-file', '/x.crt'], {}, /--tls-key-file/],
    [['serve', '--log-level', 'loud'], {}, /--log-level/],
    [['serve', '--sidecar-mode', 'magic'], {}, /--sidecar-mode/],
    [['serve', '--ca-validity', '1year'], {}, /--ca-validity/],
    [['serve'], { VINEYARD_WEBHOOK_PORT: 'abc' }, /--port/],
    [['serve'], { VINEYARD_WEBHOOK_STANDALONE: 'maybe' }, /VINEYARD_WEBHOOK_STANDALONE/],
    [['frobnicate'], {}, /unknown command "frobnicate"/],
  ];
  for (const [args, env, message] of cases) {
    const r = run(args, env);
    t.equal(r.status, 2, `${args.join(' ')} exits 2`);
    t.match(r.stderr, message, `${args.join(' ')} names the problem`);
  }
});

t.test('flags win over env vars; env vars over defaults', async t => {
  t.equal(parseServeArgs([], {}).port, 9443);
  t.equal(parseServeArgs([], { VINEYARD_WEBHOOK_PORT: '8443' }).port, 8443);
  t.equal(parseServeArgs(['--port', '7443'], { VINEYARD_WEBHOOK_PORT: '8443' }).port, 7443);
  t.same(parseServeArgs(['--cert-san', 'a.example', '--cert-san', '10.0.0.1'], {}).certSans, ['a.example', '10.0.0.1']);
  t.same(parseServeArgs([], { VINEYARD_WEBHOOK_CERT_SAN: 'a.example, 10.0.0.1' }).certSans, ['a.example', '10.0.0.1']);
  t.equal(parseServeArgs([], {}).bodyLimit, 4 * 1024 * 1024);
  t.equal(parseServeArgs([], { VINEYARD_WEBHOOK_HELP: 'true' }).help, false, 'a stray VINEYARD_WEBHOOK_HELP never turns a server into a help page');
  t.equal(parseServeArgs(['--help'], {}).help, true);
});

t.test('standalone: serves a review over TLS, reuses its certificates, exits 0 on SIGTERM', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-cli-'));
  const start = async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--standalone', '--host', '127.0.0.1', '--port', '0', '--cert-dir', dir, '--resources', new URL('fixtures/resources', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: any[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const j = JSON.parse(l);
        lines.push(j);
        if (j.msg === 'vineyard-webhook listening') resolve(j.port);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    return { child, port, lines };
  };
  const first = await start();
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const r = await h1({ port: first.port, ca }, 'POST', '/mutate-v1-pod-sidecar', podReview({
    metadata: { generateName: 'w-', labels: { app: 'job-deployment-with-custom-sidecar', 'sidecar.v6d.io/enabled': 'true' }, annotations: { 'sidecar.v6d.io/name': 'sidecar-sample' } },
    spec: { containers: [{ name: 'job', image: 'x', command: ['/bin/sh', '-c', 'python3 /job.py'] }] },
  }, { namespace: 'vineyard-job' }));
  t.equal(r.json().response.patchType, 'JSONPatch', 'the sample Sidecar from --resources is injected');
  const exit = new Promise<number | null>(res => first.child.once('exit', res));
  first.child.kill('SIGTERM');
  t.equal(await exit, 0, 'exits 0 on SIGTERM');
  t.ok(first.lines.some(l => l.msg === 'review' && l.decision === 'patched' && l.uid && !('object' in l)), 'one log line per review, without the object');
  t.ok(first.lines.some(l => l.msg === 'self-managed certificates' && l.reused === false));

  const second = await start();
  t.ok(second.lines.some(l => l.msg === 'self-managed certificates' && l.reused === true), 'certificates are reused on the next start');
  t.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca);
  const exit2 = new Promise<number | null>(res => second.child.once('exit', res));
  second.child.kill('SIGTERM');
  t.equal(await exit2, 0);
});

t.test('without any cluster configuration the server says so and runs standalone', async t => {
  const home = mkdtempSync(join(tmpdir(), 'vw-home-'));
  const env: Record<string, string> = { ...process.env as Record<string, string>, HOME: home };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--cert-dir', join(home, 'certs')], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: any[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const j = JSON.parse(l);
      lines.push(j);
      if (j.msg === 'vineyard-webhook listening') resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
  t.ok(lines.some(l => /no cluster configuration found/.test(l.msg) && l.level === 40), 'a warning says why it runs standalone');
  t.ok(lines.some(l => l.msg === 'vineyard-webhook listening' && l.mode === 'standalone'));
  const exit = new Promise<number | null>(res => child.once('exit', res));
  child.kill('SIGTERM');
  t.equal(await exit, 0);
});
