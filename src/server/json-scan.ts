// One pass over a request body's bytes, before JSON.parse sees it: how deep
// it nests (recursive walks after the parse must not exhaust the stack), and
// where the values of request.object.metadata.managedFields and
// request.oldObject.metadata.managedFields are, checked here as strict JSON so
// that JSON.parse never has to build them. managedFields is about half of
// every pod kube-apiserver sends and nothing in the webhook reads it; building
// it was the largest single cost of a review.
//
// Outside those values the scan is loose (strings, nesting and keys only):
// JSON.parse checks the rest. A value is set aside only when the text before
// it looks like `..."managedFields":` and the value itself is a strictly valid
// array, so putting a placeholder in its place cannot turn invalid JSON into
// valid JSON: if the text before it is not a valid prefix, JSON.parse fails
// there, and otherwise both the array and the placeholder are one complete
// value in the same place.

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;
const COMMA = 0x2c, COLON = 0x3a, SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39, LOWER_E = 0x65, UPPER_E = 0x45;

/** Where a set-aside value is: bytes [start, end) of the body. */
export interface ElidedSpan { start: number; end: number }

export interface ScanResult {
  /** Nesting deeper than the limit somewhere (the scan stopped there). */
  tooDeep: boolean;
  spans: ElidedSpan[];
  /**
   * The characters between the quotes of request.uid when its value is a
   * string (the last such member, as JSON.parse keeps the last): where two
   * reviews of the same object differ (replay-cache.ts).
   */
  uid?: ElidedSpan;
}

const ascii = (s: string) => Uint8Array.from(s, c => c.charCodeAt(0));
const REQUEST = ascii('request'), OBJECT = ascii('object'), OLD_OBJECT = ascii('oldObject');
const METADATA = ascii('metadata'), MANAGED_FIELDS = ascii('managedFields'), UID = ascii('uid');

function keyIs(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let k = 0; k < want.length; k++) if (buf[start + k] !== want[k]) return false;
  return true;
}

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;

function skipSpace(buf: Uint8Array, i: number): number {
  while (i < buf.length && isSpace(buf[i]!)) i++;
  return i;
}

