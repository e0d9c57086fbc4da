// The container image, checked from its recipe (no Docker engine runs here):
// a pinned Node 24 base, production dependencies only, a numeric non-root
// user, the built CLI as an exec-form entrypoint, and a build context that
// cannot carry secrets.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerignored, execForm, parseCopy, parseImageRef, parseStages, type Stage } from './helpers/dockerfile.js';

const ROOT = new URL('../', import.meta.url).pathname;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};
const stages = parseStages(dockerfile);
const runtime = stages.at(-1)!;
const runs = (s: Stage) => s.instructions.filter(i => i.keyword === 'RUN').map(i => i.args);
const copies = (s: Stage) => s.instructions.filter(i => i.keyword === 'COPY').map(i => parseCopy(i.args));
const stageNamed = (name: string | undefined) => stages.find(s => s.name === name);
/** The stage whose `dir` the runtime stage copies. */
const copiedFrom = (dir: string) => {
  const c = copies(runtime).find(x => x.from && x.sources.some(s => s.endsWith(`/${dir}`)));
  return c && stageNamed(c.from);
};

t.test('every base image is Node 24 pinned to the release package.json pins', async t => {
  const pinned = /^\D*(\d+\.\d+\.\d+)$/.exec(pkg.devDependencies.node ?? '')?.[1];
  t.ok(pinned, 'package.json pins node');
  t.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) {
    const ref = parseImageRef(s.image);
    t.equal(ref.repository, 'node', `${s.name}: the official Node image`);
    t.not(ref.tag, 'latest', `${s.name}: not latest`);
    t.match(ref.tag ?? '', /^\d+\.\d+\.\d+-/, `${s.name}: a full version tag (${ref.tag})`);
    t.equal(ref.tag?.split('-')[0], pinned, `${s.name}: the Node release the tests run on`);
    t.equal(ref.tag?.split(/[.-]/)[0], '24', `${s.name}: Node 24`);
  }
});

t.test('the build stage builds; the runtime gets production dependencies only', async t => {
  const build = copiedFrom('dist');
  t.ok(build, 'dist comes from a build stage');
  t.ok(
    runs(build!).some(r => /\bnpm ci\b/.test(r)),
    'the build stage installs from the lock file',
  );
  t.ok(
    runs(build!).some(r => /\bnpm run build\b/.test(r)),
    'and builds',
  );
  const deps = copiedFrom('node_modules');
  t.ok(deps, 'node_modules comes from a stage of its own');
  t.ok(
    runs(deps!).some(r => /\bnpm ci\b.*--omit=dev\b/.test(r)),
    'installed with npm ci --omit=dev',
  );
  t.notOk(
    runs(deps!).some(r => /\bnpm (ci|install)\b/.test(r) && !/--omit=dev\b/.test(r)),
    'and nothing else',
  );
  t.same(runs(runtime), [], 'the runtime stage runs nothing: no shell needed, the base can be distroless');
  for (const c of copies(runtime)) {
    t.notOk(
      c.sources.some(s => /(^|\/)src$|\.ts$/.test(s)),
      `${c.sources.join(' ')}: no sources in the runtime image`,
    );
  }
});

t.test('the runtime runs as a numeric non-root user', async t => {
  const users = runtime.instructions.filter(i => i.keyword === 'USER');
  t.equal(users.length, 1, 'one USER in the runtime stage');
  const [uid, gid] = users[0]!.args.trim().split(':');
  t.match(uid, /^\d+$/, 'numeric, so runAsNonRoot can verify it');
  t.not(Number(uid), 0, 'not root');
  if (gid !== undefined) t.not(Number(gid), 0, 'not the root group');
});

t.test('the entrypoint is the built CLI in exec form', async t => {
  const entry = runtime.instructions.filter(i => i.keyword === 'ENTRYPOINT');
  t.equal(entry.length, 1);
  const argv = execForm(entry[0]!.args);
  t.same(
    argv,
    ['node', '--no-maglev', pkg.bin['vineyard-webhook']!.replace(/^\.\//, ''), 'serve'],
    'node --no-maglev dist/cli.js serve, no shell',
  );
  const r = spawnSync(process.execPath, [...(argv ?? []).slice(1, -2), '-e', '0'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.equal(r.status, 0, `node accepts the entrypoint's flags: ${r.stderr}`);
  t.notOk(
    runtime.instructions.some(i => i.keyword === 'CMD'),
    'no CMD: the Deployment passes flags as args',
  );
  const workdir = runtime.instructions
    .filter(i => i.keyword === 'WORKDIR')
    .at(-1)
    ?.args.trim();
  t.ok(
    copies(runtime).some(c => c.dest.replace(/^\.\//, `${workdir}/`).replace(/\/$/, '') === `${workdir}/dist`),
    'dist is copied where the entrypoint looks',
  );
  t.ok(
    copies(runtime).some(c => c.sources.includes('package.json')),
    'package.json ("type": "module") is next to dist',
  );
});

t.test('EXPOSE documents the ports serve listens on by default', async t => {
  const { serveFlags } = await import('../src/config.js');
  const exposed = runtime.instructions
    .filter(i => i.keyword === 'EXPOSE')
    .flatMap(i => i.args.trim().split(/\s+/))
    .map(p => p.replace(/\/tcp$/, ''));
  for (const name of ['port', 'metrics-port']) {
    const def = serveFlags.find(f => f.name === name)?.def;
    t.ok(def, `--${name} has a default`);
    t.ok(exposed.includes(def!), `--${name}'s default ${def} is exposed (${exposed.join(' ')})`);
  }
});

t.test('.dockerignore: the context holds what the build copies and nothing else', async t => {
  const needed = stages.flatMap(s =>
    copies(s)
      .filter(c => !c.from)
      .flatMap(c => c.sources),
  );
  t.ok(needed.length > 0);
  for (const path of needed) t.notOk(dockerignored(dockerignore, path), `${path} is in the context`);
  for (const path of ['src/cli.ts', 'src/vineyard/names.ts'])
    t.notOk(dockerignored(dockerignore, path), `${path} is in the context`);
  for (const path of [
    '.certs/ca.key',
    '.certs/tls.key',
    'node_modules/fastify/package.json',
    'dist/cli.js',
    '.git/config',
    '.tap/processinfo/x.json',
    'test/deploy.test.ts',
    'deploy/deployment.yaml',
    '.env',
  ]) {
    t.ok(dockerignored(dockerignore, path), `${path} is left out`);
  }
});

t.test("the .dockerignore reader follows Docker's rules", async t => {
  t.ok(dockerignored('node_modules', 'node_modules/a/b.js'), 'a directory pattern covers its contents');
  t.notOk(dockerignored('*\n!src', 'src/a/b.ts'), 'a later exception re-includes');
  t.ok(dockerignored('!src\n*', 'src/a.ts'), 'the last matching pattern wins');
  t.ok(dockerignored('**/*.key', 'a/b/c.key'), '** spans directories');
  t.notOk(dockerignored('*.key', 'a/c.key'), '* stays within a directory');
});
