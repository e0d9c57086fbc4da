// `vineyard-webhook mutate`: prints a manifest as the webhook would admit it,
// without a cluster (the offline twin of the server, like `istioctl
// kube-inject`), and says on stderr what each webhook did to each object or
// why it did not. Sidecar and Vineyardd CRs come from the input and
// --resources (defaulted and validated as the CR webhooks would) into an
// in-memory store, or are read from a cluster with --kubeconfig; a default
// Sidecar is created in memory as a cluster would create it.
// Exit 0: the result is on stdout; 1: an object would be denied (stdout stays
// empty so a pipe into kubectl applies nothing) or the input is not a
// manifest; 2: usage. `--explain` (and `vineyard-webhook explain`) prints the
// reasons instead of the manifest.
import { readFile } from 'node:fs/promises';
import { schedulerNameFlag, SIDECAR_MODES } from '../../config.js';
import { oneOf, parseFlags, UsageError, type Flag } from '../../flags.js';
import { MemoryStore, sequentialUids } from '../../cluster/memory-store.js';
import type { ClusterStore } from '../../cluster/store.js';
import { isDnsLabel, labelValueErrors, qualifiedNameErrors } from '../../vineyard/label-rules.js';
import { isObject } from '../../json.js';
import { formatManifests, OUTPUT_FORMATS, type OutputFormat } from './manifests.js';
import { manifestFiles, parseManifests } from '../../cluster/resources.js';
import { mutateManifests, type MutateResult, type ObjectReport } from './mutate-manifests.js';
import { POD_WEBHOOKS } from './pod-webhooks.js';
import { unifiedDiff } from './line-diff.js';
import { metadataOf, type Json } from './pod-templates.js';
import type { SidecarMode } from '../../vineyard/sidecar.js';

