// The CLI as a user runs it: --help, flag validation, and a standalone
// server that answers a review and exits 0 on SIGTERM.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { serveFlags, envName, parseServeArgs } from '../src/config.js';
import { FIXTURE_RESOURCES, h1, sampleSidecarPodReview } from './helpers/server.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

t.test('serve --help lists every flag and its env var', async t => {
  const r = run(['serve', '--help']);
  t.equal(r.status, 0);
  for (const f of serveFlags) {
    t.match(r.stdout, `--${f.name}`, `mentions --${f.name}`);
    if (f.noEnv) t.notMatch(r.stdout, envName(f.name), `no ${envName(f.name)}`);
    else t.match(r.stdout, envName(f.name), `mentions ${envName(f.name)}`);
  }
});

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  engines: { node: string };
};

t.test('--version and version print the version of package.json and Node', async t => {
  for (const args of [['--version'], ['version']]) {
    const r = run(args);
    t.equal(r.status, 0, `${args.join(' ')} exits 0`);
    t.equal(r.stdout, `vineyard-webhook ${VERSION.version} (Node.js ${process.version})\n`, args.join(' '));
  }
  t.equal(run(['version', '--bogus']).status, 2, 'version refuses an unknown flag');
});

t.test('-h, --help and help <command> on every command, all alike', async t => {
  const top = run(['--help']);
  t.equal(top.status, 0);
  t.match(top.stdout, /^Usage: vineyard-webhook <command>/);
  for (const c of ['serve', 'mutate', 'explain', 'version'])
    t.match(top.stdout, new RegExp(`^  ${c} `, 'm'), `the overview names ${c}`);
  t.equal(run(['-h']).stdout, top.stdout, '-h');
  t.equal(run(['help']).stdout, top.stdout, 'help');
  for (const c of ['serve', 'mutate', 'version']) {
    const outputs = [
      [c, '-h'],
      [c, '--help'],
      ['help', c],
    ].map(args => {
      const r = run(args);
      t.equal(r.status, 0, `${args.join(' ')} exits 0: ${r.stderr}`);
      return r.stdout;
    });
    t.match(outputs[0], new RegExp(`^Usage: vineyard-webhook ${c}\\b`), `${c} -h is ${c}'s help`);
    t.equal(outputs[1], outputs[0], `${c} --help`);
    t.equal(outputs[2], outputs[0], `help ${c}`);
  }
  const bad = run(['serve', '--help'], { VINEYARD_WEBHOOK_PORT: 'abc' });
  t.equal(bad.status, 0, 'serve --help even with a bad variable in the environment');
  const unknown = run(['help', 'frobnicate']);
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"; the commands are serve, mutate, explain, version, help/);
  t.match(run(['serve', '-h']).stdout, /-h, --help/, 'serve --help shows -h');
});

