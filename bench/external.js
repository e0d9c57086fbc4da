// Optional external generators for the saturation phase, when installed from
// Debian (apt-get install nghttp2-client wrk): h2load --h1 and wrk, a
// cross-check that the Node generator is not what limits the figure. They
// send one fixed review (one uid) and check only status codes, so the Node
// generator, which checks every answer, stays the default.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const installed = (cmd, arg) => spawnSync(cmd, [arg], { stdio: 'ignore' }).error === undefined;

export function externalGenerators() {
  return [installed('h2load', '--version') && 'h2load', installed('wrk', '--version') && 'wrk'].filter(Boolean);
}

function run(cmd, args, cpus) {
  const [c, a] = cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', d => {
      out += d;
    });
    child.stderr.on('data', d => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', code =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out.slice(-2000)}`)),
    );
  });
}

/** Saturation with `generator`: {rps, answered, failed}. */
export async function runExternal(generator, { scenario, port, connections, durationS, cpus }) {
  if (!externalGenerators().includes(generator))
    throw new Error(
      `--generator ${generator}: not installed (apt-get install -y ${generator === 'h2load' ? 'nghttp2-client' : 'wrk'})`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'vineyard-bench-ext-'));
  try {
    const body = scenario.bodyParts.join(randomUUID());
    const url = `https://127.0.0.1:${port}${scenario.path}?timeout=10s`;
    if (generator === 'h2load') {
      writeFileSync(join(dir, 'body.json'), body);
      const out = await run(
        'h2load',
        [
          '--h1',
          '-c',
          String(connections),
          '-t',
          '1',
          '-D',
          String(durationS),
          '-d',
          join(dir, 'body.json'),
          '-H',
          'content-type: application/json',
          url,
        ],
        cpus,
      );
      const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1]);
      const req = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
        out,
      );
      const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
      const failed = Number(req?.[4] ?? 0) + Number(req?.[5] ?? 0) + Number(codes?.[3] ?? 0) + Number(codes?.[4] ?? 0);
      return { rps, answered: Number(req?.[2] ?? 0), failed };
    }
    writeFileSync(
      join(dir, 'post.lua'),
      `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`,
    );
    const out = await run(
      'wrk',
      ['-t1', `-c${connections}`, `-d${durationS}s`, '-s', join(dir, 'post.lua'), url],
      cpus,
    );
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const answered = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    return { rps, answered, failed: non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
