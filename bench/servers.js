// The processes under test: the webhook (`dist/cli.js serve --standalone`)
// and the ceiling (bench/ceiling.js), each a child pinned to its own core, and
// what the bench reads from them: RSS and CPU time from /proc, event-loop
// delay and heap from the webhook's /metrics.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;

export const hasTaskset = () => spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/** Moves this process (every thread, so later worker threads too) to `cpus` (taskset list syntax). */
export function pinSelf(cpus) {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -cp ${cpus} ${process.pid} failed: ${r.stderr}`);
}

/** VmRSS and VmHWM (peak) of `pid` in MiB, or undefined once it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = key => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout?.trim()) || 100;
})();

/** User + system CPU seconds of `pid` (all its threads). */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}

function nodeCommand(core, nodeArgs) {
  return core !== undefined
    ? ['taskset', ['-c', String(core), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
}

/**
 * Starts a child and resolves once `ready(line)` returns a port. Stdout keeps
 * being drained (the webhook logs a line per review, as it would to a
 * container runtime's pipe): lines and error-level lines are counted.
 */
function startChild(name, core, nodeArgs, ready, env = {}) {
  const [cmd, args] = nodeCommand(core, nodeArgs);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const proc = {
    name,
    child,
    pid: child.pid,
    port: 0,
    logLines: 0,
    errorLines: 0,
    lastErrors: [],
    stderr: '',
    exited: null,
  };
  let pendingText = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const fail = why =>
      reject(new Error(`${name} did not start: ${why}\n${proc.stderr.slice(-2000)}\n${pendingText.slice(-2000)}`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail('no port within 30 s');
    }, 30_000);
    child.stdout.on('data', chunk => {
      if (!listening) {
        pendingText += chunk.toString('utf8');
        let nl;
        while ((nl = pendingText.indexOf('\n')) >= 0) {
          const line = pendingText.slice(0, nl);
          pendingText = pendingText.slice(nl + 1);
          const port = ready(line);
          if (port) {
            listening = true;
            proc.port = port;
            clearTimeout(timer);
            resolve(proc);
            break;
          }
        }
        return;
      }
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) proc.logLines++;
      // pino writes level 50 (error) and 60 (fatal) lines; a review that errs shows up here.
      if (chunk.indexOf('"level":50') >= 0 || chunk.indexOf('"level":60') >= 0) {
        const text = chunk.toString('utf8');
        for (const line of text.split('\n')) {
          if (/"level":(50|60)/.test(line)) {
            proc.errorLines++;
            if (proc.lastErrors.length < 5) proc.lastErrors.push(line.slice(0, 500));
          }
        }
      }
    });
    child.stderr.on('data', c => {
      proc.stderr = (proc.stderr + c.toString('utf8')).slice(-8000);
    });
    child.once('exit', (code, signal) => {
      proc.exited = { code, signal };
      clearTimeout(timer);
      if (!listening) fail(`exited (${code ?? signal})`);
    });
  });
}

/** Stops a child with SIGTERM (it drains and exits; a --cpu-prof profile is written then), SIGKILL after `graceMs`. */
export async function stopChild(proc, graceMs = 15_000) {
  if (proc.exited) return proc.exited;
  const done = new Promise(r => proc.child.once('exit', (code, signal) => r({ code, signal })));
  proc.child.kill('SIGTERM');
  const t = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const r = await done;
  clearTimeout(t);
  return r;
}

export function startWebhook({ core, resourcesDir, certDir, logLevel, cpuProfDir, nodeOptions = [], env = {} }) {
  const nodeArgs = [
    ...nodeOptions,
    ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []),
    'dist/cli.js',
    'serve',
    '--standalone',
    '--resources',
    resourcesDir,
    '--cert-dir',
    certDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    logLevel,
  ];
  if (!existsSync(join(ROOT, 'dist/cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm run bench does)');
  return startChild(
    'webhook',
    core,
    nodeArgs,
    line => {
      try {
        const o = JSON.parse(line);
        return o.msg === 'vineyard-webhook listening' ? o.port : undefined;
      } catch {
        return undefined;
      }
    },
    env,
  );
}

/** The port in the `{"port": N}` line the ceiling and the frame print once listening. */
function announcedPort(line) {
  try {
    return JSON.parse(line).port;
  } catch {
    return undefined;
  }
}

export function startCeiling({ core, certDir, cpuProfDir }) {
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, 'ceiling')] : [];
  return startChild('ceiling', core, [...profile, 'bench/ceiling.js', '--cert-dir', certDir], announcedPort);
}

/** bench/frame.js: the webhook's server with endpoints that do nothing, run with the webhook's node flags. */
export function startFrame({ core, certDir, cpuProfDir, nodeOptions = [] }) {
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, 'frame')] : [];
  return startChild(
    'frame',
    core,
    [...nodeOptions, ...profile, 'bench/frame.js', '--cert-dir', certDir],
    announcedPort,
  );
}

/** GET /metrics of the webhook, as {name: value} for unlabelled samples. */
export function scrapeMetrics(port, ca) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/metrics', ca, servername: 'localhost', agent: false, timeout: 10_000 },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', c => {
          text += c;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET /metrics: HTTP ${res.statusCode}`));
            return;
          }
          const out = {};
          for (const line of text.split('\n')) {
            const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$/.exec(line);
            if (m && !m[2]) out[m[1]] = Number(m[3]);
            // V8's heap by space (new, old, code...): where a heap that grows grows.
            const space = m && m[1] === 'nodejs_heap_space_size_total_bytes' && /space="([^"]+)"/.exec(m[2] ?? '');
            if (space) (out.heapSpaces ??= {})[space[1]] = Number(m[3]);
          }
          resolve(out);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('GET /metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The event-loop delay the webhook saw since the previous scrape (prom-client resets its histogram on each). */
export function eventLoopDelay(m) {
  const ms = k => (m[k] === undefined ? undefined : m[k] * 1000);
  return {
    p50Ms: ms('nodejs_eventloop_lag_p50_seconds'),
    p99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
    maxMs: ms('nodejs_eventloop_lag_max_seconds'),
  };
}
