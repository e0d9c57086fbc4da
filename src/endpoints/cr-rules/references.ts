// Fields that name another object: a Vineyardd, a Backup, a namespace. The
// operator looks them up by these names, so a name that no object can have
// is refused here instead of failing in its controller later.
import { isDnsLabel, subdomainErrors } from '../../vineyard/label-rules.js';
import type { FieldErrors, JsonRecord } from './field-errors.js';

/**
 * Vineyardd and Backup names end up in label values
 * (`app.kubernetes.io/name=<vineyardd>`), hence 63 characters, not a
 * subdomain's 253.
 */
const NAME_MAX = 63;

/** A required object name; `what` says which object, e.g. `the Vineyardd to back up`. Returns it when valid. */
export function checkObjectName(
  f: FieldErrors,
  parent: JsonRecord,
  key: string,
  path: string,
  what: string,
): string | undefined {
  const name = f.requiredString(parent, key, path, `must name ${what}`);
  if (name === undefined) return undefined;
  const errors = subdomainErrors(name);
  if (name.length > NAME_MAX) errors.unshift(`must be no more than ${NAME_MAX} characters`);
  for (const e of errors) f.invalid(`${path}.${key}`, name, `must name ${what}: ${e}`);
  return errors.length ? undefined : name;
}

/** A required namespace name. Returns it when valid. */
export function checkNamespaceName(
  f: FieldErrors,
  parent: JsonRecord,
  key: string,
  path: string,
  what: string,
): string | undefined {
  const ns = f.requiredString(parent, key, path, `must name the namespace of ${what}`);
  if (ns === undefined) return undefined;
  if (isDnsLabel(ns)) return ns;
  f.invalid(
    `${path}.${key}`,
    ns,
    `must name the namespace of ${what}: a namespace name is lower-case alphanumeric characters or "-", starting and ending with an alphanumeric character, at most 63 characters`,
  );
  return undefined;
}

/** An absolute path without `..` segments, required. */
export function checkRequiredAbsolutePath(
  f: FieldErrors,
  parent: JsonRecord,
  key: string,
  path: string,
  what: string,
): void {
  const p = f.requiredString(parent, key, path, `must be ${what}, an absolute path`);
  if (p === undefined) return;
  if (!p.startsWith('/')) f.invalid(`${path}.${key}`, p, `must be ${what}, an absolute path (starting with "/")`);
  else if (p.split('/').includes('..')) f.invalid(`${path}.${key}`, p, `must not contain ".." path segments`);
}
