// Applying JSON Patch operations without deep-copying the document: before an
// operation, the objects and arrays on its path are copied (shallowly, once
// each), so it mutates only those copies. The input (the request's object,
// values of operations) is never written, and a pod costs a handful of small
// copies per patch instead of a deep clone.
import fjp from 'fast-json-patch';
import { isContainer, type Container } from '../json.js';
import type { PatchOperation } from '../admission/mutator.js';

/** An array index as JSON Pointer writes it: digits, no leading zero ("01" is left to fast-json-patch). */
function isIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 15 || (n > 1 && key.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Keys fast-json-patch refuses (or, unbanned, follows into the prototype): always left to it. */
const isPrototypeKey = (keys: readonly string[], t: number): boolean =>
  keys[t] === '__proto__' || (keys[t] === 'prototype' && t > 0 && keys[t - 1] === 'constructor');

export class CopyOnWrite {
  private owned = new Set<object>();

  constructor(private current: unknown) {}

  /** The document as the operations so far have left it. */
  get root(): unknown {
    return this.current;
  }

  /**
   * Makes the current document read-only: later operations copy what they
   * touch again, so whoever was handed `root` keeps seeing it unchanged.
   */
  seal(): void {
    this.owned = new Set();
  }

  private own<V extends Container>(v: V): V {
    if (this.owned.has(v)) return v;
    const copy = (Array.isArray(v) ? v.slice() : { ...v }) as V;
    this.owned.add(copy);
    return copy;
  }

  /** Makes the root and every container above the value at `path` (a JSON pointer) this document's own copies. */
  private ownPath(path: string): void {
    if (path === '' || !isContainer(this.current)) return;
    this.current = this.own(this.current);
    const keys = path.split('/');
    let cur: Container = this.current as Container;
    for (let t = 1; t < keys.length - 1; t++) {
      let key = keys[t]!;
      if (key.includes('~')) key = fjp.unescapePathComponent(key);
      // The same key fast-json-patch will follow: array indices are digits
      // ("01" is 1); it refuses (or, unbanned, follows) the prototype, so
      // nothing is copied through that.
      let at: string | number = key;
      if (Array.isArray(cur)) {
        if (!/^\d+$/.test(key)) return;
        at = ~~key;
        if (at >= cur.length) return;
      } else if (key === '__proto__' || !Object.hasOwn(cur, key)) return;
      const child = (cur as Record<string | number, unknown>)[at];
      if (!isContainer(child)) return;
      const copy = this.own(child);
      if (copy !== child) (cur as Record<string | number, unknown>)[at] = copy;
      cur = copy;
    }
  }

  /**
   * The common operation done directly, without fast-json-patch: an add,
   * replace or remove whose parents all exist as objects or arrays (array
   * indices written canonically), at a key that exists unless it is an add,
   * at an array index in range. fast-json-patch, validating or not, would do
   * exactly this, and accept it. For anything else it returns false, having
   * changed nothing but which containers are this document's own copies
   * (equal ones), for fast-json-patch to apply (or refuse, with its error).
   * Why: this is most of a review's patch work, and fast-json-patch parses
   * the pointer and checks the path once more for every operation.
   * `keys` are the operation's keys, unescaped.
   */
  private direct(op: string, keys: readonly string[], value: unknown): boolean {
    const last = keys.length - 1;
    if ((op !== 'add' && op !== 'replace' && op !== 'remove') || last < 0 || !isContainer(this.current)) return false;
    let cur: Container = (this.current = this.own(this.current));
    for (let t = 0; t < last; t++) {
      const key = keys[t]!;
      let at: string | number = key;
      if (Array.isArray(cur)) {
        if (!isIndex(key) || (at = +key) >= cur.length) return false;
      } else if (isPrototypeKey(keys, t) || !Object.hasOwn(cur, key)) {
        return false;
      }
      const child = (cur as Record<string | number, unknown>)[at];
      if (!isContainer(child)) return false;
      const copy = this.own(child);
      if (copy !== child) (cur as Record<string | number, unknown>)[at] = copy;
      cur = copy;
    }
    const key = keys[last]!;
    if (Array.isArray(cur)) {
      let at: number;
      if (key === '-' && op === 'add') at = cur.length;
      else if (!isIndex(key)) return false;
      else {
        at = +key;
        if (op === 'add' ? at > cur.length : at >= cur.length || cur[at] === undefined) return false;
      }
      if (op === 'add') cur.splice(at, 0, value);
      else if (op === 'replace') cur[at] = value;
      else cur.splice(at, 1);
      return true;
    }
    if (isPrototypeKey(keys, last) || (op !== 'add' && (!Object.hasOwn(cur, key) || cur[key] === undefined)))
      return false;
    if (op === 'remove') delete cur[key];
    else cur[key] = value;
    return true;
  }

  /**
   * What PatchBuilder applies (unvalidated, prototype keys unbanned, as it
   * always has): `keys` are the unescaped keys of `op.path`, which it already has.
   */
  applyAt(op: PatchOperation, keys: readonly string[]): void {
    if (this.direct(op.op, keys, (op as { value?: unknown }).value)) return;
    if (op.op === 'move' && isContainer(this.current)) {
      // A move removes, then adds at a path whose array indices may have
      // shifted: the simple path copy cannot know what it will touch.
      this.current = fjp.deepClone(this.current);
      this.owned.add(this.current as object);
    }
    this.ownPath(op.path);
    this.current = fjp.applyOperation(this.current, op, false, true, false).newDocument;
  }
}
