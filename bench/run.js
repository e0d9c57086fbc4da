// npm run bench [-- flags]: throughput, latency and memory of the webhook
// under the load one kube-apiserver puts on it (HTTP/1.1 + TLS, 25 kept-alive
// connections, a fresh uid per review), next to a bare Node https server (the
// ceiling) and to this server with endpoints that do nothing (the frame),
// driven the same way. Every answer is checked; a wrong one fails the run.
// See docs/performance.md.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus as cpuList, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deployedNodeOptions } from './deployed-node-options.js';
import { SAME_POD_SCENARIO, SCENARIOS, TARGET_SCENARIO, writeResources } from './scenarios.js';
import { GeneratorPool } from './pool.js';
import {
  cpuSecondsOf,
  eventLoopDelay,
  hasTaskset,
  memoryOf,
  pinSelf,
  scrapeMetrics,
  startCeiling,
  startFrame,
  startWebhook,
  stopChild,
} from './servers.js';
import { externalGenerators, runExternal } from './external.js';
import { mergePhase, round, table } from './stats.js';

const ROOT = new URL('../', import.meta.url).pathname;
const RESULTS = join(ROOT, 'bench/results');

const HELP = `Usage: npm run bench -- [flags]

  --scenarios a,b       scenarios to run (default: all; --list shows them)
  --duration S          fixed-rate phase length in seconds (default 30)
  --rate N              fixed rate in reviews per second (default 1000)
  --saturation S        saturation phase length in seconds (default 10)
  --warmup S            warm-up before each scenario's measurements (default 3)
  --quick               short phases for a smoke test (warm-up 0.5 s, saturation 1 s, duration 1 s unless given)
  --soak S              instead: S seconds at the fixed rate on ${TARGET_SCENARIO} (or the first --scenarios),
                        RSS sampled every second, growth checked (exit 1 when it grows)
  --connections N       kept-alive connections (default 25, as one kube-apiserver)
  --workers N           generator worker threads sharing them (default: 2)
  --generator G         saturation measured by: node (default), h2load or wrk when installed
                        (those send one fixed review and check only status codes)
  --no-ceiling          skip the bare https server measurements (and the frame's)
  --no-frame            skip the frame: this server with endpoints that do nothing (bench/frame.js)
  --cpu-prof            run the webhook under node --cpu-prof (profile in bench/results/profiles/,
                        the ceiling's and the frame's in profiles/ceiling/ and profiles/frame/)
  --log-level L         the webhook's --log-level (default info, as in production)
  --node-options=FLAGS  flags for the webhook's node (default: NODE_OPTIONS of deploy/deployment.yaml)
  --out FILE            JSON results (default bench/results/latest.json, soak.json for --soak)
  --list                list the scenarios and exit
`;

/** The ceiling as the mean of its measurements before and after the webhook's; both kept. */
function bracketed(before, after) {
  const mean = k =>
    typeof before[k] === 'number' && typeof after[k] === 'number' ? round((before[k] + after[k]) / 2, 1) : before[k];
  return {
    ...before,
    rps: mean('rps'),
    serverCpu: mean('serverCpu'),
    cpuUsPerReview: mean('cpuUsPerReview'),
    failed: (before.failed ?? 0) + (after.failed ?? 0),
    phases: [before, after],
  };
}

