// Merging the workers' results of a phase, percentiles and the stdout table.

/** Percentile `q` (0..100) of sorted `a` (nearest rank). */
export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[i];
}

function concat(arrays) {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out.sort();
}

const round = (v, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);

/** One phase's figures from every worker's result. */
export function mergePhase(results, durationMs) {
  const lat = concat(results.map(r => r.latency));
  const svc = concat(results.map(r => r.service));
  const errors = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errorCounts)) errors[k] = (errors[k] ?? 0) + v;
  const inWindow = results.reduce((n, r) => n + r.inWindow, 0);
  return {
    sent: results.reduce((n, r) => n + r.sent, 0),
    answered: results.reduce((n, r) => n + r.answered, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    errors,
    problems: results.flatMap(r => r.problems).slice(0, 5),
    rps: round(inWindow / (durationMs / 1000), 1),
    latencyMs: {
      p50: round(percentile(lat, 50)),
      p90: round(percentile(lat, 90)),
      p99: round(percentile(lat, 99)),
      p999: round(percentile(lat, 99.9)),
      max: round(lat[lat.length - 1]),
    },
    serviceMs: { p50: round(percentile(svc, 50)), p99: round(percentile(svc, 99)), p999: round(percentile(svc, 99.9)) },
    samples: lat.length,
  };
}

export { round };

/** A fixed-width text table; `rows` are arrays of cells, the first row the header. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => String(r[i] ?? '').length)));
  const line = r =>
    r.map((c, i) => (i === 0 ? String(c ?? '').padEnd(widths[i]) : String(c ?? '').padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map(w => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
