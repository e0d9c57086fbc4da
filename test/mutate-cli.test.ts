// `vineyard-webhook mutate`, the offline twin of the webhook: it applies the
// pod webhooks deploy/ declares (same selectors, same order) through the
// server's own pipelines. Every pod fixture gives the server's answer through
// it; manifests of every kind (test/fixtures/mutate/<case>/: input.yaml,
// case.yaml with args, exit, stderr substrings, expected.yaml for stdout,
// expected-report.txt for the whole of stderr, expected-diff.txt for stdout
// with --diff) give the reviewed output; some cases also run the built dist/cli.js.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { V1MutatingWebhookConfiguration, V1Pod } from '@kubernetes/client-node';
import { UsageError } from '../src/flags.js';
import { runMutateCommand, mutateFlags } from '../src/cli/mutate/command.js';
import { mutateManifests } from '../src/cli/mutate/mutate-manifests.js';
import { admitPod } from '../src/cli/mutate/admit-pod.js';
import { namespaceLabels, POD_WEBHOOKS, reaches, selectorMatches } from '../src/cli/mutate/pod-webhooks.js';
import { getAt, podTemplatePath, type Json } from '../src/cli/mutate/pod-templates.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { podLabels } from '../src/endpoints/pod/pod-helpers.js';
import { endpoints } from '../src/endpoints/table.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { runPipeline } from '../src/admission/run.js';
import * as names from '../src/vineyard/names.js';
import { endpointByName, fixtureDirs, fixtureStore, loadFixture } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import { unifiedDiff } from '../src/cli/mutate/line-diff.js';
import { FakeApiServer } from './helpers/fake-apiserver.js';
import { writeFakeKubeconfig } from './helpers/kubeconfig.js';
import { kustomize } from './helpers/kustomize.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { selectorMatches as apiServerMatches, type LabelSelector } from './helpers/k8s-semantics.js';

