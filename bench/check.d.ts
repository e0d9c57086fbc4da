// Types of check.js for the TypeScript tests that import it.
export interface CheckedScenario {
  name: string;
  review: { apiVersion: string; request: { object: unknown } };
  /** Whether a correct answer carries a patch. */
  patches: boolean;
  /** The name of a VERIFY rule the patched object must pass. */
  verify?: string;
}
export type Verify = (before: any, after: any) => string | undefined;
export const VERIFY: Record<string, Verify>;
/** check(uid, status, body): the problem with an answer, or undefined when it is right. */
export function makeChecker(
  scenario: CheckedScenario,
  options?: { ceiling?: boolean },
): (uid: string, status: number, body: Buffer) => string | undefined;
