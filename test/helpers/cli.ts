// Runs the built CLI (dist/cli.js) as a user would, without blocking the event
// loop: a fake API server in the test's own process must be able to answer it.
import { spawn } from 'node:child_process';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise(done => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => {
      stdout += d;
    });
    child.stderr.on('data', d => {
      stderr += d;
    });
    child.on('close', code => done({ code: code ?? -1, stdout, stderr }));
  });
}
