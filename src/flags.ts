// Command-line flags declared as a table: each command's table is the single
// source of its parser and its --help text (and, for serve, its environment
// variables). A bad flag is a UsageError: exit status 2 and a message naming it.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Flag {
  name: string;
  short?: string;
  kind: 'string' | 'boolean';
  multiple?: boolean;
  def?: string;
  arg?: string;
  help: string;
  /** Not read from the environment (serve's --help: a stray variable must never stop a server). */
  noEnv?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * The flags given in `argv` (defaults are the caller's: serve also reads the
 * environment). An unknown flag, a missing value or a positional argument is
 * a UsageError that ends with `see <helpHint>`.
 */
export function parseFlags(
  flags: readonly Flag[],
  argv: readonly string[],
  prefix: string,
  helpHint: string,
): FlagValues {
  return parseFlagsAndArgs(flags, argv, prefix, helpHint, false).values;
}

/** parseFlags for a command that also takes arguments (`explain pod/NAME`): the flags, and the arguments in order. */
export function parseFlagsAndArgs(
  flags: readonly Flag[],
  argv: readonly string[],
  prefix: string,
  helpHint: string,
  allowPositionals = true,
): { values: FlagValues; positionals: string[] } {
  const options = Object.fromEntries(
    flags.map(f => [
      f.name,
      { type: f.kind, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: options as never,
      strict: true,
      allowPositionals,
    });
    return { values: values as FlagValues, positionals };
  } catch (e) {
    // Node's hint about positionals speaks of `--`, which no command here takes.
    throw new UsageError(
      `${prefix}${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}; see ${helpHint}`,
    );
  }
}

/** `value` when it is one of `allowed`; a UsageError naming the flag (`label`, e.g. `--sidecar-mode`) otherwise. */
export function oneOf<T extends string>(label: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${label}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return value as T;
}