function parseFlags(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      saturation: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      soak: { type: 'string' },
      connections: { type: 'string', default: '25' },
      workers: { type: 'string', default: '2' },
      generator: { type: 'string', default: 'node' },
      'no-ceiling': { type: 'boolean', default: false },
      'no-frame': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      'node-options': { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name, v, min = 0) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= min)
      throw new Error(`--${name}: ${JSON.stringify(v)} is not a number above ${min}`);
    return n;
  };
  const quick = values.quick;
  const picked = values.scenarios
    ? values.scenarios
        .split(',')
        .map(s => s.trim())
        .filter(Boolean)
    : undefined;
  for (const name of picked ?? []) {
    if (!SCENARIOS.some(s => s.name === name))
      throw new Error(
        `--scenarios: no scenario ${JSON.stringify(name)}; there are ${SCENARIOS.map(s => s.name).join(', ')}`,
      );
  }
  if (!['node', 'h2load', 'wrk'].includes(values.generator)) throw new Error('--generator: node, h2load or wrk');
  return {
    help: values.help,
    list: values.list,
    quick,
    scenarios: picked ? SCENARIOS.filter(s => picked.includes(s.name)) : SCENARIOS,
    durationS: num('duration', values.duration ?? (quick ? 1 : 30)),
    rate: num('rate', values.rate),
    saturationS: num('saturation', values.saturation ?? (quick ? 1 : 10)),
    warmupS: values.warmup !== undefined ? num('warmup', values.warmup, -1) : quick ? 0.5 : 3,
    soakS: values.soak !== undefined ? num('soak', values.soak) : undefined,
    connections: Math.round(num('connections', values.connections)),
    workers: Math.round(num('workers', values.workers)),
    generator: values.generator,
    ceiling: !values['no-ceiling'],
    frame: !values['no-ceiling'] && !values['no-frame'],
    cpuProf: values['cpu-prof'],
    logLevel: values['log-level'],
    nodeOptions: (values['node-options'] ?? deployedNodeOptions()).split(/\s+/).filter(Boolean),
    out: values.out ?? join(RESULTS, values.soak !== undefined ? 'soak.json' : 'latest.json'),
  };
}

/** Samples the server's RSS while a phase runs. */
function rssSampler(pid, everyMs) {
  const samples = [];
  const take = () => {
    const m = memoryOf(pid);
    if (m) samples.push({ t: Date.now(), rssMb: m.rssMb });
  };
  take();
  const t = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(t);
      take();
      return samples;
    },
  };
}

class Bench {
  constructor(opts) {
    this.opts = opts;
    this.failures = [];
    this.notes = [];
  }

  async start() {
    const cpus = availableParallelism();
    this.cpus = cpus;
    this.pinned = hasTaskset() && cpus >= 2;
    if (this.pinned) {
      pinSelf(cpus === 2 ? '1' : `1-${cpus - 1}`);
      this.notes.push(`server pinned to CPU 0 (taskset), generator to CPU ${cpus === 2 ? '1' : `1-${cpus - 1}`}`);
    } else {
      this.notes.push(
        hasTaskset()
          ? 'one CPU only: server and generator share it'
          : 'taskset not found: server and generator are not pinned, figures are not per core',
      );
    }
    this.tmp = mkdtempSync(join(tmpdir(), 'vineyard-bench-'));
    const certDir = join(this.tmp, 'certs');
    const profDir = this.opts.cpuProf ? join(RESULTS, 'profiles') : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    this.webhook = await startWebhook({
      core: this.pinned ? 0 : undefined,
      resourcesDir: writeResources(join(this.tmp, 'resources')),
      certDir,
      logLevel: this.opts.logLevel,
      cpuProfDir: profDir,
      nodeOptions: this.opts.nodeOptions,
    });
    this.ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    if (this.opts.ceiling)
      this.ceiling = await startCeiling({ core: this.pinned ? 0 : undefined, certDir, cpuProfDir: profDir });
    if (this.opts.frame)
      this.frame = await startFrame({
        core: this.pinned ? 0 : undefined,
        certDir,
        cpuProfDir: profDir,
        nodeOptions: this.opts.nodeOptions,
      });
    this.pool = new GeneratorPool(this.opts.workers, this.opts.connections, this.ca);
    this.external = externalGenerators();
  }

