// JSON Patch construction against a working copy, so every operation is
// computed on the object as the previous operations left it (indices of
// appended items, parents created earlier) and the result always applies.
import { cloneJson } from '../json-clone.js';
import { CopyOnWrite } from './copy-on-write.js';
import type { PatchOperation } from './types.js';

export type Segment = string | number;

/** RFC 6901 escaping: label keys such as `sidecar.v6d.io/name` contain `/`. */
export function escapeSegment(seg: Segment): string {
  return String(seg).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(segs: readonly Segment[]): string {
  return segs.length === 0 ? '' : '/' + segs.map(escapeSegment).join('/');
}

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

function own(obj: Container, key: Segment): unknown {
  if (Array.isArray(obj)) return typeof key === 'number' ? obj[key] : undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[String(key)] : undefined;
}

/** Wraps `value` in the objects/arrays that the missing path `rest` needs. */
function nest(rest: readonly Segment[], value: unknown): unknown {
  let out = value;
  for (let i = rest.length - 1; i >= 0; i--) {
    const seg = rest[i]!;
    if (typeof seg === 'number' || seg === '-') out = [out];
    else out = { [seg]: out };
  }
  return out;
}

export class PatchBuilder {
  readonly ops: PatchOperation[] = [];
  /** Copy on write: the original is never modified, and only what the operations touch is copied. */
  private readonly cow: CopyOnWrite;

  constructor(original: unknown) {
    this.cow = new CopyOnWrite(original);
  }

  private get working(): unknown { return this.cow.root; }

  /** The document as the operations so far have left it. */
  get doc(): unknown { return this.working; }

  get(segs: readonly Segment[]): unknown {
    let cur: unknown = this.working;
    for (const s of segs) {
      if (!isContainer(cur)) return undefined;
      cur = own(cur, s);
    }
    return cur;
  }

  private apply(op: PatchOperation): void {
    // The working copy gets its own copy of the value: later operations
    // (an append to an array this one added) must not rewrite this one.
    const applied = 'value' in op ? { ...op, value: cloneJson(op.value) } : op;
    this.cow.apply(applied, false, 0, false);
    this.ops.push(op);
  }

  /**
   * Sets the value at `segs`, creating missing parents as objects (or arrays
   * for numeric segments). Uses `replace` where the value exists, so an
   * existing array element is overwritten instead of shifted.
   */
  set(segs: readonly Segment[], value: unknown): void {
    if (segs.length === 0) throw new Error('PatchBuilder.set: empty path');
    let cur: unknown = this.working;
    let depth = 0;
    for (; depth < segs.length - 1; depth++) {
      const next = isContainer(cur) ? own(cur, segs[depth]!) : undefined;
      if (!isContainer(next)) break;
      cur = next;
    }
    if (depth < segs.length - 1) {
      // First missing (or non-container) ancestor at segs[depth]: add it whole.
      const at = segs.slice(0, depth + 1);
      const exists = isContainer(cur) && own(cur, segs[depth]!) !== undefined;
      this.apply({ op: exists ? 'replace' : 'add', path: pointer(at), value: nest(segs.slice(depth + 1), value) });
      return;
    }
    const last = segs[segs.length - 1]!;
    const exists = isContainer(cur) && own(cur, last) !== undefined;
    this.apply({ op: exists ? 'replace' : 'add', path: pointer(segs), value });
  }

  /** Appends to the array at `segs`, creating it when missing or null. */
  append(segs: readonly Segment[], value: unknown): void {
    const arr = this.get(segs);
    if (Array.isArray(arr)) this.apply({ op: 'add', path: pointer([...segs, '-']), value });
    else this.set(segs, [value]);
  }

  /** Inserts at the front of the array at `segs`, creating it when missing. */
  prepend(segs: readonly Segment[], value: unknown): void {
    const arr = this.get(segs);
    if (Array.isArray(arr)) this.apply({ op: 'add', path: pointer([...segs, 0]), value });
    else this.set(segs, [value]);
  }

  remove(segs: readonly Segment[]): void {
    if (this.get(segs) !== undefined) this.apply({ op: 'remove', path: pointer(segs) });
  }
}
