// The one test for "a JSON object" (not null, not an array): objects in
// admission requests are plain JSON whose every field may have any type.
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object or an array: what a JSON Pointer can step into. */
export type Container = Record<string, unknown> | unknown[];

export const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;
