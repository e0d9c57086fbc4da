// Every production dependency is one the image must ship: something under
// src/ imports it. A package kept in "dependencies" but used only through
// another (sonic-boom through pino) would be installed twice, at a version
// nobody chose on purpose.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dependencies?: Record<string, string> }>;
};

const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
  .filter(f => f.endsWith('.ts'))
  .map(f => readFileSync(join(ROOT, 'src', f), 'utf8'));

/** Package names imported (statically or dynamically) by the sources. */
const imported = new Set(
  sources.flatMap(s =>
    [...s.matchAll(/(?:from\s+|import\s*\(\s*)'([^'.][^']*)'/g)].map(m => {
      const spec = m[1]!;
      return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    }),
  ),
);

t.test('every production dependency is imported by src/', async t => {
  const deps = Object.keys(pkg.dependencies);
  t.ok(deps.length > 3, 'found the dependencies');
  t.ok(imported.has('fastify'), 'the import scan finds imports');
  for (const d of deps) t.ok(imported.has(d), `${d} is imported by src/`);
});

t.test('package-lock.json lists the same direct dependencies as package.json', async t => {
  t.same(lock.packages['']?.dependencies, pkg.dependencies);
});
