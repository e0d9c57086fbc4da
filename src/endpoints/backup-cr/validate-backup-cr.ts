// Backup CR validation: a Backup names the Vineyardd whose objects it dumps
// and the path it dumps them to. Upstream accepts any Backup and its
// controller fails later (or backs up nothing) when one is missing.
import type { JsonRecord } from '../cr-rules/field-errors.js';
import { FieldErrors } from '../cr-rules/field-errors.js';
import { crValidator, specProblems } from '../cr-rules/validate-spec.js';
import { checkNamespaceName, checkObjectName, checkRequiredAbsolutePath } from '../cr-rules/references.js';
import { BACKUP_KIND } from '../../vineyard/operator-kinds.js';
import type { NamedMutator } from '../../admission/mutator.js';

/** A Vineyard object ID as `kubectl get globalobjects` shows it: `o` and 16 hex digits. */
const OBJECT_ID = /^o[0-9a-f]{16}$/;

function checkSpec(f: FieldErrors, spec: JsonRecord): void {
  checkObjectName(
    f,
    spec,
    'vineyarddName',
    'spec',
    'the Vineyardd whose objects are backed up (e.g. vineyardd-sample)',
  );
  checkNamespaceName(f, spec, 'vineyarddNamespace', 'spec', 'that Vineyardd (e.g. vineyard-system)');
  checkRequiredAbsolutePath(
    f,
    spec,
    'backupPath',
    'spec',
    'the directory the backup is written to (e.g. /var/vineyard/dump)',
  );
  // The CRD spells it `objecIDs`; the operator reads that spelling.
  const ids = f.array(spec, 'objecIDs', 'spec');
  const seen = new Set<string>();
  ids?.forEach((id, i) => {
    const p = `spec.objecIDs[${i}]`;
    if (typeof id !== 'string' || !OBJECT_ID.test(id))
      f.invalid(
        p,
        id,
        'must be a Vineyard object ID, "o" and 16 hex digits (e.g. "o000ef92379fd8850"); leave the list out to back up every object',
      );
    else if (seen.has(id)) f.add(p, 'Duplicate value', id, 'each object is listed once');
    if (typeof id === 'string') seen.add(id);
  });
  f.record(spec, 'persistentVolumeSpec', 'spec');
  f.record(spec, 'persistentVolumeClaimSpec', 'spec');
}

export const backupProblems = (obj: unknown): string[] => specProblems(obj, checkSpec);

export const validateBackupSpec = crValidator<Record<string, unknown>>({ kind: BACKUP_KIND, problems: backupProblems });

export const validateBackupCR: NamedMutator<Record<string, unknown>, unknown> = {
  name: 'validate-backup-cr',
  mutate: validateBackupSpec,
};
