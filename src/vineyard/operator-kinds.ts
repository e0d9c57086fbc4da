// The Vineyard operator's custom resources besides Sidecar and Vineyardd (in
// names.ts): the kinds whose webhook paths this server answers in the
// operator's place. All are k8s.v6d.io/v1alpha1.
export const OPERATION_KIND = 'Operation';
export const OPERATION_PLURAL = 'operations';
export const BACKUP_KIND = 'Backup';
export const BACKUP_PLURAL = 'backups';
export const RECOVER_KIND = 'Recover';
export const RECOVER_PLURAL = 'recovers';
/** Cluster-scoped; not storage.k8s.io's CSIDriver. */
export const CSIDRIVER_KIND = 'CSIDriver';
export const CSIDRIVER_PLURAL = 'csidrivers';
/** Written by vineyardd itself (`--sync_crds`) for every persisted object. */
export const GLOBALOBJECT_KIND = 'GlobalObject';
export const GLOBALOBJECT_PLURAL = 'globalobjects';
export const LOCALOBJECT_KIND = 'LocalObject';
export const LOCALOBJECT_PLURAL = 'localobjects';
