import type { Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionRequest } from './types.js';
import type { PatchBuilder } from '../jsonpatch/patch.js';

export type { PatchOperation };

/** Why the webhook says no. `code` is the HTTP status code put in the response. */
export interface Denial {
  code: number;
  message: string;
}

/** What one mutator decided; its changes went into the PatchBuilder it was handed. */
export interface Verdict {
  warnings: string[];
  denial?: Denial;
}

/**
 * A pure function of its arguments: no I/O, no clock, no globals. It reads
 * `obj` (the object as earlier mutators left it, unchanged while it runs) and
 * writes only through `patch`. It never throws for a user
 * mistake (that is a denial naming the object, the field and the fix); a throw
 * is a bug and the server turns it into a 500 denial.
 */
export type Mutator<O, C> = (req: AdmissionRequest, obj: Readonly<O>, ctx: C, patch: PatchBuilder) => Verdict;

export interface NamedMutator<O, C> {
  name: string;
  mutate: Mutator<O, C>;
}

export const allow = (warnings: string[] = []): Verdict => ({ warnings });
export const deny = (message: string, code = 403, warnings: string[] = []): Verdict => ({
  warnings,
  denial: { code, message },
});