t.test('durations: Go forms and days, everywhere a duration is taken', async t => {
  const cases: Array<[string, number]> = [
    ['1h30m', 90 * 60_000],
    ['720h0m0s', 720 * 3_600_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['365d', 365 * 86_400_000],
    ['2d12h', 60 * 3_600_000],
    ['1m0.5s', 60_500],
  ];
  for (const [text, ms] of cases) {
    const cfg = parseServeArgs(['--ca-validity', text, '--cert-validity', text, '--shutdown-timeout', text], {});
    t.same([cfg.caValidityMs, cfg.certValidityMs, cfg.shutdownTimeoutMs], [ms, ms, ms], text);
  }
  t.equal(
    parseServeArgs([], { VINEYARD_WEBHOOK_CERT_VALIDITY: '720h' }).certValidityMs,
    720 * 3_600_000,
    'from the environment too',
  );
  for (const text of ['1year', '10', '1h30', 'h', '-1h', '1 h', '1h 30m']) {
    t.throws(
      () => parseServeArgs([`--shutdown-timeout=${text}`], {}),
      {
        name: 'UsageError',
        message:
          /^--shutdown-timeout: .* is not a duration; write it as Go does \(90s, 15m, 1h30m, 720h0m0s, 500ms\) or in days \(30d\)/,
      },
      JSON.stringify(text),
    );
  }
  t.throws(() => parseServeArgs(['--ca-validity', '0s'], {}), {
    message: '--ca-validity: "0s" must be longer than zero',
  });
});

t.test('a Node.js older than 24 is refused, naming the version found', async t => {
  const required = Number(/^>=(\d+)$/.exec(VERSION.engines.node)?.[1]);
  t.match(
    readFileSync(new URL('../src/cli.ts', import.meta.url), 'utf8'),
    `const REQUIRED_MAJOR = ${required};`,
    "cli.ts checks the major version of package.json's engines",
  );
  const candidates = [
    ...new Set(
      [
        '/usr/bin/node',
        '/usr/local/bin/node',
        ...(spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout ?? '').split('\n'),
      ].filter(Boolean),
    ),
  ];
  const old = candidates
    .map(path => ({ path, version: spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '' }))
    .find(n => /^v\d+\./.test(n.version) && Number(n.version.slice(1).split('.')[0]) < required);
  if (!old) {
    await t.skip(
      `no Node.js older than ${required} on this machine (looked at ${candidates.join(', ')})`,
      async () => {},
    );
    return;
  }
  for (const args of [['serve', '--standalone'], ['--version'], ['mutate', '-f', '-']]) {
    const r = spawnSync(old.path, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
    t.equal(r.status, 1, `${old.path} ${args.join(' ')} exits 1`);
    t.equal(r.stdout, '', 'nothing on stdout');
    t.equal(
      r.stderr,
      `vineyard-webhook: Node.js ${required} or newer is required, found ${old.version.slice(1)} (${old.path}); install Node.js ${required}, or run the container image\n`,
      `names ${old.version}`,
    );
  }
});

t.test('invalid flags and values exit non-zero naming the flag', async t => {
  const badManifest = join(mkdtempSync(join(tmpdir(), 'vw-cli-')), 'bad.yaml');
  writeFileSync(badManifest, 'apiVersion: v1\nmetadata: {name: x}\n');
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
    [
      ['serve', '--standalone', '--resources', '/nonexistent/crs.yaml'],
      {},
      /^vineyard-webhook: --resources: cannot read \/nonexistent\/crs\.yaml: ENOENT/m,
    ],
    [
      ['serve', '--standalone', '--resources', badManifest],
      {},
      /^vineyard-webhook: --resources: .*bad\.yaml: document 1 has no kind: every object needs apiVersion and kind\n$/,
    ],
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
  t.equal(
    parseServeArgs([], { VINEYARD_WEBHOOK_HELP: 'true' }).help,
    false,
    'a stray VINEYARD_WEBHOOK_HELP never turns a server into a help page',
  );
  t.equal(parseServeArgs(['--help'], {}).help, true);
});

t.test('standalone: serves a review over TLS, reuses its certificates, exits 0 on SIGTERM', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-cli-'));
  const start = async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--standalone',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--metrics-port',
        '0',
        '--cert-dir',
        dir,
        '--resources',
        FIXTURE_RESOURCES,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: any[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', l => {
        const j = JSON.parse(l);
        lines.push(j);
        if (j.msg === 'vineyard-webhook listening') resolve(j.port);
      });
      child.once('exit', code => reject(new Error(`exited ${code}`)));
    });
    return { child, port, lines };
  };
  const first = await start();
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const r = await h1({ port: first.port, ca }, 'POST', '/mutate-v1-pod-sidecar', sampleSidecarPodReview());
  t.equal(r.json().response.patchType, 'JSONPatch', 'the sample Sidecar from --resources is injected');
  const exit = new Promise<number | null>(res => first.child.once('exit', res));
  first.child.kill('SIGTERM');
  t.equal(await exit, 0, 'exits 0 on SIGTERM');
  t.ok(
    first.lines.some(l => l.msg === 'review' && l.decision === 'patched' && l.uid && !('object' in l)),
    'one log line per review, without the object',
  );
  t.ok(first.lines.some(l => l.msg === 'self-managed certificates' && l.reused === false));

  const second = await start();
  t.ok(
    second.lines.some(l => l.msg === 'self-managed certificates' && l.reused === true),
    'certificates are reused on the next start',
  );
  t.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca);
  const exit2 = new Promise<number | null>(res => second.child.once('exit', res));
  second.child.kill('SIGTERM');
  t.equal(await exit2, 0);
});

t.test('without any cluster configuration the server says so and runs standalone', async t => {
  const home = mkdtempSync(join(tmpdir(), 'vw-home-'));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), HOME: home };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--cert-dir', join(home, 'certs')],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const lines: any[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', l => {
      const j = JSON.parse(l);
      lines.push(j);
      if (j.msg === 'vineyard-webhook listening') resolve();
    });
    child.once('exit', code => reject(new Error(`exited ${code}`)));
  });
  t.ok(
    lines.some(l => /no cluster configuration found/.test(l.msg) && l.level === 40),
    'a warning says why it runs standalone',
  );
  t.ok(lines.some(l => l.msg === 'vineyard-webhook listening' && l.mode === 'standalone'));
  const exit = new Promise<number | null>(res => child.once('exit', res));
  child.kill('SIGTERM');
  t.equal(await exit, 0);
});
