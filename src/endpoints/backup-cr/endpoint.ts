// The Backup CR webhooks. Nothing to default: the mutating path answers
// because the operator's configuration calls it, with failurePolicy Fail.
import type { Endpoint } from '../../admission/endpoint.js';
import { BACKUP_KIND } from '../../vineyard/operator-kinds.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';
import { validateBackupCR } from './validate-backup-cr.js';

export const backupCrDefaultsEndpoint: Endpoint<undefined> = {
  ...crPolicy(BACKUP_KIND),
  path: crPath('mutate', BACKUP_KIND),
  name: 'backup-default',
  mutating: true,
  mutators: [],
};

export const backupCrValidateEndpoint: Endpoint<undefined> = {
  ...crPolicy(BACKUP_KIND),
  path: crPath('validate', BACKUP_KIND),
  name: 'backup-validate',
  mutating: false,
  mutators: [validateBackupCR],
};
