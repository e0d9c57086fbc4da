// Flags of `vineyard-webhook serve`. Each flag is also an environment variable
// (VINEYARD_WEBHOOK_<FLAG>, flags win). The table below is the single source
// of the parser, the validation and the --help text.
import { SIDECAR_METAS, type SidecarMeta } from './admission/endpoint.js';
import { isIP } from 'node:net';
import { oneOf, parseFlags, UsageError, type Flag } from './flags.js';
import { isSubdomain } from './vineyard/label-rules.js';
import { LOG_FORMATS, type LogFormat } from './log-format.js';
import { parseDuration } from './duration.js';
import { WEBHOOK_NAMESPACE } from './vineyard/names.js';
import type { SidecarMode } from './vineyard/sidecar.js';

export const serveFlags: readonly Flag[] = [
  { name: 'host', kind: 'string', def: '0.0.0.0', arg: 'ADDR', help: 'address to listen on' },
  { name: 'port', kind: 'string', def: '9443', arg: 'N', help: 'TLS port to listen on (0 picks a free port)' },
  {
    name: 'metrics-port',
    kind: 'string',
    def: '8080',
    arg: 'N',
    help: "plain-HTTP port for /metrics, /healthz and /readyz (Prometheus and the kubelet's probes, no TLS; the TLS port answers them too); 0 turns it off",
  },
  {
    name: 'standalone',
    kind: 'boolean',
    help: 'no cluster: in-memory store (seeded by --resources) and self-managed dev certificates; also chosen when no cluster config is found',
  },
  {
    name: 'kubeconfig',
    kind: 'string',
    arg: 'FILE',
    help: 'kubeconfig to reach the API server (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)',
  },
  {
    name: 'resources',
    kind: 'string',
    arg: 'DIR',
    help: 'YAML/JSON manifests of Sidecar and Vineyardd CRs (and Pods) for the in-memory store',
  },
  {
    name: 'cert-mode',
    kind: 'string',
    arg: 'MODE',
    help: 'self: CA and serving certificate kept in --cert-dir (default in standalone mode); files: tls.crt/tls.key from --cert-dir (or --tls-cert-file/--tls-key-file), reloaded on change; secret: CA in a Secret, serving certificate in memory (default in a cluster)',
  },
  { name: 'cert-dir', kind: 'string', def: './.certs', arg: 'DIR', help: 'directory of ca.crt, tls.crt, tls.key' },
  {
    name: 'tls-cert-file',
    kind: 'string',
    arg: 'FILE',
    help: 'serving certificate (files mode; overrides --cert-dir/tls.crt)',
  },
  { name: 'tls-key-file', kind: 'string', arg: 'FILE', help: 'serving key (files mode; overrides --cert-dir/tls.key)' },
  {
    name: 'cert-san',
    kind: 'string',
    multiple: true,
    arg: 'NAME|IP',
    help: 'extra DNS name or IP address for the serving certificate (repeatable; env: comma separated)',
  },
  {
    name: 'namespace',
    kind: 'string',
    arg: 'NS',
    help: `the webhook's own namespace (default: the service account's namespace file, else ${WEBHOOK_NAMESPACE})`,
  },
  {
    name: 'service-name',
    kind: 'string',
    def: 'vineyard-webhook',
    arg: 'NAME',
    help: 'Service in front of the webhook: serving certificate SANs and caBundle targets',
  },
  {
    name: 'secret-name',
    kind: 'string',
    def: 'vineyard-webhook-ca',
    arg: 'NAME',
    help: 'Secret that holds the CA in secret mode',
  },
  {
    name: 'mutating-webhook-configuration',
    kind: 'string',
    def: 'vineyard-webhook',
    arg: 'NAME',
    help: 'MutatingWebhookConfiguration whose caBundle is kept current (secret mode)',
  },
  {
    name: 'validating-webhook-configuration',
    kind: 'string',
    def: 'vineyard-webhook',
    arg: 'NAME',
    help: 'ValidatingWebhookConfiguration whose caBundle is kept current (secret mode)',
  },
  {
    name: 'ca-validity',
    kind: 'string',
    def: '365d',
    arg: 'DURATION',
    help: 'lifetime of a generated CA (Go durations such as 8760h or 1h30m, or days: 365d)',
  },
  {
    name: 'cert-validity',
    kind: 'string',
    def: '30d',
    arg: 'DURATION',
    help: 'lifetime of a generated serving certificate',
  },
  {
    name: 'sidecar-mode',
    kind: 'string',
    def: 'injected',
    arg: 'MODE',
    help: 'injected: vineyardd as a container and a socket-wait command rewrite; native: vineyardd as a restartable init container (Kubernetes >= 1.29); a pod may choose with the sidecar.v6d.io/native annotation',
  },
  {
    name: 'scheduler-name',
    kind: 'string',
    def: '',
    arg: 'NAME',
    help: 'when set, pods of /mutate-v1-pod-scheduling still on default-scheduler get this schedulerName',
  },
  {
    name: 'sidecar-meta',
    kind: 'string',
    def: 'etcd',
    arg: 'MODE',
    help: "where injected vineyardd keeps its metadata unless the pod or its Sidecar says (annotation sidecar.v6d.io/meta): etcd, the Sidecar's etcd that the Vineyard operator creates; local, in the vineyardd process (no operator needed; shared by the containers of one pod)",
  },
  {
    name: 'placement',
    kind: 'string',
    def: 'affinity',
    arg: 'MODE',
    help: "how a workflow pod (label scheduling.v6d.io/enabled=true, annotation scheduledOrder) is placed: affinity, a required node affinity on the chosen node (keeps the scheduler's resource and taint checks); node-name, spec.nodeName as the Vineyard operator did",
  },
  {
    name: 'scheduling-no-data',
    kind: 'string',
    def: 'deny',
    arg: 'MODE',
    help: 'a pod of /mutate-v1-pod-scheduling whose required job has no objects on a ready vineyardd node yet: deny (its controller retries until the data exists), or allow with a warning and no data placement',
  },
  {
    name: 'operation-timeout',
    kind: 'string',
    def: '10m',
    arg: 'DURATION',
    help: "how long an assembly or repartition pod of /mutate-v1-pod-scheduling is refused while the Operation it waits for (created by the webhook) has not succeeded, counted from the Operation's creation; after that it is refused as timed out, naming what to check, until the Operation succeeds or is deleted",
  },
  {
    name: 'body-limit',
    kind: 'string',
    def: '4Mi',
    arg: 'SIZE',
    help: 'largest accepted request body (bytes, or with Ki/Mi suffix)',
  },
  {
    name: 'shutdown-timeout',
    kind: 'string',
    def: '25s',
    arg: 'DURATION',
    help: 'longest wait for in-flight reviews after SIGTERM',
  },
  {
    name: 'log-level',
    kind: 'string',
    def: 'info',
    arg: 'LEVEL',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  {
    name: 'log-format',
    kind: 'string',
    arg: 'FORMAT',
    help: 'json (one object a line, numeric pino levels) or text (local time, level name, key=value fields); default: text when stdout is a terminal, else json',
  },
  { name: 'help', short: 'h', kind: 'boolean', help: 'show this help', noEnv: true },
];

export const envName = (flag: string) => `VINEYARD_WEBHOOK_${flag.toUpperCase().replace(/-/g, '_')}`;

export interface ServeConfig {
  host: string;
  port: number;
  /** 0: no metrics port. */
  metricsPort: number;
  standalone: boolean;
  kubeconfig?: string;
  resources?: string;
  certMode?: 'self' | 'files' | 'secret';
  certDir: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  certSans: string[];
  namespace?: string;
  serviceName: string;
  secretName: string;
  mutatingWebhookConfiguration: string;
  validatingWebhookConfiguration: string;
  caValidityMs: number;
  certValidityMs: number;
  sidecarMode: SidecarMode;
  schedulerName: string;
  placement: 'affinity' | 'node-name';
  sidecarMeta: SidecarMeta;
  schedulingNoData: 'deny' | 'allow';
  operationTimeoutMs: number;
  bodyLimit: number;
  shutdownTimeoutMs: number;
  logLevel: string;
  /** Undefined: text on a terminal, JSON otherwise (decided where stdout is known). */
  logFormat?: LogFormat;
  help: boolean;
}

function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new UsageError(
      `--${flag}: ${JSON.stringify(text)} is not a duration; write it as Go does (90s, 15m, 1h30m, 720h0m0s, 500ms) or in days (30d)`,
    );
  if (ms <= 0) throw new UsageError(`--${flag}: ${JSON.stringify(text)} must be longer than zero`);
  return ms;
}

