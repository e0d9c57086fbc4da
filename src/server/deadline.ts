// The API server appends `?timeout=10s` (the webhook's timeoutSeconds) to the
// URL. We answer before it, with a denial that says why, rather than let the
// API server report "context deadline exceeded".

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 30_000;
const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration (`10s`, `1m30s`, `500ms`); undefined when it is not one. */
function parseGoDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0,
    pos = 0;
  if (!text) return undefined;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

/** Milliseconds we allow ourselves: the API server's timeout less a margin for the answer's trip back. */
export function budgetMs(timeoutParam: unknown): number {
  const parsed = typeof timeoutParam === 'string' ? parseGoDuration(timeoutParam) : undefined;
  const timeout = Math.min(parsed && parsed > 0 ? parsed : DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
  return Math.max(Math.min(timeout * 0.9, timeout - 100), timeout / 2);
}
