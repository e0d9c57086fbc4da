// Parsed JSON shared between reviews (replay-cache.ts) is frozen all the way
// down: the pipeline only reads the objects it is given, and freezing turns a
// write that would silently change the next review's object into a TypeError
// (ES modules are strict) on the one that tried.
const frozen = new WeakSet<object>();

/** Freezes a tree of parsed JSON (objects and arrays) and records its root as immutable. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    freezeTree(value as object);
    frozen.add(value as object);
  }
  return value;
}

function freezeTree(node: object): void {
  if (frozen.has(node)) return; // a subtree frozen (and recorded) before
  // JSON nesting is bounded by the body parser (MAX_JSON_DEPTH), so recursion is safe.
  if (Array.isArray(node)) {
    for (const v of node) if (typeof v === 'object' && v !== null) freezeTree(v);
  } else {
    for (const k in node) {
      const v = (node as Record<string, unknown>)[k];
      if (typeof v === 'object' && v !== null) freezeTree(v);
    }
  }
  Object.freeze(node);
}

/** Whether `value` is the root of a tree frozen by deepFreeze: equal identity then means equal content. */
export function isDeepFrozen(value: unknown): boolean {
  return typeof value === 'object' && value !== null && frozen.has(value);
}