/** The end of the strict JSON string starting at `i` (a quote), or -1. */
function strictString(buf: Uint8Array, i: number): number {
  const n = buf.length;
  for (i++; i < n; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i + 1;
    if (c < SPACE) return -1;
    if (c === BACKSLASH) {
      const e = buf[++i];
      if (e === 0x75) { // \uXXXX
        for (let k = 1; k <= 4; k++) {
          const h = buf[i + k];
          if (h === undefined || !((h >= ZERO && h <= NINE) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) return -1;
        }
        i += 4;
      } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
        return -1;
      }
    }
  }
  return -1;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= NINE;

/** The end of the strict JSON number starting at `i`, or -1. */
function strictNumber(buf: Uint8Array, i: number): number {
  if (buf[i] === MINUS) i++;
  if (buf[i] === ZERO) i++;
  else if (isDigit(buf[i])) while (isDigit(buf[i])) i++;
  else return -1;
  if (buf[i] === DOT) {
    if (!isDigit(buf[++i])) return -1;
    while (isDigit(buf[i])) i++;
  }
  if (buf[i] === LOWER_E || buf[i] === UPPER_E) {
    if (buf[++i] === PLUS || buf[i] === MINUS) i++;
    if (!isDigit(buf[i])) return -1;
    while (isDigit(buf[i])) i++;
  }
  return i;
}

const TRUE = ascii('true'), FALSE = ascii('false'), NULL = ascii('null');

function literal(buf: Uint8Array, i: number, word: Uint8Array): number {
  return keyIs(buf, i, i + word.length, word) ? i + word.length : -1;
}

/** Where the value of the object member starting at `i` (its key's quote) starts, past key, colon and spaces; -1 when there is no key and colon. */
function memberValue(buf: Uint8Array, i: number): number {
  if (buf[i] !== QUOTE || (i = strictString(buf, i)) < 0) return -1;
  i = skipSpace(buf, i);
  if (buf[i] !== COLON) return -1;
  return skipSpace(buf, i + 1);
}

/**
 * The end of the strictly valid JSON value starting at `i` (no leading
 * whitespace), nested at most `maxDepth` levels; -1 when it is not one or nests
 * deeper (`tooDeep.value` then says which).
 */
function strictValue(buf: Uint8Array, i: number, maxDepth: number, tooDeep: { value: boolean }): number {
  // The open containers: true for an object, false for an array.
  const stack: boolean[] = [];
  for (;;) {
    // A value is expected at i.
    const c = buf[i];
    if (c === LBRACE || c === LBRACKET) {
      if (stack.length >= maxDepth) { tooDeep.value = true; return -1; }
      const isObject = c === LBRACE;
      stack.push(isObject);
      i = skipSpace(buf, i + 1);
      if (buf[i] === (isObject ? RBRACE : RBRACKET)) {
        stack.pop();
        i++;
      } else {
        if (isObject && (i = memberValue(buf, i)) < 0) return -1;
        continue;
      }
    } else if (c === QUOTE) {
      i = strictString(buf, i);
    } else if (c === 0x74) {
      i = literal(buf, i, TRUE);
    } else if (c === 0x66) {
      i = literal(buf, i, FALSE);
    } else if (c === 0x6e) {
      i = literal(buf, i, NULL);
    } else {
      i = strictNumber(buf, i);
    }
    if (i < 0) return -1;
    // After a value: close containers until one continues with a comma.
    for (;;) {
      if (stack.length === 0) return i;
      i = skipSpace(buf, i);
      const isObject = stack[stack.length - 1]!;
      const d = buf[i];
      if (d === COMMA) {
        i = skipSpace(buf, i + 1);
        if (isObject && (i = memberValue(buf, i)) < 0) return -1;
        break;
      }
      if (d !== (isObject ? RBRACE : RBRACKET)) return -1;
      stack.pop();
      i++;
    }
  }
}

/**
 * Scans `buf`: whether it nests deeper than `maxDepth`, and the spans of the
 * managedFields arrays that JSON.parse can be spared.
 */
export function scanReview(buf: Uint8Array, maxDepth: number): ScanResult {
  const n = buf.length;
  const spans: ElidedSpan[] = [];
  let depth = 0;
  // The open containers' kinds (true: object), by depth.
  const isObjectAt: boolean[] = [false];
  // The containers at depths 1..onPath are the review -> request -> object|oldObject -> metadata.
  let onPath = 0;
  // The depth whose last key was the next step of the path (0: none).
  let keyMatched = 0;
  // Whether the next string is a key: after `{` or `,` in an object.
  let expectKey = false;
  // The last key was request.uid: a string next is its value.
  let uidNext = false;
  let uid: ElidedSpan | undefined;
  for (let i = 0; i < n; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const start = i + 1;
      for (i = start; i < n; i++) {
        const s = buf[i]!;
        if (s === QUOTE) break;
        if (s === BACKSLASH) i++;
      }
      keyMatched = 0;
      if (uidNext && !expectKey) uid = { start, end: i };
      uidNext = false;
      if (expectKey) {
        expectKey = false;
        if (depth === 2 && onPath === 2 && keyIs(buf, start, i, UID)) {
          // A later uid member replaces an earlier one, whatever its value.
          uid = undefined;
          uidNext = true;
        } else if (depth === onPath && depth > 0) {
          const matched = depth === 1 ? keyIs(buf, start, i, REQUEST)
            : depth === 2 ? keyIs(buf, start, i, OBJECT) || keyIs(buf, start, i, OLD_OBJECT)
            : depth === 3 ? keyIs(buf, start, i, METADATA)
            : keyIs(buf, start, i, MANAGED_FIELDS);
          if (matched) keyMatched = depth;
        }
      }
    } else if (c === LBRACE || c === LBRACKET) {
      uidNext = false;
      const isObject = c === LBRACE;
      if (keyMatched === 4 && !isObject) {
        // The managedFields array: checked strictly, then stepped over.
        const tooDeep = { value: false };
        const end = strictValue(buf, i, maxDepth - depth, tooDeep);
        if (tooDeep.value) return { tooDeep: true, spans };
        keyMatched = 0;
        if (end > 0) {
          spans.push({ start: i, end });
          i = end - 1;
          continue;
        }
      }
      if (++depth > maxDepth) return { tooDeep: true, spans };
      isObjectAt[depth] = isObject;
      if (isObject && depth <= 4 && (depth === 1 || (keyMatched === depth - 1 && onPath === depth - 1))) onPath = depth;
      keyMatched = 0;
      expectKey = isObject;
    } else if (c === RBRACE || c === RBRACKET) {
      uidNext = false;
      if (onPath === depth) onPath = depth - 1;
      depth--;
      keyMatched = 0;
    } else if (c === COMMA) {
      uidNext = false;
      expectKey = isObjectAt[depth] === true;
      keyMatched = 0;
    } else if (c !== COLON && !isSpace(c)) {
      // A scalar value: the key before it does not lead on.
      keyMatched = 0;
      uidNext = false;
    }
  }
  return uid ? { tooDeep: false, spans, uid } : { tooDeep: false, spans };
}
