// node bench/profile.js FILE.cpuprofile [N] [--callers NAME]: where a
// --cpu-prof profile of the webhook spends its time: the top N functions by
// self time, and self time summed by file (node_modules packages, node
// internals, src/); with --callers, who calls the functions named NAME
// (their self time by call stack, three frames up).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const callersAt = args.indexOf('--callers');
const callersOf = callersAt >= 0 ? args.splice(callersAt, 2)[1] : undefined;
const [file, topN = '25'] = args;
if (!file) {
  process.stderr.write('usage: node bench/profile.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(prof.nodes.map(n => [n.id, n]));
const selfUs = new Map();
// samples[i] was running for timeDeltas[i + 1] microseconds.
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = cf => {
  const url = cf.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/')) return url.slice(url.indexOf('/dist/') + 1);
  if (url.startsWith('node:')) return url;
  return url || '(native)';
};

const fns = new Map();
const files = new Map();
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${where(cf)}:${cf.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const f = where(cf);
  files.set(f, (files.get(f) ?? 0) + us);
}
if (callersOf) {
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const stacks = new Map();
  for (const [id, us] of selfUs) {
    let n = byId.get(id);
    if (n.callFrame.functionName !== callersOf) continue;
    const frames = [];
    for (let p = parent.get(n.id); p && frames.length < 3; p = parent.get(p.id))
      frames.push(`${p.callFrame.functionName || '(anonymous)'} ${where(p.callFrame)}:${p.callFrame.lineNumber + 1}`);
    const key = frames.join(' <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, Number(topN)))
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  process.exit(0);
}
const pct = us => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function:`);
for (const [k, us] of top(fns, Number(topN))) console.log(`${pct(us)}  ${k}`);
console.log('\nself time by file or package:');
for (const [k, us] of top(files, Number(topN))) console.log(`${pct(us)}  ${k}`);
