// `vineyard-webhook explain`: why each webhook was (or was not) called.
//   explain -f FILE|DIR|-   a manifest, offline: mutate --explain
//   explain pod/NAME        a pod in a cluster, read-only (as kubectl names
//                           objects: pod/NAME, or pod NAME; pods and po too)
// Exit 0: the explanation is on stdout; 1: the cluster could not be read or
// the pod does not exist; 2: usage.
import { SIDECAR_MODES, schedulerNameFlag, serveFlags } from '../../config.js';
import { oneOf, parseFlagsAndArgs, UsageError, type Flag } from '../../flags.js';
import { defaultPipelineConfig } from '../../admission/endpoint.js';
import { isDnsLabel, isSubdomain } from '../../vineyard/label-rules.js';
import { mutateFlags, runMutateCommand, type CommandIO } from '../mutate/command.js';

const serveDefault = (name: string) => serveFlags.find(f => f.name === name)!.def!;

export const explainPodFlags: readonly Flag[] = [
  {
    name: 'namespace',
    short: 'n',
    kind: 'string',
    arg: 'NS',
    help: "the pod's namespace (default: the kubeconfig context's namespace, else default)",
  },
  {
    name: 'kubeconfig',
    kind: 'string',
    arg: 'FILE',
    help: 'the cluster to read, read-only, with your credentials (default: $KUBECONFIG, then ~/.kube/config)',
  },
  {
    name: 'context',
    kind: 'string',
    arg: 'NAME',
    help: 'the kubeconfig context to use (default: its current context)',
  },
  {
    name: 'mutating-webhook-configuration',
    kind: 'string',
    arg: 'NAME',
    def: serveDefault('mutating-webhook-configuration'),
    help: "the MutatingWebhookConfiguration that holds the webhooks (serve's flag of the same name)",
  },
  {
    name: 'sidecar-mode',
    kind: 'string',
    arg: 'MODE',
    def: 'injected',
    help: 'as the server runs: injected or native, for what a pod created now would get',
  },
  {
    name: 'scheduler-name',
    kind: 'string',
    arg: 'NAME',
    help: 'as the server runs: --scheduler-name, for what a pod created now would get',
  },
  { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' },
];

const flagLines = (flags: readonly Flag[]) =>
  flags
    .map(f => {
      const left = `  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.arg ? ` ${f.arg}` : ''}`;
      return `${left.padEnd(42)} ${f.help}${f.def ? ` (default ${f.def})` : ''}`;
    })
    .join('\n');

export function explainHelp(): string {
  return `Usage: vineyard-webhook explain pod/NAME [-n NS] [--kubeconfig FILE] [flags]
       vineyard-webhook explain -f FILE|DIR|- [flags]   (mutate --explain)

Says why each pod webhook was or was not called, and what it did.

For a pod in a cluster (pod/NAME, or pod NAME), read-only: reads the pod, its
namespace, the Sidecar and Vineyardd CRs it names and the cluster's
MutatingWebhookConfiguration (--mutating-webhook-configuration), then for each
pod webhook says whether its selectors match the pod now, what it recorded on
the pod when the pod was created (its annotation, e.g. sidecar.v6d.io/status),
and, when it matches but left no record, what it would do to such a pod
created now. Notes name what in the configuration stops or hides a call (no
caBundle, rules without pod CREATE, failurePolicy Ignore); hints say what to
run. It uses your credentials: get on the pod, its namespace and the
configuration.

For a manifest (-f), offline: each pod and pod template goes through the
webhooks of deploy/ as mutate does, with mutate's flags (vineyard-webhook
mutate --help).

Exit status: 0 the explanation is on stdout; 1 the cluster could not be read,
the pod does not exist, or the input is not a manifest; 2 bad flags.

Flags for pod/NAME:
${flagLines(explainPodFlags)}

Examples:
  vineyard-webhook explain pod/job-deployment-5d8f9c7b6-x2x7q -n vineyard-job
  vineyard-webhook explain pod etl-0 -n jobs --kubeconfig ~/.kube/prod
  vineyard-webhook explain -f deployment.yaml --namespace-label sidecar-injection=enabled
`;
}

const POD_KINDS = ['pod', 'pods', 'po'];

/** The pod's name from `pod/NAME` or `pod NAME`; a usage error naming the fix otherwise. */
export function podName(args: readonly string[]): string {
  const [first = '', ...rest] = args;
  const slash = first.indexOf('/');
  const [kind, name, extra] =
    slash >= 0 ? [first.slice(0, slash), first.slice(slash + 1), rest] : [first, rest[0], rest.slice(1)];
  if (!POD_KINDS.includes(kind.toLowerCase())) {
    throw new UsageError(
      `explain reads pods from a cluster (pod/NAME), not ${JSON.stringify(first)}; for a workload, explain its manifest: kubectl get ${slash >= 0 ? `${kind} ${name}` : first} -o yaml | vineyard-webhook explain -f - --kubeconfig FILE`,
    );
  }
  if (!name) throw new UsageError(`explain ${first}: which pod? e.g. explain pod/NAME -n NAMESPACE`);
  if (extra.length) throw new UsageError(`explain takes one pod, got ${JSON.stringify(args.join(' '))}`);
  if (!isSubdomain(name))
    throw new UsageError(
      `explain: ${JSON.stringify(name)} is not a pod name (lower-case letters, digits, '-' and '.')`,
    );
  return name;
}

/** Every flag of both forms: enough to tell the arguments from the flags' values. */
const anyFlags: readonly Flag[] = [...new Map([...mutateFlags, ...explainPodFlags].map(f => [f.name, f])).values()];

export async function runExplainCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const hint = 'vineyard-webhook explain --help';
  const { values: any, positionals } = parseFlagsAndArgs(anyFlags, argv, 'explain: ', hint);
  if (any.help === true) {
    io.stdout.write(explainHelp());
    return 0;
  }
  if (!positionals.length) return runMutateCommand(['--explain', ...argv], io);

  const { values } = parseFlagsAndArgs(explainPodFlags, argv, 'explain pod/NAME: ', hint);
  const name = podName(positionals);
  const str = (n: string) => (values[n] as string | undefined) ?? explainPodFlags.find(f => f.name === n)!.def;
  const sidecarMode = oneOf('--sidecar-mode', str('sidecar-mode')!, SIDECAR_MODES);
  const schedulerName = schedulerNameFlag(str('scheduler-name'));
  const configurationName = str('mutating-webhook-configuration')!;
  if (values.namespace !== undefined && !isDnsLabel(values.namespace as string))
    throw new UsageError(
      `-n/--namespace: ${JSON.stringify(values.namespace)} is not a namespace name (lower-case letters, digits and '-', at most 63 characters)`,
    );
  if (!isSubdomain(configurationName))
    throw new UsageError(
      `--mutating-webhook-configuration: ${JSON.stringify(configurationName)} is not an object name`,
    );

  // Loaded only here: the offline preview needs no client library.
  const { runExplainPod } = await import('./run-explain-pod.js');
  return runExplainPod({
    name,
    configurationName,
    io,
    ...(values.namespace !== undefined ? { namespace: values.namespace as string } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig as string } : {}),
    ...(values.context !== undefined ? { context: values.context as string } : {}),
    config: { ...defaultPipelineConfig, sidecarMode, schedulerName, schedulingNoData: 'deny' },
  });
}
