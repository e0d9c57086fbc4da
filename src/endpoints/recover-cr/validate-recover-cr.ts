// Recover CR validation: a Recover names the Backup it restores. Upstream
// accepts a Recover without one, and its controller has nothing to restore.
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors } from '../cr-rules/field-errors.js';
import { crValidator, specProblems } from '../cr-rules/validate-spec.js';
import { checkNamespaceName, checkObjectName } from '../cr-rules/references.js';
import { RECOVER_KIND } from '../../vineyard/operator-kinds.js';
import type { NamedMutator } from '../../admission/mutator.js';

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  checkObjectName(f, spec, 'backupName', 'spec', 'the Backup to restore (e.g. backup-sample)');
  checkNamespaceName(f, spec, 'backupNamespace', 'spec', 'that Backup (e.g. vineyard-system)');
}

export const recoverProblems = (obj: unknown): string[] => specProblems(obj, checkSpec);

export const validateRecoverSpec = crValidator<Record<string, unknown>>({
  kind: RECOVER_KIND,
  problems: recoverProblems,
});

export const validateRecoverCR: NamedMutator<Record<string, unknown>, unknown> = {
  name: 'validate-recover-cr',
  mutate: validateRecoverSpec,
};