function parseSize(flag: string, text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|KiB|MiB|GiB|k|M|G)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not a size; use bytes or a suffix: 4Mi, 512Ki`);
  const mult: Record<string, number> = {
    Ki: 1024,
    KiB: 1024,
    Mi: 1024 ** 2,
    MiB: 1024 ** 2,
    Gi: 1024 ** 3,
    GiB: 1024 ** 3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
  };
  const n = Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
  if (n < 1024) throw new UsageError(`--${flag}: ${text} is too small; at least 1Ki`);
  return n;
}

export const SIDECAR_MODES: readonly SidecarMode[] = ['injected', 'native'];

/** --scheduler-name, of serve and of mutate: empty (leave spec.schedulerName alone) or a scheduler's name. */
export function schedulerNameFlag(value: string | undefined): string {
  const name = value ?? '';
  if (name && !isSubdomain(name))
    throw new UsageError(
      `--scheduler-name: ${JSON.stringify(name)} is not a valid scheduler name (lower-case DNS-1123 subdomain)`,
    );
  return name;
}

export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const values = parseFlags(serveFlags, argv, '', '--help');
  const get = (f: Flag): string | boolean | string[] | undefined => {
    const v = values[f.name];
    if (v !== undefined || f.noEnv) return v ?? f.def;
    const e = env[envName(f.name)];
    if (e === undefined || e === '') return f.def;
    if (f.kind === 'boolean') {
      if (/^(1|true|yes)$/i.test(e)) return true;
      if (/^(0|false|no)$/i.test(e)) return false;
      throw new UsageError(
        `${envName(f.name)} (--${f.name}): ${JSON.stringify(e)} is not a boolean; use true or false`,
      );
    }
    return f.multiple
      ? e
          .split(',')
          .map(s => s.trim())
          .filter(Boolean)
      : e;
  };
  const str = (name: string): string | undefined => get(serveFlags.find(f => f.name === name)!) as string | undefined;
  const bool = (name: string): boolean => get(serveFlags.find(f => f.name === name)!) === true;
  const list = (name: string): string[] => (get(serveFlags.find(f => f.name === name)!) as string[] | undefined) ?? [];

  const portText = str('port')!;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new UsageError(`--port: ${JSON.stringify(portText)} is not a port number between 0 and 65535`);
  const metricsPortText = str('metrics-port')!;
  const metricsPort = Number(metricsPortText);
  if (!/^\d+$/.test(metricsPortText) || metricsPort > 65535)
    throw new UsageError(
      `--metrics-port: ${JSON.stringify(metricsPortText)} is not a port number between 0 (off) and 65535`,
    );
  if (metricsPort !== 0 && metricsPort === port)
    throw new UsageError(
      `--metrics-port: ${metricsPort} is also --port; give the metrics port another number, or 0 to turn it off`,
    );
  const host = str('host')!;
  if (!host) throw new UsageError('--host: must not be empty');

  const certModeText = str('cert-mode');
  const certMode =
    certModeText === undefined ? undefined : oneOf('--cert-mode', certModeText, ['self', 'files', 'secret'] as const);
  const certSans = list('cert-san');
  for (const s of certSans) {
    if (!isIP(s) && !isSubdomain(s) && !/^\*\.[a-z0-9.-]+$/.test(s))
      throw new UsageError(`--cert-san: ${JSON.stringify(s)} is neither an IP address nor a lower-case DNS name`);
  }
  const tlsCertFile = str('tls-cert-file');
  const tlsKeyFile = str('tls-key-file');
  if (!!tlsCertFile !== !!tlsKeyFile)
    throw new UsageError('--tls-cert-file and --tls-key-file go together: give both or neither');
  const logLevel = oneOf('--log-level', str('log-level')!, [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ] as const);
  const schedulerName = schedulerNameFlag(str('scheduler-name'));
  const logFormatText = str('log-format');
  const logFormat = logFormatText === undefined ? undefined : oneOf('--log-format', logFormatText, LOG_FORMATS);

  return {
    host,
    port,
    metricsPort,
    standalone: bool('standalone'),
    kubeconfig: str('kubeconfig'),
    resources: str('resources'),
    certMode,
    certDir: str('cert-dir')!,
    tlsCertFile,
    tlsKeyFile,
    certSans,
    namespace: str('namespace'),
    serviceName: str('service-name')!,
    secretName: str('secret-name')!,
    mutatingWebhookConfiguration: str('mutating-webhook-configuration')!,
    validatingWebhookConfiguration: str('validating-webhook-configuration')!,
    caValidityMs: durationFlag('ca-validity', str('ca-validity')!),
    certValidityMs: durationFlag('cert-validity', str('cert-validity')!),
    sidecarMode: oneOf('--sidecar-mode', str('sidecar-mode')!, SIDECAR_MODES),
    schedulerName,
    placement: oneOf('--placement', str('placement')!, ['affinity', 'node-name'] as const),
    sidecarMeta: oneOf('--sidecar-meta', str('sidecar-meta')!, SIDECAR_METAS),
    schedulingNoData: oneOf('--scheduling-no-data', str('scheduling-no-data')!, ['deny', 'allow'] as const),
    operationTimeoutMs: durationFlag('operation-timeout', str('operation-timeout')!),
    bodyLimit: parseSize('body-limit', str('body-limit')!),
    shutdownTimeoutMs: durationFlag('shutdown-timeout', str('shutdown-timeout')!),
    logLevel,
    logFormat,
    help: bool('help'),
  };
}

export function serveHelp(): string {
  const left = (f: Flag) => `  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.arg ? ' ' + f.arg : ''}`;
  const width = Math.max(...serveFlags.map(f => left(f).length)) + 2;
  const lines = serveFlags.map(f => {
    const def = f.def !== undefined && f.def !== '' ? ` (default ${f.def})` : '';
    return `${left(f).padEnd(width)}${f.help}${def}${f.noEnv ? '' : `\n${' '.repeat(width)}env ${envName(f.name)}`}`;
  });
  return `Usage: vineyard-webhook serve [flags]

Runs the admission webhook server: the webhooks over TLS (HTTP/1.1 and HTTP/2)
on --port, and /metrics, /healthz and /readyz over plain HTTP on --metrics-port.
Each flag can also be given as the environment variable under it; a flag wins
over its variable. A DURATION is written as Go writes it (90s, 15m, 1h30m,
720h0m0s, 500ms) or in days (30d).

Flags:
${lines.join('\n')}
`;
}
