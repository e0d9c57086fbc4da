// metadata.managedFields of a review's objects, when the body parser set them
// aside (server/json-scan.ts): the parsed object holds null there, and the
// JSON text is kept here, keyed by the metadata object, for the one reader
// that may need it (the pipeline's final patch check).
import { isObject } from '../json.js';

const kept = new WeakMap<object, string>();

/** Records the managedFields text of `review.request[owner].metadata`. */
export function keepManagedFields(review: unknown, owner: 'object' | 'oldObject', text: string): void {
  if (!isObject(review) || !isObject(review.request)) return;
  const obj = review.request[owner];
  if (!isObject(obj) || !isObject(obj.metadata) || obj.metadata.managedFields !== null) return;
  kept.set(obj.metadata, text);
}

/** The object as the API server sent it: managedFields restored when the parser set it aside. */
export function withManagedFields<T extends Record<string, unknown>>(obj: T): T {
  const meta = obj.metadata;
  const text = isObject(meta) ? kept.get(meta) : undefined;
  if (text === undefined) return obj;
  return { ...obj, metadata: { ...(meta as object), managedFields: JSON.parse(text) as unknown } };
}
