// What an API server answer means for the caller: the JSON body of a success,
// or an ApiError carrying the status, the Status reason and the server's own
// message, so a denial can say which call failed and why.
import { ApiError } from './store.js';

/** An answer exactly as the server sent it. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** The parts of a metav1.Status we use. */
export interface KubeStatus {
  kind: 'Status';
  reason?: string;
  message?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string };
}

const HTTP_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function parseStatus(text: string): KubeStatus | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status'
      ? (v as KubeStatus)
      : undefined;
  } catch {
    return undefined;
  }
}

const ok = (a: RawAnswer): boolean => a.status >= 200 && a.status < 300;

/** The ApiError for an answer that is not a success. */
function httpError(call: string, a: RawAnswer): ApiError {
  const status = parseStatus(a.text);
  const reason = status?.reason || HTTP_REASONS[a.status] || 'Unknown';
  // A body that is not a Status (a proxy's error page) is shown shortened, on one line.
  const excerpt = a.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = status?.message || (excerpt ? `HTTP ${a.status}: ${excerpt}` : `HTTP ${a.status} ${reason}`);
  return new ApiError(call, a.status, reason, message);
}

/** The JSON body of a success; an ApiError otherwise. */
export function expectOk<T>(call: string, a: RawAnswer): T {
  if (!ok(a)) throw httpError(call, a);
  try {
    return JSON.parse(a.text) as T;
  } catch {
    throw new ApiError(
      call,
      a.status,
      'InvalidResponse',
      `the API server answered HTTP ${a.status} with a body that is not JSON`,
    );
  }
}

/**
 * The object, or null when the server says that object does not exist.
 * A 404 that does not name the object means the resource type itself is not
 * served (a CRD not installed): that is an error to report, not an absence.
 */
export function objectOrNull<T>(call: string, a: RawAnswer, name: string, resource: string): T | null {
  if (a.status === 404) {
    const status = parseStatus(a.text);
    if (status?.details?.name === name) return null;
    throw new ApiError(
      call,
      404,
      status?.reason || 'NotFound',
      `${status?.message || 'not found'}: the API server does not serve ${resource}; is its CustomResourceDefinition installed?`,
    );
  }
  return expectOk<T>(call, a);
}

/** Why a call got no answer at all: status 0. */
export type NoAnswer =
  { kind: 'timeout'; ms: number } | { kind: 'aborted'; reason: unknown } | { kind: 'failed'; error: unknown };

export function noAnswerError(call: string, why: NoAnswer): ApiError {
  switch (why.kind) {
    case 'timeout':
      return new ApiError(call, 0, 'Timeout', `no answer from the API server within ${why.ms} ms`);
    case 'aborted': {
      const r = why.reason;
      const detail = r instanceof Error ? r.message : typeof r === 'string' ? r : 'the request was cancelled';
      return new ApiError(call, 0, 'Aborted', `cancelled before the API server answered (${detail})`);
    }
    case 'failed': {
      // undici reports network failures as `TypeError: fetch failed` with the socket error as its cause.
      const e = why.error as
        { message?: string; code?: string; cause?: { message?: string; code?: string } } | undefined;
      const cause = e?.cause ?? e;
      const detail = cause?.message || e?.message || String(why.error);
      return new ApiError(call, 0, 'ConnectionFailed', `the API server could not be reached: ${detail}`);
    }
  }
}