  async stop() {
    await this.pool?.close();
    const exits = await Promise.all([
      this.webhook && stopChild(this.webhook),
      this.ceiling && stopChild(this.ceiling),
      this.frame && stopChild(this.frame),
    ]);
    if (this.webhook && exits[0] && exits[0].code !== 0)
      this.notes.push(`the webhook exited with ${exits[0].code ?? exits[0].signal} on SIGTERM`);
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Records wrong answers and errors of a phase as failures of the run. */
  account(scenario, phaseName, phase) {
    if (phase.failed > 0)
      this.failures.push({
        scenario: scenario.name,
        phase: phaseName,
        failed: phase.failed,
        errors: phase.errors,
        problems: phase.problems,
      });
    if (this.webhook.exited)
      throw new Error(
        `the webhook exited (${JSON.stringify(this.webhook.exited)}) during ${scenario.name} ${phaseName}:\n${this.webhook.stderr.slice(-3000)}`,
      );
  }

  /** One phase against the webhook with its server-side figures: CPU, RSS, event-loop delay. */
  async measured(target, phaseOpts) {
    const pid = target.pid;
    const isWebhook = target === this.webhook;
    if (isWebhook) await scrapeMetrics(target.port, this.ca); // resets the event-loop delay histogram
    const cpu0 = cpuSecondsOf(pid);
    const gen0 = process.cpuUsage();
    const rss = rssSampler(pid, 250);
    const t0 = Date.now();
    const results = await this.pool.run({ ...phaseOpts, port: target.port });
    const wallS = (Date.now() - t0) / 1000;
    const samples = rss.stop();
    const gen = process.cpuUsage(gen0);
    const phase = mergePhase(results, phaseOpts.durationMs);
    const cpuS = cpuSecondsOf(pid) - cpu0;
    phase.serverCpu = round(cpuS / wallS, 2);
    // CPU time per answer: what a review costs the server, however busy the machine's other processes kept its core.
    phase.cpuUsPerReview = phase.answered ? round((cpuS * 1e6) / phase.answered, 0) : null;
    phase.generatorCpu = round((gen.user + gen.system) / 1e6 / wallS, 2);
    phase.rssMb = { max: round(Math.max(...samples.map(s => s.rssMb)), 1), end: round(samples.at(-1)?.rssMb, 1) };
    if (isWebhook) {
      const m = await scrapeMetrics(target.port, this.ca);
      phase.eventLoopDelayMs = eventLoopDelay(m);
      phase.heapUsedMb = round(m.nodejs_heap_size_used_bytes / 2 ** 20, 1);
      phase.heapTotalMb = round(m.nodejs_heap_size_total_bytes / 2 ** 20, 1);
      phase.externalMb = round(m.nodejs_external_memory_bytes / 2 ** 20, 1);
      phase.heapSpacesMb = Object.fromEntries(
        Object.entries(m.heapSpaces ?? {}).map(([k, v]) => [k, round(v / 2 ** 20, 1)]),
      );
    }
    return phase;
  }

  async saturation(scenario, target, ceiling) {
    const durationMs = this.opts.saturationS * 1000;
    if (this.opts.generator !== 'node') {
      const cpu0 = cpuSecondsOf(target.pid);
      const t0 = Date.now();
      const ext = await runExternal(this.opts.generator, {
        scenario,
        port: target.port,
        ca: this.ca,
        connections: this.opts.connections,
        durationS: this.opts.saturationS,
        cpus: this.pinned ? (this.cpus === 2 ? '1' : `1-${this.cpus - 1}`) : undefined,
      });
      const cpuS = cpuSecondsOf(target.pid) - cpu0;
      ext.serverCpu = round(cpuS / ((Date.now() - t0) / 1000), 2);
      ext.cpuUsPerReview = ext.answered ? round((cpuS * 1e6) / ext.answered, 0) : null;
      if (ext.failed)
        this.failures.push({
          scenario: scenario.name,
          phase: `saturation (${this.opts.generator})`,
          failed: ext.failed,
          errors: { 'non-2xx or failed': ext.failed },
          problems: [],
        });
      return { ...ext, generator: this.opts.generator };
    }
    return { ...(await this.measured(target, { mode: 'closed', durationMs, ceiling })), generator: 'node' };
  }

  async scenario(s) {
    const o = this.opts;
    const log = msg => process.stderr.write(`[bench] ${s.name}: ${msg}\n`);
    await this.pool.scenario(s);
    const out = { name: s.name, description: s.description, path: s.path, bytes: s.bytes };
    // A server answering a canned allow (the ceiling, the frame): only the envelope is checked.
    const barePhase = async (target, name, warm) => {
      log(name);
      await this.pool.connect(target.port);
      if (warm && o.warmupS > 0)
        await this.pool.run({ mode: 'closed', port: target.port, durationMs: o.warmupS * 1000, ceiling: true });
      const phase = await this.saturation(s, target, true);
      this.account(s, name, phase);
      return phase;
    };
    // The ceiling is measured before and after the webhook's phases and the two
    // averaged: on a shared machine a bare server's figure drifts by a third
    // within minutes, and one measurement on one side of the webhook's would
    // make the ratio as much a matter of luck.
    const ceilingBefore = this.ceiling && (await barePhase(this.ceiling, 'ceiling', true));
    // The frame, between the ceiling and the webhook: the same endpoints doing
    // nothing, so the webhook's figure splits into what the server costs and
    // what Vineyard's work costs.
    if (this.frame) out.frame = await barePhase(this.frame, 'frame', true);
    await this.pool.connect(this.webhook.port);
    if (o.warmupS > 0) {
      log(`warm-up ${o.warmupS} s`);
      const w = mergePhase(
        await this.pool.run({ mode: 'closed', port: this.webhook.port, durationMs: o.warmupS * 1000 }),
        o.warmupS * 1000,
      );
      this.account(s, 'warm-up', w);
    }
    log(`saturation ${o.saturationS} s`);
    out.saturation = await this.saturation(s, this.webhook, false);
    this.account(s, 'saturation', out.saturation);
    // Above its saturation a server only queues: every review would time out
    // and say nothing about latency. Such a scenario runs at 80% of it.
    let rate = o.rate;
    if (out.saturation.rps && out.saturation.rps < o.rate) {
      rate = Math.max(1, Math.floor(out.saturation.rps * 0.8));
      this.notes.push(
        `${s.name}: saturation (${out.saturation.rps}/s) is below ${o.rate}/s, so its fixed-rate phase ran at ${rate}/s (80% of it)`,
      );
    }
    log(`fixed rate ${rate}/s for ${o.durationS} s`);
    out.fixedRate = {
      rate,
      ...(await this.measured(this.webhook, { mode: 'open', durationMs: o.durationS * 1000, rate })),
    };
    this.account(s, 'fixed rate', out.fixedRate);
    if (ceilingBefore) out.ceiling = bracketed(ceilingBefore, await barePhase(this.ceiling, 'ceiling, again', false));
    if (out.ceiling?.rps) out.saturation.ratioToCeiling = round(out.saturation.rps / out.ceiling.rps, 2);
    if (out.ceiling?.cpuUsPerReview && out.saturation.cpuUsPerReview)
      out.saturation.cpuRatioToCeiling = round(out.ceiling.cpuUsPerReview / out.saturation.cpuUsPerReview, 2);
    if (out.frame?.rps && out.ceiling?.rps) out.frame.ratioToCeiling = round(out.frame.rps / out.ceiling.rps, 2);
    if (out.frame?.rps) out.saturation.ratioToFrame = round(out.saturation.rps / out.frame.rps, 2);
    if (
      out.saturation.generator === 'node' &&
      out.saturation.generatorCpu >= 0.9 * (this.pinned ? Math.max(1, this.cpus - 1) : 1) &&
      out.saturation.serverCpu < 0.9
    ) {
      this.notes.push(
        `${s.name}: the generator was busier than the server at saturation (generator ${out.saturation.generatorCpu}, server ${out.saturation.serverCpu} CPU): the figure may be the generator's limit`,
      );
    }
    return out;
  }

  async soak(s) {
    const o = this.opts;
    await this.pool.scenario(s);
    await this.pool.connect(this.webhook.port);
    if (o.warmupS > 0)
      this.account(
        s,
        'warm-up',
        mergePhase(
          await this.pool.run({ mode: 'closed', port: this.webhook.port, durationMs: o.warmupS * 1000 }),
          o.warmupS * 1000,
        ),
      );
    process.stderr.write(`[bench] soak: ${s.name} at ${o.rate}/s for ${o.soakS} s\n`);
    const rss = rssSampler(this.webhook.pid, 1000);
    const heap = [];
    const heapTimer = setInterval(() => {
      scrapeMetrics(this.webhook.port, this.ca).then(
        m => heap.push({ t: Date.now(), heapUsedMb: round(m.nodejs_heap_size_used_bytes / 2 ** 20, 1) }),
        () => {},
      );
    }, 15_000);
    const progress = setInterval(() => {
      const last = rss.samples.at(-1);
      process.stderr.write(
        `[bench] soak: ${Math.round((Date.now() - rss.samples[0].t) / 1000)} s, RSS ${last?.rssMb.toFixed(1)} MiB\n`,
      );
    }, 30_000);
    const phase = mergePhase(
      await this.pool.run({ mode: 'open', port: this.webhook.port, durationMs: o.soakS * 1000, rate: o.rate }),
      o.soakS * 1000,
    );
    clearInterval(heapTimer);
    clearInterval(progress);
    const samples = rss.stop();
    this.account(s, 'soak', phase);
    return { name: s.name, rate: o.rate, durationS: o.soakS, ...phase, rss: growth(samples), heap };
  }
}

/**
 * RSS over time and whether it grows: the mean of the last fifth of the run
 * against the mean of the second fifth (the first is warm-up of V8's heap).
 */
export function growth(samples) {
  const t0 = samples[0]?.t ?? 0;
  const series = samples.map(s => ({ s: Math.round((s.t - t0) / 1000), rssMb: round(s.rssMb, 1) }));
  const n = series.length;
  const mean = a => a.reduce((x, y) => x + y.rssMb, 0) / Math.max(1, a.length);
  const early = mean(series.slice(Math.floor(n / 5), Math.floor((2 * n) / 5)));
  const late = mean(series.slice(Math.floor((4 * n) / 5)));
  const growthMb = round(late - early, 1);
  const limitMb = Math.max(10, early * 0.1);
  return {
    startMb: series[0]?.rssMb,
    endMb: series.at(-1)?.rssMb,
    maxMb: round(Math.max(...series.map(x => x.rssMb)), 1),
    earlyMeanMb: round(early, 1),
    lateMeanMb: round(late, 1),
    growthMb,
    limitMb: round(limitMb, 1),
    grows: n >= 10 && late - early > limitMb,
    every10s: series.filter((x, i) => x.s % 10 === 0 && series[i - 1]?.s !== x.s),
  };
}

const fmt = (v, d = 1) =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : typeof v === 'number' ? v.toFixed(d) : String(v);

function report(bench, results) {
  const rows = [
    [
      'scenario',
      'KB',
      'ceiling/s',
      'sat/s',
      'x ceil',
      'srv CPU',
      'us/review',
      'x ceil cpu',
      'rate/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'errors',
      'RSS MB',
      'EL p99 ms',
    ],
  ];
  for (const r of results) {
    const f = r.fixedRate;
    rows.push([
      r.name,
      fmt(r.bytes / 1024),
      fmt(r.ceiling?.rps, 0),
      fmt(r.saturation.rps, 0),
      fmt(r.saturation.ratioToCeiling, 2),
      fmt(r.saturation.serverCpu, 2),
      fmt(r.saturation.cpuUsPerReview, 0),
      fmt(r.saturation.cpuRatioToCeiling, 2),
      fmt(f.rate, 0),
      fmt(f.latencyMs.p50, 2),
      fmt(f.latencyMs.p99, 2),
      fmt(f.latencyMs.p999, 2),
      fmt(f.latencyMs.max, 1),
      String((r.ceiling?.failed ?? 0) + r.saturation.failed + f.failed),
      fmt(Math.max(r.saturation.rssMb?.max ?? 0, f.rssMb?.max ?? 0), 0),
      fmt(f.eventLoopDelayMs?.p99Ms, 1),
    ]);
  }
  return table(rows);
}

/**
 * Where a review's CPU goes, per scenario: the bare server (ceiling), this
 * server doing nothing (frame), this server doing the work (webhook).
 */
function split(results) {
  const withFrame = results.filter(r => r.frame);
  if (!withFrame.length) return '';
  const rows = [['scenario', 'ceiling us', 'frame us', 'webhook us', 'frame x ceil', 'webhook x frame']];
  for (const r of withFrame)
    rows.push([
      r.name,
      fmt(r.ceiling?.cpuUsPerReview, 0),
      fmt(r.frame.cpuUsPerReview, 0),
      fmt(r.saturation.cpuUsPerReview, 0),
      fmt(r.frame.ratioToCeiling, 2),
      fmt(r.saturation.ratioToFrame, 2),
    ]);
  return table(rows);
}

function targets(results) {
  const r = results.find(x => x.name === TARGET_SCENARIO);
  if (!r) return [];
  const f = r.fixedRate;
  const rss = Math.max(r.saturation.rssMb?.max ?? 0, f.rssMb?.max ?? 0);
  return [
    {
      target: 'throughput >= 0.5 x ceiling',
      value: r.saturation.ratioToCeiling,
      ok: r.saturation.ratioToCeiling === undefined ? null : r.saturation.ratioToCeiling >= 0.5,
    },
    {
      target: '(CPU per review: ceiling / webhook, steadier than req/s on a shared machine)',
      value: r.saturation.cpuRatioToCeiling,
      ok: null,
    },
    ...(r.frame
      ? [
          {
            target: '(frame: this server with endpoints that do nothing; throughput x ceiling, not a target)',
            value: r.frame.ratioToCeiling,
            ok: null,
          },
        ]
      : []),
    { target: `p50 <= 2 ms at ${f.rate}/s`, value: f.latencyMs.p50, ok: f.latencyMs.p50 <= 2 },
    { target: `p99 <= 10 ms at ${f.rate}/s`, value: f.latencyMs.p99, ok: f.latencyMs.p99 <= 10 },
    {
      target: 'zero errors',
      value: (r.ceiling?.failed ?? 0) + r.saturation.failed + f.failed,
      ok: r.saturation.failed + f.failed === 0,
    },
    { target: 'RSS <= 160 MB', value: round(rss, 1), ok: rss <= 160 },
    ...samePodLine(results),
  ];
}

/** A scale-up's pods are all alike; this says what such a stream gets, for comparison (not a target). */
function samePodLine(results) {
  const d = results.find(x => x.name === SAME_POD_SCENARIO);
  if (!d) return [];
  return [
    {
      target: `(${SAME_POD_SCENARIO}: the same pod each time; throughput x ceiling, not a target)`,
      value: d.saturation.ratioToCeiling,
      ok: null,
    },
  ];
}

async function main() {
  let opts;
  try {
    opts = parseFlags(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.list) {
    process.stdout.write(
      table([
        ['scenario', 'KB', 'path', 'what'],
        ...SCENARIOS.map(s => [s.name, (s.bytes / 1024).toFixed(1), s.path, s.description]),
      ]) + '\n',
    );
    return 0;
  }
  const bench = new Bench(opts);
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpuList()[0]?.model,
    connections: opts.connections,
    workers: opts.workers,
    generator: opts.generator,
    phases: {
      warmupS: opts.warmupS,
      saturationS: opts.saturationS,
      durationS: opts.durationS,
      rate: opts.rate,
      soakS: opts.soakS,
    },
    webhookLogLevel: opts.logLevel,
    webhookNodeOptions: opts.nodeOptions,
  };
  let output;
  try {
    await bench.start();
    meta.pinned = bench.pinned;
    meta.externalGenerators = bench.external;
    process.stderr.write(
      `[bench] Node ${process.version}, ${meta.cpus} CPUs, generator: ${opts.generator === 'node' ? `node worker threads (${bench.pool.workers.length}, ${opts.connections} connections)` : opts.generator}; installed: ${bench.external.length ? bench.external.join(', ') : 'no h2load or wrk'}\n`,
    );
    if (opts.soakS) {
      const s =
        opts.scenarios.length === SCENARIOS.length
          ? SCENARIOS.find(x => x.name === TARGET_SCENARIO)
          : opts.scenarios[0];
      const soak = await bench.soak(s);
      output = { ...meta, soak, failures: bench.failures, notes: bench.notes };
      const g = soak.rss;
      process.stdout.write(
        `\nsoak ${soak.name}: ${soak.durationS} s at ${soak.rate}/s, ${soak.answered} answers, ${soak.failed} errors\n`,
      );
      process.stdout.write(
        `latency ms: p50 ${fmt(soak.latencyMs.p50, 2)}  p99 ${fmt(soak.latencyMs.p99, 2)}  p99.9 ${fmt(soak.latencyMs.p999, 2)}  max ${fmt(soak.latencyMs.max, 1)}\n`,
      );
      process.stdout.write(
        `RSS MiB: start ${g.startMb}, 2nd fifth ${g.earlyMeanMb}, last fifth ${g.lateMeanMb}, max ${g.maxMb}; growth ${g.growthMb} (limit ${g.limitMb}): ${g.grows ? 'GROWS' : 'flat'}\n`,
      );
      process.stdout.write(table([['s', 'RSS MiB'], ...g.every10s.map(x => [x.s, fmt(x.rssMb)])]) + '\n');
      if (g.grows)
        bench.failures.push({
          scenario: s.name,
          phase: 'soak',
          failed: 0,
          errors: {},
          problems: [`RSS grew by ${g.growthMb} MiB between the second and the last fifth of the run`],
        });
    } else {
      const results = [];
      for (const s of opts.scenarios) results.push(await bench.scenario(s));
      const t = targets(results);
      output = { ...meta, scenarios: results, targets: t, failures: bench.failures, notes: bench.notes };
      process.stdout.write(
        `\nvineyard-webhook bench: Node ${process.version}, ${meta.cpus} CPUs (${meta.cpuModel}), ${opts.connections} kept-alive HTTP/1.1+TLS connections\n`,
      );
      process.stdout.write(
        `saturation ${opts.saturationS} s (generator: ${opts.generator}); fixed rate (rate/s) for ${opts.durationS} s, latency from the intended send time; us/review: the server's CPU time per answer at saturation\n\n`,
      );
      process.stdout.write(report(bench, results) + '\n');
      const cpuSplit = split(results);
      if (cpuSplit)
        process.stdout.write(
          `\nCPU per review at saturation: the bare server (ceiling), this server with endpoints that do nothing (frame), the webhook:\n${cpuSplit}\n`,
        );
      if (t.length) {
        process.stdout.write(`\ntargets (${TARGET_SCENARIO}, one core):\n`);
        for (const x of t)
          process.stdout.write(
            `  ${x.ok === null ? '  -  ' : x.ok ? ' ok  ' : 'MISS '} ${x.target}: ${x.value ?? '-'}\n`,
          );
      }
    }
  } catch (e) {
    bench.failures.push({ scenario: '-', phase: 'harness', failed: 1, errors: {}, problems: [e.stack ?? String(e)] });
    output = { ...meta, failures: bench.failures, notes: bench.notes };
  } finally {
    await bench.stop().catch(e => bench.notes.push(`stopping: ${e.message}`));
  }
  if (bench.webhook?.errorLines)
    bench.notes.push(`the webhook logged ${bench.webhook.errorLines} error lines, e.g. ${bench.webhook.lastErrors[0]}`);
  for (const n of bench.notes) process.stdout.write(`note: ${n}\n`);
  mkdirSync(join(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(output, null, 2) + '\n');
  process.stdout.write(`results: ${opts.out}\n`);
  if (bench.failures.length) {
    process.stdout.write(`\nFAILED: ${bench.failures.length} phase(s) with wrong answers or errors\n`);
    for (const f of bench.failures)
      process.stdout.write(
        `  ${f.scenario} ${f.phase}: ${f.failed} ${JSON.stringify(f.errors)}\n${f.problems.map(p => `    ${p}\n`).join('')}`,
      );
    return 1;
  }
  return 0;
}

main().then(
  code => {
    process.exitCode = code;
  },
  e => {
    process.stderr.write(`bench: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
