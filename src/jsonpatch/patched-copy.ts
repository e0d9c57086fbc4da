// A JSON Patch applied to a copy, as the API server applies a patch to the
// JSON it was sent: neither the document nor the operations are modified,
// and the result shares no object with either. One JSON copy of each is
// enough: fast-json-patch's own copy (mutateDocument false) would be a second.
import fjp from 'fast-json-patch';

/** `doc` with `ops` applied; `validate` makes a bad operation (or a failed `test`) throw a JsonPatchError. */
export function patchedCopy<T>(doc: T, ops: readonly fjp.Operation[], validate = true): T {
  return fjp.applyPatch(fjp.deepClone(doc) as T, fjp.deepClone(ops) as fjp.Operation[], validate, true).newDocument;
}
