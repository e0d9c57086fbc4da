// The README and docs/ are part of the product: every flag, endpoint, label,
// annotation and metric the code knows is documented, in tables that are the
// code's own; the CLI examples are what the commands print; every relative
// link resolves, to a file and a heading; every page is reachable from the
// README, and every long page starts with its contents.
import t, { type Test } from 'tap';
import http from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { pino } from 'pino';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { envName, parseServeArgs, serveFlags } from '../src/config.js';
import { explainPodFlags, runExplainCommand } from '../src/cli/explain/command.js';
import { explainPod } from '../src/cli/explain/explain-pod.js';
import { clusterPodWebhooks } from '../src/cli/explain/webhook-configuration.js';
import { mutateFlags, runMutateCommand } from '../src/cli/mutate/command.js';
import { endpoints } from '../src/endpoints/table.js';
import { startServer } from '../src/serve.js';
import { LATENCY_BUCKETS } from '../src/server/metrics.js';
import { UsageError, type Flag } from '../src/flags.js';
import * as names from '../src/vineyard/names.js';
import { kustomize } from './helpers/kustomize.js';
import { freePort } from './helpers/free-port.js';

const ROOT = new URL('../', import.meta.url).pathname;
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
/** README.md and every docs/*.md, by path from the repository's root. */
const pages = new Map<string, string>([
  ['README.md', read('README.md')],
  ...readdirSync(join(ROOT, 'docs'))
    .filter(f => f.endsWith('.md'))
    .sort()
    .map(f => [`docs/${f}`, read(`docs/${f}`)] as [string, string]),
]);
const page = (rel: string): string => {
  const text = pages.get(rel);
  if (text === undefined) t.fail(`${rel} exists`);
  return text ?? '';
};
const everything = [...pages.values()].join('\n');

t.test('the pages are there', async t => {
  for (const p of [
    'docs/install.md',
    'docs/migrate.md',
    'docs/reference.md',
    'docs/troubleshooting.md',
    'docs/webhooks.md',
    'docs/cli.md',
    'docs/workflow.md',
  ])
    t.ok(pages.has(p), p);
  t.ok(page('README.md').split('\n').length < 150, 'the README is an overview');
});

/** Lines outside fenced code blocks. */
const prose = (text: string): string[] => {
  let fence = false;
  return text.split('\n').filter(l => {
    if (l.startsWith('```')) {
      fence = !fence;
      return false;
    }
    return !fence;
  });
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2... */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const l of prose(text)) {
    const m = /^#{1,6} (.*)$/.exec(l);
    if (!m) continue;
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative links of a page: [text](target), outside code. */
const links = (text: string): string[] =>
  prose(text)
    .flatMap(l => [...l.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]!))
    .filter(l => !/^[a-z]+:/.test(l));

t.test('every relative link resolves: to a file, and to a heading there', async t => {
  let count = 0;
  for (const [from, text] of pages) {
    for (const link of links(text)) {
      count++;
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? normalize(join(dirname(from), path)) : from;
      t.ok(existsSync(join(ROOT, target)), `${from}: ${link}: ${target} exists`);
      if (anchor === undefined) continue;
      const heads = anchors(pages.get(target) ?? read(target));
      t.ok(heads.has(anchor), `${from}: ${link}: ${target} has a heading #${anchor}`);
    }
  }
  t.ok(count > 30, `found the links (${count})`);
});

