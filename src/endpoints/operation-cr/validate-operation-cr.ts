// Operation CR validation. Upstream only logs a bad name, type, require or
// target, and the Operation then sits unreconciled (or its controller fails
// later, far from the user): here each is a field error, all in one answer.
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors, quoteList } from '../cr-rules/field-errors.js';
import { crValidator, specProblems } from '../cr-rules/validate-spec.js';
import { labelValueErrors } from '../../vineyard/label-rules.js';
import { OPERATION_TYPES } from '../../vineyard/operation-types.js';
import { JOB_LABEL, REQUIRED_ANNOTATION } from '../../vineyard/names.js';
import { OPERATION_KIND } from '../../vineyard/operator-kinds.js';
import type { NamedMutator } from '../../admission/mutator.js';

const NAMES = Object.keys(OPERATION_TYPES);

/** A job name: what pods carry in their scheduling.k8s.v6d.io/job label, so a non-empty label value. */
function checkJob(f: FieldErrors, spec: JsonRecord, key: string, role: string): void {
  const job = f.requiredString(spec, key, 'spec', `must name ${role}`);
  if (job === undefined) return;
  for (const e of labelValueErrors(job))
    f.invalid(`spec.${key}`, job, `must be a job name, as in label ${JOB_LABEL}: ${e}`);
}

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  const name = f.requiredString(spec, 'name', 'spec', `must name the operation: ${quoteList(NAMES)}`);
  const known = name !== undefined && NAMES.includes(name);
  if (name !== undefined && !known) f.unsupported('spec.name', name, NAMES);

  const types = known ? OPERATION_TYPES[name]! : undefined;
  const typeHint = types
    ? `${quoteList(types)} for ${JSON.stringify(name)}`
    : NAMES.map(n => `${quoteList(OPERATION_TYPES[n]!)} for ${JSON.stringify(n)}`).join(', ');
  const type = f.requiredString(spec, 'type', 'spec', `must be the kind of ${name ?? 'operation'}: ${typeHint}`);
  if (type !== undefined && types && !types.includes(type)) {
    f.add(
      'spec.type',
      'Unsupported value',
      type,
      `supported values for spec.name ${JSON.stringify(name)}: ${quoteList(types)}`,
    );
  }

  checkJob(
    f,
    spec,
    'require',
    `the job whose output the operation reads (what the consumer's ${REQUIRED_ANNOTATION} annotation names)`,
  );
  checkJob(f, spec, 'target', `the job that runs on the operation's result (its pods' ${JOB_LABEL} label)`);
  // 0 is "the default" (the defaulting webhook writes 300), a negative a mistake.
  f.integer(spec, 'timeoutSeconds', 'spec', 0);
}

export const operationProblems = (obj: unknown): string[] => specProblems(obj, checkSpec);

export const validateOperationSpec = crValidator<Record<string, unknown>>({
  kind: OPERATION_KIND,
  problems: operationProblems,
});

export const validateOperationCR: NamedMutator<Record<string, unknown>, unknown> = {
  name: 'validate-operation-cr',
  mutate: validateOperationSpec,
};
