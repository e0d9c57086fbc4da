// The commands behind src/cli.ts (which checks the Node.js version first):
// `vineyard-webhook serve|mutate|explain|version|help`, with -h/--help on each and
// --version, as kubectl and its neighbours take them.
import { parseServeArgs, serveHelp } from './config.js';
import { parseFlags, UsageError, type Flag } from './flags.js';
import { VERSION } from './version.js';

const USAGE = `Usage: vineyard-webhook <command> [flags]

Commands:
  serve     run the admission webhook server
  mutate    print manifests as the webhook would admit their pods (offline, no cluster)
  explain   say why each webhook was or was not called: for a pod in a cluster (pod/NAME) or each pod of a manifest (-f)
  version   print the version
  help      show the help of a command

Flags:
  -h, --help     show this help
      --version  print the version

Run 'vineyard-webhook help <command>' or 'vineyard-webhook <command> --help' for the flags of a command.
`;

const versionFlags: readonly Flag[] = [{ name: 'help', short: 'h', kind: 'boolean', help: 'show this help' }];

const VERSION_HELP = `Usage: vineyard-webhook version

Prints the version of vineyard-webhook and of the Node.js that runs it.

Flags:
  -h, --help  show this help
`;

const versionText = () => `vineyard-webhook ${VERSION} (Node.js ${process.version})\n`;

const COMMANDS = ['serve', 'mutate', 'explain', 'version', 'help'] as const;

const unknown = (command: string) =>
  new UsageError(
    `unknown command ${JSON.stringify(command)}; the commands are ${COMMANDS.join(', ')} (see vineyard-webhook --help)`,
  );

async function explain(args: string[]): Promise<number> {
  const { runExplainCommand } = await import('./cli/explain/command.js');
  return runExplainCommand(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

async function mutate(args: string[]): Promise<number> {
  const { runMutateCommand } = await import('./cli/mutate/command.js');
  return runMutateCommand(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

async function help(topic: string | undefined, rest: string[]): Promise<number> {
  if (rest.length > 0)
    throw new UsageError(
      `help takes one command, got ${JSON.stringify([topic, ...rest].join(' '))}; e.g. vineyard-webhook help serve`,
    );
  switch (topic) {
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'serve':
      process.stdout.write(serveHelp());
      return 0;
    case 'mutate':
      return mutate(['--help']);
    case 'explain':
      return explain(['--help']);
    case 'version':
      process.stdout.write(VERSION_HELP);
      return 0;
    default:
      throw unknown(topic);
  }
}

async function serve(args: string[]): Promise<number> {
  // Before the flags are checked: help must come even when a flag or an
  // environment variable is what the user is trying to get right.
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(serveHelp());
    return 0;
  }
  const cfg = parseServeArgs(args);
  const { startServer, createLogger } = await import('./serve.js');
  const { log, destination } = createLogger(cfg.logLevel, cfg.logFormat);
  const running = await startServer(cfg, log);
  await new Promise<void>(resolve => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      void running.shutdown().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Exit explicitly: a log write blocked on a stdout nobody reads would
  // otherwise keep the process alive. The last lines get a moment first.
  await destination.drained(2000);
  process.exit(0);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    case '-h':
    case '--help':
      return help(undefined, rest);
    case 'help':
      return help(rest[0], rest.slice(1));
    case '--version':
      process.stdout.write(versionText());
      return 0;
    case 'version': {
      const values = parseFlags(versionFlags, rest, 'version: ', 'vineyard-webhook version --help');
      process.stdout.write(values.help ? VERSION_HELP : versionText());
      return 0;
    }
    case 'serve':
      return serve(rest);
    case 'mutate':
      return mutate(rest);
    case 'explain':
      return explain(rest);
    default:
      throw unknown(command);
  }
}

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`vineyard-webhook: ${err.message}\n`);
    else process.stderr.write(`vineyard-webhook: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
