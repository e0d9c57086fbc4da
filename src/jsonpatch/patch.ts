// JSON Patch construction against one copy-on-write draft of the object,
// shared by an endpoint's mutators in turn: every operation is computed on
// the object as the previous operations left it (indices of appended items,
// parents created earlier), so the combined patch applies to the object as
// sent. The fixture and fuzz tests apply every combined patch with
// validation; the pipeline does not check it again per review.
import { CopyOnWrite } from './copy-on-write.js';
import type { PatchOperation } from '../admission/mutator.js';
import { isContainer, type Container } from '../json.js';

export type Segment = string | number;

/** RFC 6901 escaping: label keys such as `sidecar.v6d.io/name` contain `/`. */
export function escapeSegment(seg: Segment): string {
  const s = String(seg);
  // Most segments (field names, indices) need no escaping: skip the two regex passes.
  if (!s.includes('~') && !s.includes('/')) return s;
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(segs: readonly Segment[]): string {
  let out = '';
  for (const seg of segs) out += '/' + escapeSegment(seg);
  return out;
}

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
  private readonly draft: CopyOnWrite;

  constructor(original: unknown) {
    this.draft = new CopyOnWrite(original);
  }

  /** The document as the operations so far have left it. */
  get doc(): unknown {
    return this.draft.root;
  }

  /**
   * `doc`, from now on unchanged by later operations: what the pipeline hands
   * the next mutator to read while it writes through this builder.
   */
  snapshot(): unknown {
    this.draft.seal();
    return this.draft.root;
  }

  get(segs: readonly Segment[]): unknown {
    let cur: unknown = this.draft.root;
    for (const s of segs) {
      if (!isContainer(cur)) return undefined;
      cur = own(cur, s);
    }
    return cur;
  }

  /**
   * Records `op` at `segs` and applies it to the draft, which is given the
   * segments as keys: it need not parse the pointer back. The value goes in
   * as it is, not copied: the draft writes only to containers it owns (a
   * later append to an array this operation added copies that array first).
   */
  private apply(op: 'add' | 'replace', segs: readonly Segment[], value: unknown): void {
    const keys = segs.map(String);
    let path = '';
    for (const key of keys) path += '/' + escapeSegment(key);
    const operation: PatchOperation = { op, path, value };
    this.draft.applyAt(operation, keys);
    this.ops.push(operation);
  }

  /**
   * Sets the value at `segs`, creating missing parents as objects (or arrays
   * for numeric segments). Uses `replace` where the value exists, so an
   * existing array element is overwritten instead of shifted.
   */
  set(segs: readonly Segment[], value: unknown): void {
    if (segs.length === 0) throw new Error('PatchBuilder.set: empty path');
    let cur: unknown = this.draft.root;
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
      this.apply(exists ? 'replace' : 'add', at, nest(segs.slice(depth + 1), value));
      return;
    }
    const last = segs[segs.length - 1]!;
    const exists = isContainer(cur) && own(cur, last) !== undefined;
    this.apply(exists ? 'replace' : 'add', segs, value);
  }

  /** Appends to the array at `segs`, creating it when missing or null. */
  append(segs: readonly Segment[], value: unknown): void {
    const arr = this.get(segs);
    if (Array.isArray(arr)) this.apply('add', [...segs, '-'], value);
    else this.set(segs, [value]);
  }

  /** Inserts at the front of the array at `segs`, creating it when missing. */
  prepend(segs: readonly Segment[], value: unknown): void {
    const arr = this.get(segs);
    if (Array.isArray(arr)) this.apply('add', [...segs, 0], value);
    else this.set(segs, [value]);
  }
}
