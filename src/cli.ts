#!/usr/bin/env node
// Entry point: `vineyard-webhook serve|mutate|help`.
import { parseServeArgs, serveHelp } from './config.js';
import { UsageError } from './flags.js';

const USAGE = `Usage: vineyard-webhook <command> [flags]

Commands:
  serve     run the admission webhook server
  mutate    print manifests as the webhook would admit their pods (offline, no cluster)
  help      show this help

Run 'vineyard-webhook <command> --help' for the flags of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'serve') {
    const cfg = parseServeArgs(rest);
    if (cfg.help) { process.stdout.write(serveHelp()); return 0; }
    const { startServer, createLogger } = await import('./serve.js');
    const { log, destination } = createLogger(cfg.logLevel, cfg.logFormat);
    const running = await startServer(cfg, log);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => { log.info({ signal }, 'shutting down'); void running.shutdown().then(resolve); };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    // Exit explicitly: a log write blocked on a stdout nobody reads would
    // otherwise keep the process alive. The last lines get a moment first.
    await destination.drained(2000);
    process.exit(0);
  }
  if (command === 'mutate') {
    const { runMutateCommand } = await import('./mutate/command.js');
    return runMutateCommand(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`vineyard-webhook: ${err.message}\n`);
    else process.stderr.write(`vineyard-webhook: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
