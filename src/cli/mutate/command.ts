// `vineyard-webhook mutate`: prints a manifest as the webhook would admit it,
// without a cluster (the offline twin of the server, like `istioctl
// kube-inject`). Sidecar and Vineyardd CRs come from --resources into an
// in-memory store; a default Sidecar is created there as a cluster would.
// Exit 0: the result is on stdout; 1: a pod would be denied (stdout stays
// empty so a pipe into kubectl applies nothing) or the input is not a
// manifest; 2: usage.
import { readFile } from 'node:fs/promises';
import { schedulerNameFlag, SIDECAR_MODES } from '../../config.js';
import { oneOf, parseFlags, UsageError, type Flag } from '../../flags.js';
import { MemoryStore, sequentialUids } from '../../cluster/memory-store.js';
import { manifestFiles, readManifests } from '../../cluster/resources.js';
import { isDnsLabel, labelValueErrors, qualifiedNameErrors } from '../../vineyard/label-rules.js';
import { formatManifests, OUTPUT_FORMATS, parseManifests, type OutputFormat } from './manifests.js';
import { mutateManifests } from './mutate-manifests.js';
import { POD_WEBHOOKS } from './pod-webhooks.js';
import type { Json } from './pod-templates.js';

export const mutateFlags: readonly Flag[] = [
  { name: 'filename', short: 'f', kind: 'string', multiple: true, arg: 'FILE|DIR|-', help: 'manifest to admit: a YAML or JSON file of one or more documents, a directory of them, or - for stdin (repeatable)' },
  { name: 'resources', kind: 'string', arg: 'DIR', help: 'YAML/JSON manifests of the Sidecar and Vineyardd CRs (and Namespaces, Pods) that exist in the cluster' },
  { name: 'namespace', short: 'n', kind: 'string', arg: 'NS', def: 'default', help: 'namespace of objects that name none' },
  { name: 'namespace-label', kind: 'string', multiple: true, arg: 'KEY=VALUE', help: 'a label of the namespaces, for the webhooks\' namespaceSelectors, e.g. sidecar-injection=enabled (repeatable; wins over the labels of Namespace objects in the input or --resources)' },
  { name: 'sidecar-mode', kind: 'string', arg: 'MODE', def: 'injected', help: 'as for serve: injected (vineyardd container and socket-wait command) or native (restartable init container)' },
  { name: 'scheduler-name', kind: 'string', arg: 'NAME', help: 'as for serve: pods of the scheduling webhook still on default-scheduler get this schedulerName' },
  { name: 'output', short: 'o', kind: 'string', arg: 'FORMAT', def: 'yaml', help: 'yaml (a stream of documents) or json (the object, or a v1 List of several)' },
  { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' },
];

function mutateHelp(): string {
  const lines = mutateFlags.map(f => {
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.arg ? ` ${f.arg}` : ''}`;
    return `${left.padEnd(36)} ${f.help}${f.def ? ` (default ${f.def})` : ''}`;
  });
  return `Usage: vineyard-webhook mutate -f FILE|- [flags]

Prints the manifest as the webhook would admit it, without a cluster. Each Pod,
and the pod template of each Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job and CronJob, goes through the webhooks of deploy/ in
their order (${POD_WEBHOOKS.map(h => h.path).join(', ')}),
each one when its namespace and object selectors match, as the API server calls
them; every other object is printed unchanged. Warnings go to stderr.
Sidecar and Vineyardd CRs come from --resources; a default Sidecar is created
in memory, as the webhook would create it in the cluster, and is not printed.

Exit status: 0 the result is on stdout; 1 a pod would be denied (each denial on
stderr, nothing on stdout) or the input is not a manifest; 2 bad flags.

Flags:
${lines.join('\n')}

Example:
  vineyard-webhook mutate -f deployment.yaml --namespace-label sidecar-injection=enabled
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
  resources?: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  sidecarMode: 'injected' | 'native';
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
  if (!filenames.length && !help) throw new UsageError('-f/--filename is required: a manifest file, a directory of them, or - for stdin');
  if (filenames.filter(f => f === '-').length > 1) throw new UsageError('-f/--filename: stdin (-) can be read only once');

  const namespace = str('namespace')!;
  if (!isDnsLabel(namespace)) throw new UsageError(`-n/--namespace: ${JSON.stringify(namespace)} is not a namespace name (lower-case letters, digits and '-', at most 63 characters)`);

  const namespaceLabels: Record<string, string> = {};
  for (const l of list('namespace-label')) {
    const eq = l.indexOf('=');
    if (eq < 0) throw new UsageError(`--namespace-label: ${JSON.stringify(l)} is not KEY=VALUE (e.g. sidecar-injection=enabled)`);
    const [key, value] = [l.slice(0, eq), l.slice(eq + 1)];
    const problems = [...qualifiedNameErrors(key).map(p => `key ${JSON.stringify(key)}: ${p}`), ...labelValueErrors(value).map(p => `value ${JSON.stringify(value)}: ${p}`)];
    if (problems.length) throw new UsageError(`--namespace-label: ${problems.join('; ')}`);
    namespaceLabels[key] = value;
  }

  const sidecarMode = oneOf('--sidecar-mode', str('sidecar-mode')!, SIDECAR_MODES);
  const schedulerName = schedulerNameFlag(str('scheduler-name'));
  const output = oneOf('-o/--output', str('output')!, OUTPUT_FORMATS);

  return { filenames, resources: str('resources'), namespace, namespaceLabels, sidecarMode, schedulerName, output, help };
}

async function readStream(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of each file `-f` names, in order: a file, the manifests of a directory (sorted), or stdin. */
async function readInputs(filenames: readonly string[], stdin: CommandIO['stdin']): Promise<Array<{ source: string; text: string }>> {
  const out: Array<{ source: string; text: string }> = [];
  for (const f of filenames) {
    if (f === '-') { out.push({ source: 'stdin', text: await readStream(stdin) }); continue; }
    try {
      for (const file of await manifestFiles(f)) out.push({ source: file, text: await readFile(file, 'utf8') });
    } catch (e) {
      throw new UsageError(`-f/--filename: cannot read ${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

async function readResources(path: string | undefined): Promise<unknown[]> {
  if (!path) return [];
  try {
    return await readManifests(path);
  } catch (e) {
    throw new UsageError(`--resources: cannot read ${path}: ${(e as Error).message}`);
  }
}

export async function runMutateCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = parseMutateArgs(argv);
  if (args.help) { io.stdout.write(mutateHelp()); return 0; }
  const resources = await readResources(args.resources);
  const inputs = await readInputs(args.filenames, io.stdin);

  let docs: Json[];
  try {
    docs = inputs.flatMap(i => parseManifests(i.text, i.source));
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  const { documents, reports } = await mutateManifests(docs, {
    store: new MemoryStore(resources, sequentialUids()),
    config: { sidecarMode: args.sidecarMode, schedulerName: args.schedulerName },
    namespace: args.namespace,
    namespaceLabels: args.namespaceLabels,
    namespaces: resources,
  });

  for (const r of reports) for (const w of r.warnings) io.stderr.write(`Warning: ${r.ref}: ${w}\n`);
  const denials = reports.filter(r => r.denial);
  for (const r of denials) {
    io.stderr.write(`error: ${r.ref} would be denied: admission webhook "${r.denial!.webhook}" denied the request: ${r.denial!.message}\n`);
  }
  if (denials.length) return 1;
  io.stdout.write(formatManifests(documents, args.output));
  return 0;
}
