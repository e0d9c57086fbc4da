// Which of V8's optimizing compilers the server uses: TurboFan only, without
// Maglev, its mid tier. Maglev compiles on background threads, and the memory
// its compile jobs take from malloc stays with the process after they finish
// (freed, but in the middle of glibc's arenas): 15-20 MB of RSS in
// `npm run bench`, against no measurable CPU cost in a server that runs the
// same code for hours (inject-distinct-10k: 296 vs 323 us/review; RSS 111 vs
// 127 MB). Maglev pays off in short runs, which `serve` is not.
//
// NODE_OPTIONS cannot carry --no-maglev (Node refuses it there), so the server
// sets it itself, before any of its code is hot. An explicit --maglev or
// --no-maglev on node's command line wins.
import { setFlagsFromString } from 'node:v8';

/** True when the command line already decides Maglev (then it is left alone). */
export function maglevChosen(execArgv: readonly string[]): boolean {
  return execArgv.some(a => a === '--maglev' || a === '--no-maglev');
}

/** Turns Maglev off unless node's command line chose; says whether it did. */
export function useTopTierOnly(execArgv: readonly string[] = process.execArgv): boolean {
  if (maglevChosen(execArgv)) return false;
  setFlagsFromString('--no-maglev');
  return true;
}
