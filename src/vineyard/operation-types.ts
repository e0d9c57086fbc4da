// The operations the Vineyard operator runs and the types each accepts: read
// by the pod gate (labels `<op>.v6d.io/type`) and by the Operation CR
// validation (`spec.name`, `spec.type`) alike.
export const OPERATION_TYPES: Readonly<Record<string, readonly string[]>> = {
  assembly: ['local', 'distributed'],
  repartition: ['dask'],
};

export const ASSEMBLY_TYPES = OPERATION_TYPES.assembly!;
export const REPARTITION_TYPES = OPERATION_TYPES.repartition!;

/** What the operator waits for an operation when the Operation says nothing (upstream's only defaulting). */
export const DEFAULT_OPERATION_TIMEOUT_SECONDS = 300;
