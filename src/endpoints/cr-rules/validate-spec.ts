// A custom resource's validation as the API server words it: every problem in
// one answer (`<Kind>.<group> "<name>" is invalid: [...]`, 422), each with its
// field path, the value sent and what is allowed.
import type { AdmissionRequest } from '../../admission/types.js';
import type { Verdict } from '../../admission/mutator.js';
import { allow, deny } from '../../admission/mutator.js';
import { isObject } from '../../json.js';
import { objectName } from '../pod/pod-name.js';
import { FieldErrors, formatFieldError, invalidMessage, type JsonRecord } from './field-errors.js';
import { VINEYARD_GROUP } from '../../vineyard/names.js';

/**
 * Every problem of an object's spec, by `checkSpec`: a missing or null spec is
 * checked as empty (its required fields are then reported), one that is not an
 * object is reported as such.
 */
export function specProblems(obj: unknown, checkSpec: (f: FieldErrors, spec: JsonRecord) => void): string[] {
  const f = new FieldErrors();
  const spec = isObject(obj) ? obj.spec : undefined;
  if (isObject(spec)) checkSpec(f, spec);
  else if (spec === undefined || spec === null) checkSpec(f, {});
  else f.invalid('spec', spec, 'must be an object');
  return f.errors.map(formatFieldError);
}

/** 422 Unprocessable Entity: what the API server answers for an invalid object. */
export const INVALID_CODE = 422;

export interface CrValidation {
  kind: string;
  /** Every problem of the object, formatted field errors in field order. */
  problems(obj: unknown): string[];
  /** On UPDATE: problems of the change itself (an immutable field changed), blocking whatever the stored object holds. */
  changeProblems?(oldObj: unknown, obj: unknown): string[];
}

/** A validating mutator; it reads only the request and the object, so it can also be called with just those. */
export function crValidator<O>(v: CrValidation): (req: AdmissionRequest, obj: Readonly<O>) => Verdict {
  const kindGroup = `${v.kind}.${VINEYARD_GROUP}`;
  return (req: AdmissionRequest, obj: Readonly<O>): Verdict => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
    const problems = v.problems(obj);
    const warnings: string[] = [];
    let blocking = problems;
    if (req.operation === 'UPDATE' && isObject(req.oldObject)) {
      // Like the API server's validation ratcheting: a problem the stored object
      // already has (same field, same value) does not block an update, so an
      // object created before this webhook can still be updated and fixed.
      const stored = new Set(v.problems(req.oldObject));
      blocking = problems.filter(p => !stored.has(p));
      for (const p of problems.filter(p => stored.has(p))) {
        warnings.push(
          `${kindGroup} ${JSON.stringify(objectName(req, obj))}: ${p} (the stored ${v.kind} already has this problem, so the update is allowed; please fix it)`,
        );
      }
      const changed = v.changeProblems?.(req.oldObject, obj) ?? [];
      if (changed.length) blocking = [...changed, ...blocking];
    }
    if (!blocking.length) return allow(warnings);
    return deny(invalidMessage(kindGroup, objectName(req, obj), blocking), INVALID_CODE, warnings);
  };
}
