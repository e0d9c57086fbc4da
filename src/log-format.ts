// Log lines for a person at a terminal (`--log-format text`, the default when
// stdout is a TTY): local time, level name, message, then the fields as
// key=value, one line per entry. pino writes JSON; this turns each line into
// text on its way to the destination. Not for production volumes: it parses
// every line again, which only a terminal's reader can afford.
import type { LogDestination } from './log-destination.js';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has or that add nothing on a terminal. */
const HIDDEN = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname']);

const two = (n: number) => String(n).padStart(2, '0');

function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as text; a line that is not JSON passes unchanged. */
export function formatText(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level =
    typeof entry.level === 'number' ? (LEVELS[entry.level] ?? String(entry.level)) : String(entry.level ?? '');
  const time = typeof entry.time === 'number' ? localTime(entry.time) : '';
  let out = `${time} ${level.padEnd(5)} ${typeof entry.msg === 'string' ? entry.msg : ''}`;
  let stack: string | undefined;
  for (const [k, v] of Object.entries(entry)) {
    if (HIDDEN.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { message?: unknown; stack?: unknown };
      out += ` err=${value(e.message ?? '')}`;
      // The stack only where something broke: warnings stay on one line.
      if (typeof e.stack === 'string' && typeof entry.level === 'number' && entry.level >= 50) stack = e.stack;
      continue;
    }
    out += ` ${k}=${value(v)}`;
  }
  if (stack)
    out +=
      '\n' +
      stack
        .split('\n')
        .map(l => `    ${l.trim()}`)
        .join('\n');
  return out + '\n';
}

/** A pino destination that writes text to `dest`. */
export class TextDestination {
  constructor(readonly dest: LogDestination) {}
  write(line: string): boolean {
    return this.dest.write(formatText(line));
  }
  flush(cb?: (err?: Error) => void): void {
    this.dest.flush(cb);
  }
  flushSync(): void {
    this.dest.flushSync();
  }
}
