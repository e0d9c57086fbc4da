// Parses a request body as strict UTF-8 JSON, refusing nesting deeper than
// any Kubernetes object needs before JSON.parse and every recursive walk after
// it (deep clone, patch validation) can be made to exhaust the stack. The
// objects' metadata.managedFields are checked but not built (json-scan.ts):
// they stand as null. Nothing reads them: mutators get the object without
// them, and for the pipeline's final patch check (the one place the object
// as sent is used) a present null behaves as the real value would.
import { BadReview } from '../admission/review.js';
import { scanReview, type ElidedSpan } from './json-scan.js';

export const MAX_JSON_DEPTH = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// For the pieces after the first: a byte order mark there is not a BOM but a
// character JSON.parse must see (and refuse).
const utf8Inner = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const PLACEHOLDER = 'null';

function decode(decoder: typeof utf8, buf: Uint8Array): string {
  try {
    return decoder.decode(buf);
  } catch {
    throw new BadReview('the request body is not valid UTF-8');
  }
}

export function parseJsonBody(buf: Buffer): unknown {
  return parseJsonBodyAt(buf).value;
}

/** parseJsonBody, and where request.uid's characters are in `buf` (when it is a string). */
export function parseJsonBodyAt(buf: Buffer): { value: unknown; uid?: ElidedSpan | undefined } {
  if (buf.length === 0) throw new BadReview('the request body is empty: send an AdmissionReview as JSON');
  const scan = scanReview(buf, MAX_JSON_DEPTH);
  if (scan.tooDeep) throw new BadReview(`the request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  let text: string;
  if (scan.spans.length === 0) {
    text = decode(utf8, buf);
  } else {
    const parts: string[] = [];
    let at = 0;
    for (const span of scan.spans) {
      parts.push(decode(at === 0 ? utf8 : utf8Inner, buf.subarray(at, span.start)), PLACEHOLDER);
      decode(utf8Inner, buf.subarray(span.start, span.end)); // UTF-8 is checked there too
      at = span.end;
    }
    parts.push(decode(utf8Inner, buf.subarray(at)));
    text = parts.join('');
  }
  try {
    return { value: JSON.parse(text), uid: scan.uid };
  } catch (e) {
    throw new BadReview(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}