t.test('every page is reachable from the README', async t => {
  const reached = new Set(['README.md']);
  const queue = ['README.md'];
  while (queue.length) {
    const from = queue.shift()!;
    for (const link of links(pages.get(from) ?? '')) {
      const path = link.split('#')[0];
      if (!path?.endsWith('.md')) continue;
      const target = normalize(join(dirname(from), path));
      if (!reached.has(target) && pages.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  for (const p of pages.keys()) t.ok(reached.has(p), `${p} is linked from the README or a page it links`);
  t.ok(links(page('README.md')).includes('docs/workflow.md'), 'the README links the workflow walkthrough');
  t.ok(links(page('docs/webhooks.md')).includes('workflow.md'), 'and so do the scheduling docs');
});

t.test('every long page starts with its contents, linking each section', async t => {
  for (const [p, text] of pages) {
    if (p === 'README.md' || text.split('\n').length < 80) continue;
    const own = new Set(
      links(text)
        .filter(l => l.startsWith('#'))
        .map(l => l.slice(1)),
    );
    const sections = prose(text).filter(l => l.startsWith('## '));
    t.ok(sections.length > 0, `${p} has sections`);
    const heads = [...anchors(sections.join('\n'))];
    for (const h of heads) t.ok(own.has(h), `${p}: its contents link #${h}`);
    t.ok(text.indexOf('Contents:') < text.indexOf('\n## '), `${p}: the contents come before the first section`);
  }
});

t.test('every serve flag is documented', async t => {
  t.ok(serveFlags.length > 10, 'found the flags');
  for (const f of serveFlags) t.ok(page('docs/reference.md').includes(`--${f.name}`), `--${f.name}`);
});

t.test("every webhook path: in the endpoint table of docs/webhooks.md, and in the README's list", async t => {
  t.ok(endpoints.length > 0, 'found the endpoints');
  const documented = tableAfter('docs/webhooks.md', '## Endpoints')
    .flatMap(r => [...r[0]!.matchAll(/`POST (\S+)`/g)].map(m => m[1]!))
    .sort();
  t.same(documented, endpoints.map(e => e.path).sort(), 'the table lists exactly the endpoints');
  const readmeRow = tableAfter('README.md', '## Endpoints')
    .map(r => r.join(' '))
    .join('\n');
  for (const e of endpoints) {
    const cr = /^\/(?:mutate|validate)-k8s-v6d-io-v1alpha1-(\w+)$/.exec(e.path);
    t.ok(readmeRow.includes(`\`POST ${e.path}\``) || (cr && readmeRow.includes(`\`${cr[1]}\``)), `README: ${e.path}`);
  }
});

const keys = Object.entries(names)
  .filter(([k, v]) => typeof v === 'string' && /_(LABEL|ANNOTATION)$/.test(k))
  .map(([, v]) => v as string)
  .filter(v => !v.startsWith('app.kubernetes.io/') || v === names.VINEYARDD_INSTANCE_LABEL);

t.test('every label and annotation key: in the index of docs/reference.md, and explained where it is used', async t => {
  t.ok(keys.length > 20, 'found the keys');
  const index = tableAfter('docs/reference.md', '## Labels and annotations')
    .map(r => r[0]!)
    .join(' ');
  const explained = [...pages]
    .filter(([p]) => p !== 'docs/reference.md')
    .map(([, text]) => text)
    .join('\n');
  for (const k of keys) {
    t.ok(index.includes(`\`${k}\``) || index.includes(`\`${k}=`), `index: ${k}`);
    t.ok(explained.includes(k), `explained: ${k}`);
  }
});

t.test('the sample reviews the docs send with curl exist', async t => {
  const samples = [...everything.matchAll(/--data @(\S+)/g)];
  t.ok(samples.length > 0, 'the docs send at least one sample review');
  for (const m of samples) {
    t.doesNotThrow(() => JSON.parse(read(m[1]!)), m[1]!);
  }
});

/** The rows of the first table after `heading` in `rel`, each a list of cells (`\|` kept as `|`). */
function tableAfter(rel: string, heading: string): string[][] {
  const text = page(rel);
  const at = text.indexOf(`\n${heading}\n`);
  t.ok(at >= 0, `${rel} has ${heading}`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex(l => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map(c => c.trim().replace(/\\\|/g, '|')),
    );
  }
  t.ok(rows.length > 0, `${rel}: ${heading} has a table`);
  return rows;
}

t.test('the Flags table is serve --help: every flag, its variable, default and meaning', async t => {
  const rows = tableAfter('docs/reference.md', '## Flags');
  const expected = serveFlags
    .filter(f => !f.noEnv)
    .map(f => [
      `\`--${f.name}${f.arg ? ` ${f.arg}` : ''}\``,
      `\`${envName(f.name)}\``,
      f.def ? `\`${f.def}\`` : '',
      f.help,
    ]);
  t.same(rows, expected);
});

/** `-f, --filename FILE|DIR|-`, as the CLI tables write a flag. */
const flagCell = (f: Flag) => `\`${f.short ? `-${f.short}, ` : ''}--${f.name}${f.arg ? ` ${f.arg}` : ''}\``;

t.test("the mutate and explain flag tables are the commands' flags", async t => {
  const withoutHelp = (flags: readonly Flag[]) => flags.filter(f => f.name !== 'help').map(flagCell);
  const mutateRows = tableAfter('docs/cli.md', '## Preview offline: `vineyard-webhook mutate`').map(r => r[0]!);
  t.same([...mutateRows].sort(), withoutHelp(mutateFlags).sort(), 'mutate');
  const explainTable = page('docs/cli.md').slice(page('docs/cli.md').indexOf('## Explain a pod in a cluster'));
  const rows = explainTable
    .split('\n')
    .filter(l => l.startsWith('| `-'))
    .map(l => l.split(/(?<!\\)\|/)[1]!.trim());
  t.same(rows, withoutHelp(explainPodFlags), 'explain pod/NAME');
  for (const f of explainPodFlags.filter(x => x.def))
    t.ok(explainTable.includes(`| \`${f.def}\` |`), `explain: --${f.name}'s default ${f.def}`);
});

t.test('the Metrics table is what /metrics serves: every metric of ours, with its labels and buckets', async t => {
  const { Metrics } = await import('../src/server/metrics.js');
  const registry = new Metrics(false).registry;
  const actual = registry
    .getMetricsAsArray()
    .map(m => [m.name, [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])].sort()] as const);
  t.ok(actual.length > 10, 'found the metrics');
  const table = tableAfter('docs/reference.md', '## Metrics');
  const rows = table.map(
    ([name, labels]) =>
      [
        name!.replace(/`/g, ''),
        labels === '-'
          ? []
          : labels!
              .replace(/\([^)]*\)/g, '')
              .split(',')
              .map(l => l.trim())
              .filter(Boolean)
              .sort(),
      ] as const,
  );
  t.same(new Map(rows), new Map(actual), 'names and label names');
  t.same(
    rows.map(r => r[0]),
    actual.map(a => a[0]),
    'in the order they are declared',
  );
  const latency = table.find(r => r[0] === '`vineyard_webhook_request_duration_seconds`')!.join(' ');
  t.match(
    latency,
    `buckets ${LATENCY_BUCKETS[0]! * 1000} ms ... ${LATENCY_BUCKETS.at(-1)} s`,
    'the buckets the table states',
  );

  // A scrape of a running server: what Prometheus sees is what the table lists.
  const dir = await mkdtemp(join(tmpdir(), 'vw-docs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const metricsPort = await freePort();
  const cfg = {
    ...parseServeArgs(
      [
        '--standalone',
        '--cert-dir',
        dir,
        '--host',
        '127.0.0.1',
        '--metrics-port',
        String(metricsPort),
        '--shutdown-timeout',
        '5s',
      ],
      {},
    ),
    port: 0,
  };
  const running = await startServer(cfg, pino({ level: 'silent' }));
  t.teardown(() => running.shutdown());
  // The plain-HTTP port, as Prometheus scrapes it.
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent: false }, res => {
        let b = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => {
            b += d;
          })
          .on('end', () => resolve(b));
      })
      .once('error', reject);
  });
  const scraped = [...body.matchAll(/^# TYPE (vineyard_webhook_\w+) /gm)].map(m => m[1]!);
  t.ok(scraped.length > 10, 'the scrape has our metrics');
  t.same(scraped.sort(), rows.map(r => r[0]).sort(), "the scrape's metric families are the table's");
});

/** One shown line: `...` stands for elided text; the parts must appear in order, the first at the start. */
function shows(actual: string, shown: string): boolean {
  const parts = shown
    .split('...')
    .map((p, i, all) => (i < all.length - 1 ? p.replace(/[,;(]\s*$/, '') : p))
    .filter(p => p.trim());
  if (!parts.length) return true;
  if (!actual.startsWith(parts[0]!)) return false;
  let at = parts[0]!.length;
  for (const p of parts.slice(1)) {
    const i = actual.indexOf(p.trim(), at);
    if (i < 0) return false;
    at = i + p.trim().length;
  }
  return true;
}

/** Every shown line is an output line, in order. */
function showsAll(t: Test, output: string[], shown: string[], what: string): void {
  let at = 0;
  for (const line of shown) {
    if (!line.trim() || line.trim() === '...') continue;
    const i = output.findIndex((o, n) => n >= at && shows(o, line));
    t.ok(i >= 0, `${what}: prints ${JSON.stringify(line.slice(0, 100))}`);
    if (i >= 0) at = i + 1;
  }
}

/** The fenced blocks of a page, as lists of lines. */
const blocks = (text: string): string[][] => {
  const out: string[][] = [];
  let cur: string[] | undefined;
  for (const l of text.split('\n')) {
    if (l.startsWith('```')) {
      if (cur) {
        out.push(cur);
        cur = undefined;
      } else cur = [];
      continue;
    }
    cur?.push(l);
  }
  return out;
};

/** The files the examples name, as test fixtures: the Vineyard docs' own manifests. */
const EXAMPLE_FILES: Record<string, string> = {
  'job-deployment.yaml': 'test/fixtures/mutate/seed-default-sidecar/input.yaml',
  'custom-sidecar.yaml': 'test/fixtures/mutate/seed-custom-sidecar/input.yaml',
};

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdin: Readable.from([]),
    stdout: {
      write: (s: string) => {
        stdout += s;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
      },
    },
  };
  const [command, ...args] = argv;
  try {
    const code = command === 'explain' ? await runExplainCommand(args, io) : await runMutateCommand(args, io);
    return { code, stdout, stderr };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { code: 2, stdout, stderr: stderr + e.message };
  }
}

t.test('the CLI examples of docs/cli.md are what the commands print', async t => {
  const cli = page('docs/cli.md');
  const examples = blocks(cli).filter(b => /^\$ vineyard-webhook (mutate|explain -f)/.test(b[0] ?? ''));
  t.ok(examples.length >= 3, `found the examples (${examples.length})`);
  for (const [command, ...shown] of examples) {
    const argv = command!
      .replace(/^\$ vineyard-webhook /, '')
      .split(/\s+/)
      .map(a => (EXAMPLE_FILES[a] ? join(ROOT, EXAMPLE_FILES[a]) : a));
    t.ok(
      argv.some(a => a.startsWith(ROOT)),
      `${command}: the file it names is a fixture`,
    );
    const r = await run(argv);
    t.equal(r.code, 0, `${command}: exit 0 (${r.stderr})`);
    const yamlOut = !argv.includes('--diff') && argv[0] === 'mutate';
    if (yamlOut) {
      t.same(
        parseAllDocuments(shown.join('\n')).map(d => d.toJSON()),
        parseAllDocuments(r.stdout).map(d => d.toJSON()),
        `${command}: the manifest shown is stdout`,
      );
    } else {
      showsAll(t, [...r.stderr.split('\n'), ...r.stdout.split('\n')], shown, command!);
    }
  }

  // Output shown without its command (a report, a warning, an error) is a
  // fixture's reviewed stderr, which test/mutate-cli.test.ts checks against the command.
  const reports = readdirSync(join(ROOT, 'test/fixtures/mutate')).flatMap(d => {
    const f = join(ROOT, 'test/fixtures/mutate', d, 'expected-report.txt');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n') : [];
  });
  const quoted = blocks(cli.slice(0, cli.indexOf('## Explain a pod in a cluster'))).filter(b =>
    /^(deployment\/|Warning: |error: )/.test(b[0] ?? ''),
  );
  t.ok(quoted.length >= 3, `found the quoted reports (${quoted.length})`);
  for (const b of quoted)
    for (const line of b)
      t.ok(
        reports.some(r => shows(r, line)),
        `a fixture's report has ${JSON.stringify(line.slice(0, 100))}`,
      );
});

t.test('the explain pod/NAME example of docs/cli.md is what explain prints for such a pod', async t => {
  const cli = page('docs/cli.md');
  const [command, ...shown] = blocks(cli).find(b => (b[0] ?? '').startsWith('$ vineyard-webhook explain pod/'))!;
  const m = /explain pod\/(\S+) -n (\S+)/.exec(command!)!;
  const [, name, namespace] = m as unknown as [string, string, string];
  const owner = /controlled by replicaset\/(\S+)\)/.exec(shown[0]!)![1]!;
  const config = kustomize(join(ROOT, 'deploy')).find(
    o => o.kind === 'MutatingWebhookConfiguration',
  ) as unknown as V1MutatingWebhookConfiguration;
  // As the cluster stores it once the server has injected its CA.
  for (const w of config.webhooks ?? []) w.clientConfig.caBundle = 'Q0E=';
  const text = await explainPod(
    {
      namespace,
      name,
      configurationName: 'vineyard-webhook',
      configuration: clusterPodWebhooks(config),
      otherConfigurations: [],
      namespaceLabels: { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' },
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: { app: 'etl', [names.SIDECAR_ENABLED_LABEL]: 'true' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'u', controller: true }],
        },
        spec: { containers: [{ name: 'etl', image: 'etl', command: ['python3', '/etl.py'] }] },
      },
    },
    { store: new MemoryStore(), config: defaultPipelineConfig },
  );
  const out = text.trimEnd().split('\n');
  t.equal(out.length, shown.length, 'as many lines as shown');
  showsAll(t, out, shown, command!);
});

t.test('sections are linked, not named in quotes (which break when they move)', async t => {
  for (const [p, text] of pages) t.notMatch(text, /see "[A-Z][^"]+"/, `${p}: sections are linked, not quoted`);
});
