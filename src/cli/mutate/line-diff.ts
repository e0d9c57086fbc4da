// A unified line diff (as `diff -u`) for `mutate --diff`. Written here rather
// than taken from a package: the inputs are two serializations of one
// manifest (a few hundred lines), so Myers' O(ND) algorithm in ~60 lines
// does, and the output format is all we need of a diff library.

type Edit = { op: ' ' | '-' | '+'; line: string };

/** The shortest edit script from `a` to `b` (Myers 1986), as kept, removed and added lines. */
function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) break outer;
    }
  }
  // Walk the trace back from the end, one edit per round of d.
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', line: a[--x]! });
      y--;
    }
    if (d === 0) break;
    if (x === prevX) edits.push({ op: '+', line: b[--y]! });
    else edits.push({ op: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    edits.push({ op: ' ', line: a[--x]! });
    y--;
  }
  return edits.reverse();
}

const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** `diff -u` of two texts with `context` lines around each change; '' when they are equal. */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string {
  const edits = editScript(lines(before), lines(after));
  const changed = edits.map((e, i) => (e.op === ' ' ? -1 : i)).filter(i => i >= 0);
  if (!changed.length) return '';
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let i = 0;
  while (i < changed.length) {
    // A hunk: changes closer than 2 * context lines apart share one.
    let j = i;
    while (j + 1 < changed.length && changed[j + 1]! - changed[j]! <= 2 * context) j++;
    const start = Math.max(0, changed[i]! - context);
    const end = Math.min(edits.length, changed[j]! + context + 1);
    let aLine = 1;
    let bLine = 1;
    for (const e of edits.slice(0, start)) {
      if (e.op !== '+') aLine++;
      if (e.op !== '-') bLine++;
    }
    const hunk = edits.slice(start, end);
    const aCount = hunk.filter(e => e.op !== '+').length;
    const bCount = hunk.filter(e => e.op !== '-').length;
    // diff -u numbers an empty side by the line before it.
    out.push(`@@ -${aCount ? aLine : aLine - 1},${aCount} +${bCount ? bLine : bLine - 1},${bCount} @@`);
    for (const e of hunk) out.push(`${e.op}${e.line}`);
    i = j + 1;
  }
  return `${out.join('\n')}\n`;
}