export const mutateFlags: readonly Flag[] = [
  {
    name: 'filename',
    short: 'f',
    kind: 'string',
    multiple: true,
    arg: 'FILE|DIR|-',
    help: 'manifest to admit: a YAML or JSON file of one or more documents, a directory of them, or - for stdin (repeatable)',
  },
  {
    name: 'recursive',
    short: 'R',
    kind: 'boolean',
    help: 'read the directories of -f and --resources with their subdirectories, as kubectl -R does',
  },
  {
    name: 'resources',
    kind: 'string',
    arg: 'FILE|DIR',
    help: 'YAML/JSON manifests of the Sidecar and Vineyardd CRs (and Namespaces, Pods) that exist in the cluster',
  },
  {
    name: 'kubeconfig',
    kind: 'string',
    arg: 'FILE',
    help: "read Sidecar and Vineyardd CRs, Namespaces' labels and pods from this cluster (read-only; the input and --resources win)",
  },
  {
    name: 'namespace',
    short: 'n',
    kind: 'string',
    arg: 'NS',
    def: 'default',
    help: 'namespace of objects that name none',
  },
  {
    name: 'namespace-label',
    kind: 'string',
    multiple: true,
    arg: 'KEY=VALUE',
    help: "a label of the namespaces, for the webhooks' namespaceSelectors, e.g. sidecar-injection=enabled (repeatable; wins over the labels of Namespace objects in the input or --resources)",
  },
  {
    name: 'sidecar-mode',
    kind: 'string',
    arg: 'MODE',
    def: 'injected',
    help: 'as for serve: injected (vineyardd container and socket-wait command) or native (restartable init container)',
  },
  {
    name: 'scheduler-name',
    kind: 'string',
    arg: 'NAME',
    help: 'as for serve: pods of the scheduling webhook still on default-scheduler get this schedulerName',
  },
  {
    name: 'output',
    short: 'o',
    kind: 'string',
    arg: 'FORMAT',
    def: 'yaml',
    help: 'yaml (a stream of documents) or json (the object, or a v1 List of several)',
  },
  {
    name: 'diff',
    kind: 'boolean',
    help: 'print a unified diff of each changed object (input, then as admitted) instead of the manifest',
  },
  {
    name: 'explain',
    kind: 'boolean',
    help: 'print, for each pod and pod template, why each webhook was or was not called and what it did, instead of the manifest',
  },
  { name: 'quiet', short: 'q', kind: 'boolean', help: 'no per-object report on stderr (warnings and errors still)' },
  { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' },
];

function mutateHelp(): string {
  const lines = mutateFlags.map(f => {
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.arg ? ` ${f.arg}` : ''}`;
    return `${left.padEnd(36)} ${f.help}${f.def ? ` (default ${f.def})` : ''}`;
  });
  return `Usage: vineyard-webhook mutate -f FILE|DIR|- [flags]
       vineyard-webhook explain -f FILE|DIR|- [flags]   (mutate --explain)

Prints the manifest as the webhook would admit it, without a cluster. Each Pod,
and the pod template of each Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job and CronJob, goes through the webhooks of deploy/ in
their order (${POD_WEBHOOKS.map(h => h.path).join(', ')}),
each one when its namespace and object selectors match, as the API server calls
them. Sidecar and Vineyardd CRs in the input are defaulted and validated as
their webhooks would, and pods use them; every other object is printed
unchanged. CRs that already exist come from --resources or, with --kubeconfig,
from the cluster (never written to). A default Sidecar is created in memory, as
the webhook would create it in the cluster, and is not printed.

Stderr says, for each object, what each webhook did or why it skipped:
  deployment/job-deployment: sidecar injected (app-job-deployment-default-sidecar, container mode); operation: namespace vineyard-job not labelled operation-injection=enabled
then the webhooks' warnings, and a warning naming the --namespace-label to pass
when no namespace had a label that lets a webhook reach any pod.

Exit status: 0 the result is on stdout; 1 an object would be denied (each
denial on stderr, nothing on stdout), the input is not a manifest, or the
cluster could not be read; 2 bad flags.

Flags:
${lines.join('\n')}

Examples:
  vineyard-webhook mutate -f deployment.yaml --namespace-label sidecar-injection=enabled
  vineyard-webhook mutate -R -f manifests/ --diff --namespace-label sidecar-injection=enabled
  vineyard-webhook explain -f pod.yaml --kubeconfig ~/.kube/config
  kubectl kustomize overlays/prod | vineyard-webhook mutate -f - --resources crs/ -n jobs --namespace-label sidecar-injection=enabled
`;
}

export interface CommandIO {
  stdin: AsyncIterable<Buffer | string>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

interface MutateArgs {
  filenames: string[];
  recursive: boolean;
  resources?: string;
  kubeconfig?: string;
  diff: boolean;
  explain: boolean;
  quiet: boolean;
  namespace: string;
  namespaceLabels: Record<string, string>;
  sidecarMode: SidecarMode;
  schedulerName: string;
  output: OutputFormat;
  help: boolean;
}

function parseMutateArgs(argv: readonly string[]): MutateArgs {
  const values = parseFlags(mutateFlags, argv, 'mutate: ', 'vineyard-webhook mutate --help');
  // A flag's default is the one its table row shows in --help.
  const str = (name: string) => (values[name] as string | undefined) ?? mutateFlags.find(f => f.name === name)!.def;
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  const help = values.help === true;

  const filenames = list('filename');
  if (!filenames.length && !help)
    throw new UsageError('-f/--filename is required: a manifest file, a directory of them, or - for stdin');
  if (filenames.filter(f => f === '-').length > 1)
    throw new UsageError('-f/--filename: stdin (-) can be read only once');

  const namespace = str('namespace')!;
  if (!isDnsLabel(namespace))
    throw new UsageError(
      `-n/--namespace: ${JSON.stringify(namespace)} is not a namespace name (lower-case letters, digits and '-', at most 63 characters)`,
    );

  const namespaceLabels: Record<string, string> = {};
  for (const l of list('namespace-label')) {
    const eq = l.indexOf('=');
    if (eq < 0)
      throw new UsageError(`--namespace-label: ${JSON.stringify(l)} is not KEY=VALUE (e.g. sidecar-injection=enabled)`);
    const [key, value] = [l.slice(0, eq), l.slice(eq + 1)];
    const problems = [
      ...qualifiedNameErrors(key).map(p => `key ${JSON.stringify(key)}: ${p}`),
      ...labelValueErrors(value).map(p => `value ${JSON.stringify(value)}: ${p}`),
    ];
    if (problems.length) throw new UsageError(`--namespace-label: ${problems.join('; ')}`);
    namespaceLabels[key] = value;
  }

  const sidecarMode = oneOf('--sidecar-mode', str('sidecar-mode')!, SIDECAR_MODES);
  const schedulerName = schedulerNameFlag(str('scheduler-name'));
  const output = oneOf('-o/--output', str('output')!, OUTPUT_FORMATS);
  const flag = (name: string) => values[name] === true;
  if (flag('diff') && flag('explain'))
    throw new UsageError('--diff and --explain each replace the manifest on stdout: give one of them');

  return {
    filenames,
    recursive: flag('recursive'),
    resources: str('resources'),
    kubeconfig: str('kubeconfig'),
    diff: flag('diff'),
    explain: flag('explain'),
    quiet: flag('quiet'),
    namespace,
    namespaceLabels,
    sidecarMode,
    schedulerName,
    output,
    help,
  };
}

async function readStream(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

async function readInputs(
  filenames: readonly string[],
  recursive: boolean,
  stdin: CommandIO['stdin'],
  flag = '-f/--filename',
): Promise<Array<{ source: string; text: string }>> {
  const out: Array<{ source: string; text: string }> = [];
  for (const f of filenames) {
    if (f === '-') {
      out.push({ source: 'stdin', text: await readStream(stdin) });
      continue;
    }
    try {
      for (const file of await manifestFiles(f, recursive))
        out.push({ source: file, text: await readFile(file, 'utf8') });
    } catch (e) {
      throw new UsageError(`${flag}: cannot read ${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Objects of the inputs, Lists unpacked (as a cluster stores them). */
const objectsOf = (docs: readonly Json[]): Json[] =>
  docs.flatMap(d => (d.kind === 'List' && Array.isArray(d.items) ? d.items.filter(isObject) : [d]));

/** `Kind/name`, for diff headers. */
const refOf = (d: Json) => `${String(d.kind)}/${metadataOf(d).name || metadataOf(d).generateName || '(no name)'}`;

function diffOf(before: readonly Json[], after: readonly Json[], format: OutputFormat): string {
  return before
    .map((b, i) =>
      unifiedDiff(
        formatManifests([b], format),
        formatManifests([after[i]], format),
        `${refOf(b)} (input)`,
        `${refOf(b)} (admitted)`,
      ),
    )
    .join('');
}

function explainText(result: MutateResult): string {
  const out: string[] = [];
  for (const r of result.reports) {
    out.push(`${r.name} (namespace ${r.namespace}):`);
    if (r.webhooks.length) {
      for (const w of r.webhooks) {
        out.push(`  ${w.webhook}: ${w.selector.reached ? `called: ${w.text}` : `not called: ${w.selector.reason}`}`);
      }
    } else {
      out.push(`  ${r.summary}`);
    }
    for (const warning of r.warnings) out.push(`  warning: ${warning}`);
    if (r.denial) out.push(`  denied by ${r.denial.webhook}: ${r.denial.message}`);
    else if (r.webhooks.length)
      out.push(
        `  result: ${r.webhooks.some(w => w.selector.reached && !w.text.includes(': unchanged')) ? 'changed' : 'unchanged'}`,
      );
  }
  for (const h of result.hints) out.push(`hint: ${h}`);
  return out.length ? `${out.join('\n')}\n` : 'no Pod, pod template or custom resource in the input\n';
}

function reportLines(reports: readonly ObjectReport[], quiet: boolean): string {
  const out: string[] = [];
  for (const r of reports) {
    if (!quiet) out.push(`${r.name}: ${r.denial ? `denied by ${r.denial.webhook}` : r.summary}`);
    for (const w of r.warnings) out.push(`Warning: ${r.ref}: ${w}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

export async function runMutateCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = parseMutateArgs(argv);
  if (args.help) {
    io.stdout.write(mutateHelp());
    return 0;
  }
  const resourceTexts = args.resources
    ? await readInputs([args.resources], args.recursive, io.stdin, '--resources')
    : [];
  const inputs = await readInputs(args.filenames, args.recursive, io.stdin);

  let docs: Json[];
  let resources: Json[];
  try {
    resources = objectsOf(resourceTexts.flatMap(i => parseManifests(i.text, i.source)));
    docs = inputs.flatMap(i => parseManifests(i.text, i.source));
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }

  const memory = new MemoryStore([], sequentialUids());
  let store: ClusterStore = memory;
  let lookupNamespaceLabels: ((name: string) => Promise<Record<string, string> | undefined>) | undefined;
  if (args.kubeconfig) {
    // Loaded only when asked for: the offline preview needs no client library.
    const { clusterReads } = await import('./cluster-reads.js');
    const { loadKubeConfig } = await import('../kube-config.js');
    const reads = clusterReads(loadKubeConfig(args.kubeconfig), memory);
    store = reads.store;
    lookupNamespaceLabels = reads.namespaceLabels;
  }
  const opts = {
    store,
    // Offline, the required jobs' objects are not known: a preview admits such pods with a warning
    // (what --scheduling-no-data allow does) instead of refusing every consumer of a workflow.
    config: { sidecarMode: args.sidecarMode, schedulerName: args.schedulerName, schedulingNoData: 'allow' as const },
    namespace: args.namespace,
    namespaceLabels: args.namespaceLabels,
    namespaces: resources,
    load: (o: Json) => {
      memory.load(o);
    },
    ...(lookupNamespaceLabels ? { lookupNamespaceLabels } : {}),
  };

  let result: MutateResult;
  try {
    // CRs of --resources exist already: admitted as their webhooks admitted
    // them (defaults filled), but not reported; objects of other kinds are kept as they are.
    for (const o of resources) memory.load(o);
    const existing = await mutateManifests(
      resources.filter(o => o.kind !== 'Namespace' && o.kind !== 'Pod'),
      { ...opts, namespace: 'default', webhooks: [] },
    );
    const refused = existing.reports.filter(r => r.denial);
    for (const r of refused)
      io.stderr.write(
        `error: --resources: ${r.ref} would be denied: admission webhook "${r.denial!.webhook}" denied the request: ${r.denial!.message}\n`,
      );
    if (refused.length) return 1;
    result = await mutateManifests(docs, opts);
  } catch (e) {
    if (args.kubeconfig && !(e instanceof UsageError)) {
      io.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  const { documents, reports, hints } = result;

  if (args.explain) {
    io.stdout.write(explainText(result));
    return 0;
  }
  io.stderr.write(reportLines(reports, args.quiet));
  for (const h of hints) io.stderr.write(`Warning: ${h}\n`);
  const denials = reports.filter(r => r.denial);
  for (const r of denials) {
    io.stderr.write(
      `error: ${r.ref} would be denied: admission webhook "${r.denial!.webhook}" denied the request: ${r.denial!.message}\n`,
    );
  }
  if (denials.length) return 1;
  io.stdout.write(args.diff ? diffOf(docs, documents, args.output) : formatManifests(documents, args.output));
  return 0;
}
