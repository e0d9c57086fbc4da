// Reviews of the same object, parsed once. When a ReplicaSet, Job or
// StatefulSet scales up, kube-apiserver sends a webhook one review per pod,
// and at mutating admission those pods are identical: no name or uid yet
// (generateName), the same template, the same owner, managedFields stamped to
// the second. Their reviews differ only in request.uid. A body that is
// byte-for-byte a recent one outside the characters of request.uid is not
// scanned or parsed again: the earlier parse, frozen, is handed out with the
// new uid, and its frozen object lets the pipeline reuse its pure work too
// (pipeline/replay.ts).
//
// Why this is the same as parsing: the two bodies differ only inside one
// string literal, and the new characters are plain ASCII with no quote,
// backslash or control character, so the token structure is the same and that
// string's value is exactly those characters. Everything else (UTF-8, nesting,
// managedFields) was checked on the identical bytes when the first was parsed.
import { decodeReview } from '../admission/review.js';
import { deepFreeze } from '../immutable.js';
import { freezeRequestObjects } from '../pipeline/replay.js';
import { parseJsonBodyAt } from './body.js';
import type { ElidedSpan } from './json-scan.js';

interface Entry {
  bytes: Buffer;
  uid: ElidedSpan;
  /** The parse, once the body has come a second time. */
  review?: Readonly<Record<string, unknown>> & { request: Readonly<Record<string, unknown>> };
}

export const DEFAULT_REPLAY_ENTRIES = 32;
/** The bodies kept, all together; a 4 MiB body limit could otherwise make 32 entries 128 MiB. */
const MAX_BYTES = 4 * 1024 * 1024;

const QUOTE = 0x22, BACKSLASH = 0x5c;

/** The bytes as a string when they can stand unescaped inside a JSON string and mean themselves: printable ASCII but `"` and `\`. */
function plainAscii(buf: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return undefined;
  }
  return buf.toString('latin1', start, end);
}

function decodes(value: unknown): boolean {
  try {
    decodeReview(value);
    return true;
  } catch {
    return false;
  }
}

export class ReplayCache {
  /** Most recently used first. */
  private entries: Entry[] = [];
  private bytes = 0;
  hits = 0;

  constructor(readonly maxEntries = DEFAULT_REPLAY_ENTRIES) {}

  /**
   * parseJsonBody(body), taken from a remembered parse when there is one.
   * A body is remembered as bytes the first time and with its parse the
   * second: a stream of different pods then pays a copy of each body, not
   * the garbage collector's cost of keeping every parse alive for a while.
   */
  parse(body: Buffer): unknown {
    const seen = this.find(body);
    if (seen?.entry.review) {
      this.hits++;
      return { ...seen.entry.review, request: { ...seen.entry.review.request, uid: seen.uid } };
    }
    const { value, uid } = parseJsonBodyAt(body);
    if (!uid || this.maxEntries <= 0 || body.length > MAX_BYTES / 4) return value;
    if (seen) {
      if (decodes(value)) seen.entry.review = frozenReview(value as Record<string, unknown>);
    } else {
      this.entries.unshift({ bytes: Buffer.from(body), uid });
      this.bytes += body.length;
      while (this.entries.length > this.maxEntries || this.bytes > MAX_BYTES) this.bytes -= this.entries.pop()!.bytes.length;
    }
    return value;
  }

  /**
   * The remembered body that `body` is but for the characters of
   * request.uid, moved to the front, with `body`'s uid; undefined if none.
   */
  private find(body: Buffer): { entry: Entry; uid: string } | undefined {
    const { entries } = this;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      const { start, end } = e.uid;
      // Cheapest test first: bodies of other objects rarely have the same length.
      if (e.bytes.length !== body.length) continue;
      if (body.compare(e.bytes, end, body.length, end, body.length) !== 0) continue;
      if (body.compare(e.bytes, 0, start, 0, start) !== 0) continue;
      const uid = plainAscii(body, start, end);
      if (uid === undefined) continue;
      if (k > 0) { entries.splice(k, 1); entries.unshift(e); }
      return { entry: e, uid };
    }
    return undefined;
  }
}

/** Freezes a review's objects, then the review (each object recorded as a frozen root the pipeline can recognise). */
function frozenReview(review: Record<string, unknown>): NonNullable<Entry['review']> {
  freezeRequestObjects(review.request as Record<string, unknown>);
  return deepFreeze(review) as NonNullable<Entry['review']>;
}
