// Field errors worded like the API server's (`spec.replicas: Invalid value: -1:
// must be ...`), so a rejection from this webhook reads like any other
// Kubernetes validation error, and typed readers that turn a wrong JSON type
// into such an error instead of a crash.
import { isObject } from '../../json.js';

export type FieldErrorType = 'Invalid value' | 'Unsupported value' | 'Not found' | 'Duplicate value' | 'Required value';

export interface FieldError {
  path: string;
  type: FieldErrorType;
  value: unknown;
  detail: string;
}

const MAX_VALUE_CHARS = 120;

/** JSON rendering: strings quoted, numbers and booleans bare, long objects cut. */
function renderValue(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS)}...` : json;
}

/** `Required value` names no value: there is none. */
export const formatFieldError = (e: FieldError): string =>
  `${e.path}: ${e.type}${e.type === 'Required value' ? '' : `: ${renderValue(e.value)}`}${e.detail ? `: ${e.detail}` : ''}`;

/** `<Kind>.<group> "<name>" is invalid: <err>` or `... is invalid: [<err1>, <err2>]`, as the API server says it. */
export function invalidMessage(kindGroup: string, name: string, errors: readonly string[]): string {
  const list = errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
  return `${kindGroup} ${JSON.stringify(name)} is invalid: ${list}`;
}

export type JsonRecord = Record<string, unknown>;

export const quoteList = (values: readonly string[]): string => values.map(v => JSON.stringify(v)).join(', ');

/**
 * Collects field errors. The readers return a field's value when it has the
 * expected type, and undefined when it is absent or null (which means "use the
 * default") or of another type (which is recorded as an error).
 */
export class FieldErrors {
  readonly errors: FieldError[] = [];

  add(path: string, type: FieldErrorType, value: unknown, detail: string): void {
    this.errors.push({ path, type, value, detail });
  }

  invalid(path: string, value: unknown, detail: string): void {
    this.add(path, 'Invalid value', value, detail);
  }

  unsupported(path: string, value: unknown, supported: readonly string[]): void {
    this.add(path, 'Unsupported value', value, `supported values: ${quoteList(supported)}`);
  }

  /** A string field that must be present and non-empty, such as a volume's name. */
  requiredString(parent: JsonRecord, key: string, path: string, detail: string): string | undefined {
    const v = parent[key];
    if (typeof v === 'string' && v !== '') return v;
    if (v === undefined || v === null) this.add(`${path}.${key}`, 'Required value', undefined, detail);
    else this.invalid(`${path}.${key}`, v, detail);
    return undefined;
  }

  private read<T>(
    parent: JsonRecord,
    key: string,
    path: string,
    ok: (v: unknown) => v is T,
    expected: string,
  ): T | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (ok(v)) return v;
    this.invalid(`${path}.${key}`, v, expected);
    return undefined;
  }

  record(parent: JsonRecord, key: string, path: string): JsonRecord | undefined {
    return this.read(parent, key, path, isObject, 'must be an object');
  }

  array(parent: JsonRecord, key: string, path: string): unknown[] | undefined {
    return this.read(parent, key, path, Array.isArray, 'must be a list');
  }

  string(parent: JsonRecord, key: string, path: string, expected = 'must be a string'): string | undefined {
    return this.read(parent, key, path, (v): v is string => typeof v === 'string', expected);
  }

  boolean(parent: JsonRecord, key: string, path: string): boolean | undefined {
    return this.read(parent, key, path, (v): v is boolean => typeof v === 'boolean', 'must be true or false');
  }

  /** An integer in [min, max]; a value of another type or out of range gets the one message. */
  integer(
    parent: JsonRecord,
    key: string,
    path: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    const expected =
      max === Number.MAX_SAFE_INTEGER
        ? `must be an integer of at least ${min}`
        : `must be an integer between ${min} and ${max}`;
    const v = this.read(parent, key, path, (x): x is number => typeof x === 'number', expected);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min || v > max) {
      this.invalid(`${path}.${key}`, v, expected);
      return undefined;
    }
    return v;
  }
}
