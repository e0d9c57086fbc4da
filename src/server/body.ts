// Parses a request body as strict UTF-8 JSON, refusing nesting deeper than
// any Kubernetes object needs before JSON.parse and every recursive walk after
// it (deep clone, patch validation) can be made to exhaust the stack.
import { BadReview } from '../admission/review.js';

export const MAX_JSON_DEPTH = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;

/** The deepest nesting of objects and arrays in the JSON text, ignoring string contents. */
export function jsonDepth(buf: Uint8Array, limit = Infinity): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === LBRACE || c === LBRACKET) {
      if (++depth > max) { max = depth; if (max > limit) return max; }
    } else if (c === RBRACE || c === RBRACKET) depth--;
  }
  return max;
}

export function parseJsonBody(buf: Buffer): unknown {
  if (buf.length === 0) throw new BadReview('the request body is empty: send an AdmissionReview as JSON');
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    throw new BadReview('the request body is not valid UTF-8');
  }
  if (jsonDepth(buf, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BadReview(`the request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadReview(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}
