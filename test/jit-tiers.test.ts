// `serve` turns V8's Maglev compiler off (src/jit-tiers.ts): checked on what
// V8 actually compiles, with --trace-opt, in a child running a hot function.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { maglevChosen } from '../src/jit-tiers.js';

const MODULE = new URL('../dist/jit-tiers.js', import.meta.url).href;

/**
 * The tiers V8 compiled `hot` for, in a child with `nodeArgs` that calls
 * useTopTierOnly() first. The child gets no NODE_OPTIONS: tap's loaders would
 * run (and be compiled) before the call.
 */
function compiledTiers(nodeArgs: string[]): Set<string> {
  const script = `
    const { useTopTierOnly } = await import(${JSON.stringify(MODULE)});
    useTopTierOnly();
    function hot(o) { return o.a + o.b * 2; }
    let s = 0;
    for (let i = 0; i < 3e6; i++) s += hot({ a: i, b: 1 });
    if (!(s > 0)) process.exit(3);`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...nodeArgs, '--trace-opt', '--input-type=module', '-e', script], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
  // [compiling method 0x... <JSFunction hot (sfi = 0x...)> (target MAGLEV), mode: ...]
  const compiles = [...r.stdout.matchAll(/<JSFunction hot [^>]*> \(target (MAGLEV|TURBOFAN)\w*\)/g)];
  return new Set(compiles.map(m => m[1]!));
}

t.test('the command line decides when it names Maglev', async t => {
  t.equal(maglevChosen([]), false);
  t.equal(maglevChosen(['--max-old-space-size=128']), false);
  t.equal(maglevChosen(['--maglev']), true);
  t.equal(maglevChosen(['--no-maglev']), true);
  t.equal(maglevChosen(['--maglev-inlining']), false, 'a Maglev tuning flag is not a choice of tiers');
});

t.test('after useTopTierOnly() hot code goes to TurboFan, not Maglev', async t => {
  t.same([...compiledTiers([])], ['TURBOFAN']);
});

t.test('an explicit --maglev on node\'s command line is kept', async t => {
  // Also shows that the trace would show Maglev compiles if there were any.
  t.ok(compiledTiers(['--maglev']).has('MAGLEV'));
});
