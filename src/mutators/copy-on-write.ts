// Applying JSON Patch operations without deep-copying the document: before an
// operation, the objects and arrays on its path are copied (shallowly, once
// each), so it mutates only those copies. The input (the request's object,
// values of earlier operations) is never written, and a 10 KB pod costs a
// handful of small copies per patch instead of a deep clone per step, which
// was the largest cost of a review.
import fjp from 'fast-json-patch';
import { jsonCopy } from '../json-clone.js';
import type { PatchOperation } from './types.js';

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

export class CopyOnWrite {
  private readonly owned = new Set<object>();

  constructor(private current: unknown) {}

  /** The document as the operations so far have left it (share it read-only). */
  get root(): unknown { return this.current; }

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

  /** fjp.applyOperation on this document, writing only to its own copies. */
  apply(op: PatchOperation, validate: boolean, index: number, banPrototypeModifications = true): void {
    if (op.op === 'move' && isContainer(this.current)) {
      // A move removes, then adds at a path whose array indices may have
      // shifted: the simple path copy cannot know what it will touch.
      this.current = fjp.deepClone(this.current);
      this.owned.add(this.current as object);
    }
    this.ownPath(op.path);
    this.current = fjp.applyOperation(this.current, op, validate, true, banPrototypeModifications, index).newDocument;
  }

  /**
   * What fjp.validate(ops, document) checks, without its deep copy of the
   * document: a JSON copy of the operations (the one fjp.validate makes) is
   * applied with validation. Returns the error, or undefined with the
   * operations applied. After an error the document is half patched: drop it.
   */
  applyValidated(ops: readonly PatchOperation[]): InstanceType<typeof fjp.JsonPatchError> | undefined {
    try {
      if (!Array.isArray(ops)) throw new fjp.JsonPatchError('Patch sequence must be an array', 'SEQUENCE_NOT_AN_ARRAY');
      const copy = jsonCopy(ops) as PatchOperation[];
      for (let i = 0; i < copy.length; i++) this.apply(copy[i]!, true, i);
      return undefined;
    } catch (e) {
      if (e instanceof fjp.JsonPatchError) return e;
      throw e;
    }
  }
}
