import type { Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionRequest } from '../admission/types.js';

export type { PatchOperation };

/** Why the webhook says no. `code` is the HTTP status code put in the response. */
export interface Denial { code: number; message: string }

/** What one mutator decided: operations against the object it was given. */
export interface Mutation {
  patch: PatchOperation[];
  warnings: string[];
  denial?: Denial;
  /**
   * Set by PatchBuilder#mutation: `ops` (the same array as `patch`) applied to
   * `base`, each as fast-json-patch's validation accepts it, give `result`.
   */
  applied?: { base: unknown; ops: readonly PatchOperation[]; result: unknown };
}

/**
 * A pure function: no I/O, no clock, no globals. It never throws for a user
 * mistake (that is a denial naming the object, the field and the fix); a throw
 * is a bug and the server turns it into a 500 denial.
 */
export type Mutator<O, C> = (req: AdmissionRequest, obj: Readonly<O>, ctx: C) => Mutation;

export interface NamedMutator<O, C> { name: string; mutate: Mutator<O, C> }

export const allow = (warnings: string[] = []): Mutation => ({ patch: [], warnings });
export const deny = (message: string, code = 403, warnings: string[] = []): Mutation =>
  ({ patch: [], warnings, denial: { code, message } });
