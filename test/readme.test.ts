// The README is part of the product: every flag, endpoint, label and
// annotation the code knows must be documented there.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { envName, serveFlags } from '../src/config.js';
import { endpoints } from '../src/endpoints/table.js';
import * as names from '../src/vineyard/names.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

t.test('every serve flag is documented', async t => {
  t.ok(serveFlags.length > 10, 'found the flags');
  for (const f of serveFlags) t.ok(readme.includes(`--${f.name}`), `--${f.name}`);
});

t.test('every webhook path is documented', async t => {
  t.ok(endpoints.length > 0, 'found the endpoints');
  for (const e of endpoints) t.ok(readme.includes(e.path), e.path);
});

t.test('every label and annotation key is documented', async t => {
  const keys = Object.entries(names)
    .filter(([k, v]) => typeof v === 'string' && /_(LABEL|ANNOTATION)$/.test(k))
    .map(([, v]) => v as string)
    .filter(v => !v.startsWith('app.kubernetes.io/') || v === names.VINEYARDD_INSTANCE_LABEL);
  t.ok(keys.length > 20, 'found the keys');
  for (const k of keys) t.ok(readme.includes(k), k);
});

t.test('the sample reviews the README sends with curl exist', async t => {
  const samples = [...readme.matchAll(/--data @(\S+)/g)];
  t.ok(samples.length > 0, 'the README sends at least one sample review');
  for (const m of samples) {
    t.doesNotThrow(() => JSON.parse(readFileSync(new URL(`../${m[1]}`, import.meta.url), "utf8")), m[1]!);
  }
});

/** The rows of the first table after `heading`, each a list of cells (`\|` kept as `|`). */
function tableAfter(heading: string): string[][] {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  t.ok(section.length < readme.length, `the README has ${heading}`);
  const lines = section.split('\n');
  const start = lines.findIndex(l => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split(/(?<!\\)\|/).map(c => c.trim().replace(/\\\|/g, '|')));
  }
  return rows;
}

t.test('the Flags table is serve --help: every flag, its variable, default and meaning', async t => {
  const rows = tableAfter('## Flags');
  const expected = serveFlags.filter(f => !f.noEnv).map(f => [
    `\`--${f.name}${f.arg ? ` ${f.arg}` : ''}\``,
    `\`${envName(f.name)}\``,
    f.def ? `\`${f.def}\`` : '',
    f.help,
  ]);
  t.same(rows, expected);
});

t.test('the Metrics table is the registry: every metric of ours, with its labels', async t => {
  const { Metrics } = await import('../src/server/metrics.js');
  const registry = new Metrics(false).registry;
  const actual = registry.getMetricsAsArray().map(m => [m.name, [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])].sort()] as const);
  t.ok(actual.length > 10, 'found the metrics');
  const rows = tableAfter('## Metrics').map(([name, labels]) => [
    name!.replace(/`/g, ''),
    labels === '-' ? [] : labels!.replace(/\([^)]*\)/g, '').split(',').map(l => l.trim()).filter(Boolean).sort(),
  ] as const);
  t.same(new Map(rows), new Map(actual), 'names and label names');
  t.same(rows.map(r => r[0]), actual.map(a => a[0]), 'in the order they are declared');
});