const ROOT = new URL('../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const CASES = join(ROOT, 'test/fixtures/mutate');
const update = process.env.UPDATE_FIXTURES === '1';

const tmp = mkdtempSync(join(tmpdir(), 'vw-mutate-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

/** The command in-process, as cli.ts runs it (a UsageError is exit 2). */
async function mutate(args: string[], stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdin: Readable.from([Buffer.from(stdin)]),
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
  try {
    return { code: await runMutateCommand(args, io), stdout, stderr };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { code: 2, stdout, stderr: stderr + e.message };
  }
}

/** The built CLI, as a user runs it. */
function spawnCli(args: string[], input = ''): CliRun {
  const r = spawnSync(process.execPath, [CLI, 'mutate', ...args], { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const docsOf = (text: string) =>
  parseAllDocuments(text)
    .map(d => d.toJSON())
    .filter(v => v !== null);

/** The namespace labels under which the API server calls `hook` (its matchLabels). */
const enablingLabels = (path: string) => POD_WEBHOOKS.find(h => h.path === path)!.namespaceSelector?.matchLabels ?? {};

t.test('deploy/ declares exactly these pod webhooks, with these selectors, in this order', async t => {
  const config = kustomize(join(ROOT, 'deploy')).find(
    o => o.kind === 'MutatingWebhookConfiguration',
  ) as unknown as V1MutatingWebhookConfiguration;
  const declared = config
    .webhooks!.filter(h => h.rules?.some(r => r.resources?.includes('pods')))
    .map(h => ({
      name: h.name,
      path: h.clientConfig.service?.path,
      ...(h.namespaceSelector ? { namespaceSelector: h.namespaceSelector } : {}),
      ...(h.objectSelector ? { objectSelector: h.objectSelector } : {}),
      reinvocationPolicy: h.reinvocationPolicy,
    }));
  t.same(declared, POD_WEBHOOKS, 'src/cli/mutate/pod-webhooks.ts is deploy/mutating-webhook-configuration.yaml');
  t.same(
    [...new Set(POD_WEBHOOKS.map(h => h.path))].sort(),
    endpoints
      .filter(e => e.expects.kind === 'Pod')
      .map(e => e.path)
      .sort(),
    'a webhook for every pod endpoint',
  );
});

t.test('selectors are matched as the API server does', async t => {
  const keys = [
    ...new Set(
      POD_WEBHOOKS.flatMap(h => [h.namespaceSelector, h.objectSelector]).flatMap(s => [
        ...Object.keys(s?.matchLabels ?? {}),
        ...(s?.matchExpressions ?? []).map(e => e.key),
      ]),
    ),
    'app',
  ];
  const values = ['true', 'false', 'enabled', 'vineyard-system', 'kube-system', 'vineyard-job', ''];
  const labels = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values));
  fc.assert(
    fc.property(labels, l =>
      POD_WEBHOOKS.every(
        h =>
          selectorMatches(h.namespaceSelector, l) === apiServerMatches(h.namespaceSelector as LabelSelector, l) &&
          selectorMatches(h.objectSelector, l) === apiServerMatches(h.objectSelector as LabelSelector, l),
      ),
    ),
  );
  t.ok(
    reaches(POD_WEBHOOKS[0]!, namespaceLabels('jobs', { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' }), {
      [names.SIDECAR_ENABLED_LABEL]: 'true',
    }),
    'a labelled pod in a labelled namespace',
  );
  t.notOk(
    reaches(POD_WEBHOOKS[0]!, namespaceLabels('kube-system', { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' }), {
      [names.SIDECAR_ENABLED_LABEL]: 'true',
    }),
    'never in kube-system',
  );
});

t.test('every pod fixture: the CLI path gives the object the server path gives', async t => {
  for (const name of ['sidecar', 'operation', 'scheduling']) {
    const endpoint = endpointByName(name);
    // The scheduling path has two webhooks (vineyardd pods, workflow pods): a pod meets those that select it.
    const hooks = POD_WEBHOOKS.filter(h => h.path === endpoint.path);
    // Only this endpoint's webhook, in a namespace its selector accepts: the
    // fixture is about this endpoint, and the API server would call it for
    // the pod exactly when the pod matches the objectSelector.
    const enabling = enablingLabels(endpoint.path);
    t.test(name, async t => {
      let reachedCount = 0;
      for (const dir of fixtureDirs(name)) {
        const fx = loadFixture(endpoint, dir);
        const req = fx.review.request;
        if (req.operation !== 'CREATE' || req.dryRun) continue;
        const object = req.object as Json;
        const reaching = hooks.filter(hook =>
          reaches(hook, namespaceLabels(req.namespace!, enabling), podLabels(object as V1Pod)),
        );
        const reached = reaching.length > 0;
        if (reached) reachedCount++;
        t.test(basename(dir), async t => {
          const {
            documents: [doc],
            reports: [report],
          } = await mutateManifests([object], {
            store: fixtureStore(fx.resources),
            config: fx.config,
            namespace: req.namespace!,
            namespaceLabels: enabling,
            webhooks: hooks,
          });
          t.same(
            report!.calls,
            reaching.map(h => h.name),
            reached
              ? 'the webhooks that select the pod are called'
              : 'the selectors keep the pod away from the webhook',
          );
          if (fx.expectedDenial !== undefined) {
            t.equal(report!.denial?.webhook, reaching[0]?.name, "denied by this endpoint's webhook");
            t.match(report!.denial?.message ?? '', fx.expectedDenial, "the fixture's denial");
            t.same(doc, object, 'a denied object is not changed');
            return;
          }
          t.equal(report!.denial, undefined, `not denied (${report!.denial?.message ?? ''})`);
          t.same(doc, fx.expected, 'the CLI gives expected.yaml');
          const server = await runPipeline(endpoint, req, { store: fixtureStore(fx.resources), config: fx.config });
          t.same(doc, patchedCopy(object, server.patch), 'the CLI gives what the server answers');
          if (!reached)
            t.same(fx.expected, object, 'a pod the API server would not send: the server leaves it unchanged too');
          for (const w of reached ? fx.expectedWarnings : [])
            t.ok(
              report!.warnings.some(x => x.includes(w)),
              `a warning contains ${JSON.stringify(w)}`,
            );
        });
      }
      t.ok(reachedCount > 0, `some ${name} fixtures reach the webhook`);
    });
  }
});

t.test('pod fixtures through the built dist/cli.js, every webhook on', async t => {
  const picked = [
    'sidecar/default-deployment',
    'sidecar/native-server-mode',
    'sidecar/custom-sidecar-sample',
    'scheduling/scheduler-name-default',
    'operation/pod-env-only',
  ];
  for (const id of picked) {
    const [name, fixture] = id.split('/') as [string, string];
    const endpoint = endpointByName(name);
    const dir = join(ROOT, 'test/fixtures', name, fixture);
    const fx = loadFixture(endpoint, dir);
    const req = fx.review.request;
    const input = join(tmp, `${name}-${fixture}.yaml`);
    writeFileSync(input, stringify(req.object));
    const args = ['-f', input, '--namespace', req.namespace!];
    for (const [k, v] of Object.entries(enablingLabels(endpoint.path))) args.push('--namespace-label', `${k}=${v}`);
    if (existsSync(join(dir, 'resources.yaml'))) args.push('--resources', join(dir, 'resources.yaml'));
    if (fx.config.sidecarMode !== defaultPipelineConfig.sidecarMode) args.push('--sidecar-mode', fx.config.sidecarMode);
    if (fx.config.schedulerName) args.push('--scheduler-name', fx.config.schedulerName);
    const r = spawnCli(args);
    t.equal(r.code, 0, `${id}: exit 0 (${r.stderr})`);
    t.same(docsOf(r.stdout), [fx.expected], `${id}: expected.yaml`);
  }
});

interface Case {
  args?: string[];
  resources?: string;
  exit?: number;
  stderr?: string[];
  spawn?: boolean;
}

t.test('manifests of several documents and kinds (test/fixtures/mutate)', async t => {
  const dirs = readdirSync(CASES)
    .filter(d => statSync(join(CASES, d)).isDirectory())
    .sort();
  t.ok(dirs.length >= 6, 'the cases are there');
  for (const d of dirs) {
    const dir = join(CASES, d);
    const c = (parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) ?? {}) as Case;
    const args = [
      '-f',
      join(dir, 'input.yaml'),
      ...(c.resources ? ['--resources', resolve(dir, c.resources)] : []),
      ...(c.args ?? []),
    ];
    const reportFile = join(dir, 'expected-report.txt');
    const diffFile = join(dir, 'expected-diff.txt');
    const check = (t: Test, r: CliRun, how: string) => {
      t.equal(r.code, c.exit ?? 0, `${how}: exit ${c.exit ?? 0} (${r.stderr})`);
      for (const s of c.stderr ?? []) t.match(r.stderr, s, `${how}: stderr says ${JSON.stringify(s)}`);
      if (update && existsSync(reportFile)) writeFileSync(reportFile, r.stderr);
      else if (existsSync(reportFile))
        t.equal(r.stderr, readFileSync(reportFile, 'utf8'), `${how}: stderr is expected-report.txt`);
      if ((c.exit ?? 0) !== 0) {
        t.equal(r.stdout, '', `${how}: nothing on stdout`);
        return;
      }
      if (update) {
        writeFileSync(join(dir, 'expected.yaml'), r.stdout);
        return;
      }
      t.same(
        docsOf(r.stdout),
        docsOf(readFileSync(join(dir, 'expected.yaml'), 'utf8')),
        `${how}: stdout is expected.yaml`,
      );
    };
    t.test(d, async t => {
      check(t, await mutate(args), 'in-process');
      if (c.spawn) check(t, spawnCli(args), 'dist/cli.js');
      if (!existsSync(diffFile)) return;
      const diff = await mutate([...args, '--diff', '-q']);
      t.equal(diff.code, c.exit ?? 0, `--diff: exit ${c.exit ?? 0}`);
      if (update) writeFileSync(diffFile, diff.stdout);
      else t.equal(diff.stdout, readFileSync(diffFile, 'utf8'), '--diff: stdout is expected-diff.txt');
    });
  }
});

t.test('what the cases show', async t => {
  const out = (d: string) => docsOf(readFileSync(join(CASES, d, 'expected.yaml'), 'utf8')) as Json[];
  const input = (d: string) => docsOf(readFileSync(join(CASES, d, 'input.yaml'), 'utf8')) as Json[];
  const podSpec = (o: Json): Json => getAt(o, [...podTemplatePath(o)!, 'spec']) ?? {};
  const containers = (o: Json) => ((podSpec(o).containers ?? []) as Json[]).map(c => c.name);
  const initContainers = (o: Json) => ((podSpec(o).initContainers ?? []) as Json[]).map(c => c.name);
  const find = (docs: Json[], kind: string, name: string) =>
    docs.find(o => o.kind === kind && (o.metadata as Json).name === name)!;

  const all = out('all-kinds');
  t.same(
    all.map(o => `${o.kind}/${(o.metadata as Json).name}`),
    input('all-kinds').map(o => `${o.kind}/${(o.metadata as Json).name}`),
    'every document, in order',
  );
  for (const [kind, name] of [
    ['Namespace', 'vineyard-job'],
    ['ConfigMap', 'job-config'],
    ['Service', 'kv-store'],
    ['Deployment', 'elsewhere'],
  ]) {
    t.same(find(all, kind!, name!), find(input('all-kinds'), kind!, name!), `${kind}/${name} passes through unchanged`);
  }
  for (const [kind, name] of [
    ['Pod', 'etl'],
    ['Deployment', 'plain-app'],
    ['ReplicaSet', 'worker'],
    ['CronJob', 'nightly-report'],
  ]) {
    t.ok(containers(find(all, kind!, name!)).includes(names.SIDECAR_CONTAINER), `${kind}/${name} gets the sidecar`);
  }
  t.ok(
    initContainers(find(all, 'StatefulSet', 'kv-store')).includes(names.SIDECAR_CONTAINER),
    'StatefulSet/kv-store gets a native sidecar (its annotation)',
  );
  for (const [kind, name] of [
    ['DaemonSet', 'node-agent'],
    ['Job', 'assembly-job2'],
  ]) {
    const o = find(all, kind!, name!);
    t.notOk(containers(o).includes(names.SIDECAR_CONTAINER), `${kind}/${name}: no sidecar label, no sidecar`);
    t.ok(
      ((podSpec(o).volumes ?? []) as Json[]).some(v => v.name === names.SOCKET_VOLUME && v.hostPath),
      `${kind}/${name}: the scheduling webhook wired the socket`,
    );
  }
  t.notOk(
    'generateName' in (((find(all, 'Deployment', 'plain-app').spec as Json).template as Json).metadata as Json),
    'the name used for messages is not left in the template',
  );

  const [job] = out('list-json');
  t.equal((job as Json).kind, 'List', 'a List comes back a List');
  t.same(
    ((job as Json).items as Json[]).map(i => i.kind),
    ['Job', 'Secret'],
  );
  t.ok(initContainers(((job as Json).items as Json[])[0]!).includes(names.SIDECAR_CONTAINER), '--sidecar-mode native');

  const [pod] = out('all-webhooks');
  t.ok(containers(pod!).includes(names.SIDECAR_CONTAINER), 'sidecar webhook');
  t.equal(podSpec(pod!).schedulerName, 'vineyard-scheduler', 'scheduling webhook, with --scheduler-name');
  t.ok(
    ((podSpec(pod!).containers as Json[])[1]!.env as Json[]).some(e => e.name === names.POD_NAME_ENV),
    'operation webhook, on the injected container too',
  );
});

t.test('reinvocation: webhooks called before the last change run once more', async t => {
  const pod = docsOf(readFileSync(join(CASES, 'all-webhooks/input.yaml'), 'utf8'))[0] as Json;
  const labels = namespaceLabels('vineyard-job', {
    [names.SIDECAR_NAMESPACE_LABEL]: 'enabled',
    [names.OPERATION_NAMESPACE_LABEL]: 'enabled',
  });
  const deps = { store: new MemoryStore(), config: { ...defaultPipelineConfig, schedulerName: 'vineyard-scheduler' } };
  const r = await admitPod(pod, 'vineyard-job', labels, deps);
  const [sidecar, operation, scheduling] = POD_WEBHOOKS.map(h => h.name);
  t.same(
    r.calls,
    [sidecar, operation, scheduling, sidecar, operation],
    'the scheduling webhook changed the pod last: the two before it are called again',
  );
  t.equal(deps.store.writes.filter(w => w.kind === 'sidecars').length, 1, 'the default Sidecar is counted once');

  const again = await admitPod(r.pod, 'vineyard-job', labels, deps);
  t.same(again.pod, r.pod, 'admitting the result again changes nothing');
  t.same(again.calls, [sidecar, operation, scheduling], 'and needs no reinvocation');

  const onlyScheduling = await admitPod(
    { ...pod, metadata: { ...(pod.metadata as Json), labels: { app: 'a', [names.VINEYARDD_LABEL]: 'v' } } },
    'jobs',
    namespaceLabels('jobs'),
    deps,
  );
  t.same(onlyScheduling.calls, [scheduling], 'the last webhook changing the pod reinvokes nothing');
});

t.test('flags: usage errors exit 2 naming the flag', async t => {
  const input = join(CASES, 'seed-default-sidecar/input.yaml');
  const cases: Array<[string[], RegExp]> = [
    [[], /-f\/--filename is required/],
    [['-f', join(tmp, 'nope.yaml')], /-f\/--filename: cannot read .*nope\.yaml/],
    [['-f', input, '--sidecar-mode', 'magic'], /--sidecar-mode: "magic" is not one of injected, native/],
    [['-f', input, '-o', 'xml'], /-o\/--output: "xml" is not one of yaml, json/],
    [
      ['-f', input, '--namespace-label', 'sidecar-injection'],
      /--namespace-label: "sidecar-injection" is not KEY=VALUE/,
    ],
    [['-f', input, '--namespace-label', 'bad key=x'], /--namespace-label: key "bad key"/],
    [['-f', input, '--namespace', 'Not_A_Namespace'], /-n\/--namespace: "Not_A_Namespace" is not a namespace name/],
    [['-f', input, '--scheduler-name', 'Upper'], /--scheduler-name: "Upper"/],
    [['-f', input, '--resources', join(tmp, 'missing-dir')], /--resources: cannot read/],
    [['-f', input, '--bogus'], /--bogus/],
    [['-f', '-', '-f', '-'], /stdin \(-\) can be read only once/],
  ];
  for (const [args, message] of cases) {
    const r = await mutate(args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message, `${args.join(' ')}: names the problem`);
    t.equal(r.stdout, '', 'nothing on stdout');
  }
  const spawned = spawnCli(['-f', input, '--sidecar-mode', 'magic']);
  t.equal(spawned.code, 2, 'dist/cli.js exits 2 too');
  t.match(spawned.stderr, /--sidecar-mode/);
});

t.test('input that is not a manifest: exit 1 naming the file and document', async t => {
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n- just\n- a list\n');
  const r = await mutate(['-f', bad]);
  t.equal(r.code, 1);
  t.match(r.stderr, `${bad}: document 2 is not a Kubernetes object`);
  writeFileSync(bad, 'metadata: {name: a}\n');
  t.match((await mutate(['-f', bad])).stderr, 'document 1 has no apiVersion');
  writeFileSync(bad, 'kind: [unclosed\n');
  t.equal((await mutate(['-f', bad])).code, 1, 'a YAML syntax error');
});

t.test('stdin, directories and --help', async t => {
  const seed = readFileSync(join(CASES, 'seed-default-sidecar/input.yaml'), 'utf8');
  const expected = docsOf(readFileSync(join(CASES, 'seed-default-sidecar/expected.yaml'), 'utf8'));
  const piped = spawnCli(['-f', '-', '--namespace-label', 'sidecar-injection=enabled'], seed);
  t.equal(piped.code, 0, piped.stderr);
  t.same(docsOf(piped.stdout), expected, '-f - reads stdin');

  const dir = mkdtempSync(join(tmp, 'dir-'));
  writeFileSync(join(dir, 'b.yaml'), readFileSync(join(CASES, 'system-namespaces/input.yaml'), 'utf8'));
  writeFileSync(join(dir, 'a.yml'), seed);
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
  const both = await mutate(['-f', dir, '--namespace-label', 'sidecar-injection=enabled']);
  t.equal(both.code, 0, both.stderr);
  t.same(
    docsOf(both.stdout).map(o => (o as Json).kind),
    ['Deployment', 'Pod', 'Deployment'],
    'a directory: its YAML and JSON files, in name order',
  );

  const help = spawnCli(['--help']);
  t.equal(help.code, 0);
  for (const f of mutateFlags) t.match(help.stdout, `--${f.name}`, `--help mentions --${f.name}`);
  const top = spawnSync(process.execPath, [CLI, 'help'], { encoding: 'utf8' });
  t.match(top.stdout, /mutate\s+print manifests/, 'the top-level usage lists mutate');
});

t.test('-R reads subdirectories; without it they are left out', async t => {
  const dir = mkdtempSync(join(tmp, 'tree-'));
  mkdirSync(join(dir, 'apps', 'jobs'), { recursive: true });
  mkdirSync(join(dir, '.git'));
  writeFileSync(
    join(dir, 'a.yaml'),
    readFileSync(join(CASES, 'seed-custom-sidecar/input.yaml'), 'utf8').split('---')[0]!,
  );
  writeFileSync(
    join(dir, 'apps', 'jobs', 'deployment.yaml'),
    readFileSync(join(CASES, 'seed-custom-sidecar/input.yaml'), 'utf8').split('---')[1]!,
  );
  writeFileSync(join(dir, '.git', 'x.yaml'), 'kind: [not a manifest\n');
  const flat = spawnCli(['-f', dir, '--namespace-label', 'sidecar-injection=enabled']);
  t.equal(flat.code, 0, flat.stderr);
  t.same(
    docsOf(flat.stdout).map(o => (o as Json).kind),
    ['Sidecar'],
    'without -R: the top directory only',
  );
  const deep = spawnCli(['-R', '-f', dir, '--namespace-label', 'sidecar-injection=enabled']);
  t.equal(deep.code, 0, deep.stderr);
  t.same(
    docsOf(deep.stdout).map(o => (o as Json).kind),
    ['Sidecar', 'Deployment'],
    '-R: subdirectories too, hidden ones left out',
  );
  t.match(
    deep.stderr,
    'deployment/job-deployment-with-custom-sidecar: sidecar injected (sidecar-sample, container mode)',
    'the Sidecar of one file serves the Deployment of another',
  );
});

t.test('explain (and mutate --explain): why each webhook was or was not called', async t => {
  const input = join(CASES, 'seed-default-sidecar/input.yaml');
  const r = spawnSync(process.execPath, [CLI, 'explain', '-f', input], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(
    r.stdout,
    [
      'deployment/job-deployment (namespace vineyard-job):',
      '  sidecar.vineyard-webhook.v6d.io: not called: namespace vineyard-job not labelled sidecar-injection=enabled',
      '  operation.vineyard-webhook.v6d.io: not called: namespace vineyard-job not labelled operation-injection=enabled',
      ...POD_WEBHOOKS.slice(2).map(
        h =>
          `  ${h.name}: not called: pod ${
            h.objectSelector?.matchLabels
              ? `not labelled ${Object.entries(h.objectSelector.matchLabels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ')}`
              : `has no label ${h.objectSelector!.matchExpressions![0]!.key}`
          }`,
      ),
      '  result: unchanged',
      'hint: no namespace has a label that lets the sidecar or operation webhook reach a pod, so deployment/job-deployment is not changed by them: if namespace vineyard-job is labelled so in the cluster, pass --namespace-label sidecar-injection=enabled and/or --namespace-label operation-injection=enabled (or put the Namespace object in the input, or read it with --kubeconfig)',
      '',
    ].join('\n'),
  );
  const same = await mutate(['--explain', '-f', input, '--namespace-label', 'sidecar-injection=enabled']);
  t.match(
    same.stdout,
    '  sidecar.vineyard-webhook.v6d.io: called: sidecar injected (app-job-deployment-default-sidecar, container mode)',
  );
  t.match(same.stdout, '  result: changed');
  const both = await mutate(['--explain', '--diff', '-f', input]);
  t.equal(both.code, 2, '--explain and --diff together is a usage error');
});

t.test('--kubeconfig: CRs and namespace labels from the cluster, read-only', async t => {
  const [sidecar, deployment] = docsOf(readFileSync(join(CASES, 'seed-custom-sidecar/input.yaml'), 'utf8')) as Json[];
  const fake = await FakeApiServer.start({
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'vineyard-job', labels: { [names.SIDECAR_NAMESPACE_LABEL]: 'enabled' } },
      },
      // The operator creates it for each Sidecar; without it the injector warns that vineyardd would wait.
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'sidecar-sample-etcd-service', namespace: 'vineyard-job' },
        spec: { ports: [{ port: 2379 }] },
      },
      // As the cluster stores it: defaulted by the Sidecar webhook when it was applied.
      (
        await mutateManifests([sidecar!], {
          store: new MemoryStore(),
          config: defaultPipelineConfig,
          namespace: 'default',
          namespaceLabels: {},
        })
      ).documents[0] as never,
    ],
  });
  t.teardown(() => fake.close());
  const kubeconfig = writeFakeKubeconfig(fake.url);
  t.teardown(() => kubeconfig.remove());
  const input = join(tmp, 'deployment-only.yaml');
  writeFileSync(input, stringify(deployment));

  const r = await runCli(['mutate', '-f', input, '--kubeconfig', kubeconfig.path]);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stderr,
    'deployment/job-deployment-with-custom-sidecar: sidecar injected (sidecar-sample, container mode); operation: namespace vineyard-job not labelled operation-injection=enabled\n',
    "the namespace's labels and the Sidecar come from the cluster",
  );
  const uid = (
    fake.get({ apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', namespace: 'vineyard-job', name: 'sidecar-sample' })!
      .metadata as Json
  ).uid as string;
  t.ok(r.stdout.includes(`value: ${uid}`), "VINEYARDD_UID is the uid of the cluster's Sidecar");
  t.same(
    docsOf(r.stdout.replace(uid, '00000000-0000-4000-8000-000000000001')),
    docsOf(readFileSync(join(CASES, 'seed-custom-sidecar/expected.yaml'), 'utf8')).slice(1),
    'injected as from the Sidecar of the input',
  );
  t.same(fake.writes(), [], 'nothing written to the cluster');
  t.ok(
    fake.requests.some(q => q.path === '/api/v1/namespaces/vineyard-job'),
    'the Namespace was read',
  );

  const defaulted = docsOf(readFileSync(join(CASES, 'seed-default-sidecar/input.yaml'), 'utf8'))[0] as Json;
  writeFileSync(input, stringify(defaulted));
  fake.requests.length = 0;
  const created = await runCli(['mutate', '-f', input, '--kubeconfig', kubeconfig.path]);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stderr, 'sidecar injected (app-job-deployment-default-sidecar, container mode)');
  t.same(fake.writes(), [], 'the default Sidecar is created in memory, not in the cluster');

  await fake.close();
  const down = await runCli(['mutate', '-f', input, '--kubeconfig', kubeconfig.path]);
  t.equal(down.code, 1, 'a cluster that cannot be read: exit 1');
  t.match(down.stderr, /error: --kubeconfig: cannot read namespace vineyard-job from http:\/\/127\.0\.0\.1:\d+/);
  t.equal(down.stdout, '', 'nothing on stdout');
});

t.test('unifiedDiff: what patch(1) applies, as short as diff(1)', async t => {
  const line = fc.constantFrom('a', 'b', 'c', '  d: 1', '- e');
  const text = fc.array(line, { maxLength: 25 }).map(l => (l.length ? `${l.join('\n')}\n` : ''));
  fc.assert(
    fc.property(text, text, (a, b) => {
      const d = unifiedDiff(a, b, 'a', 'b');
      if (a === b) return d === '';
      // Apply the hunks: every kept and removed line must be where the header says.
      const out = a === '' ? [] : a.replace(/\n$/, '').split('\n');
      let shift = 0;
      for (const h of d.split(/^(?=@@ )/m).slice(1)) {
        const [, aStart, aCount] = /^@@ -(\d+),(\d+) \+\d+,\d+ @@/.exec(h)!.map(Number) as [number, number, number];
        const body = h.split('\n').slice(1, -1);
        const from = body.filter(l => l[0] !== '+').map(l => l.slice(1));
        const to = body.filter(l => l[0] !== '-').map(l => l.slice(1));
        const at = (aCount ? aStart - 1 : aStart) + shift;
        if (JSON.stringify(out.slice(at, at + from.length)) !== JSON.stringify(from)) return false;
        out.splice(at, from.length, ...to);
        shift += to.length - from.length;
      }
      return out.join('\n') === b.replace(/\n$/, '');
    }),
    { numRuns: 500 },
  );
  t.equal(
    unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'x (input)', 'x (admitted)'),
    '--- x (input)\n+++ x (admitted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
  );
});
