// Types of scenarios.js for the TypeScript tests that import it.
import type { CheckedScenario } from './check.js';
export interface Scenario extends CheckedScenario {
  description: string;
  path: string;
  /** The review's JSON text split where the request's uid goes (the object may carry it too). */
  bodyParts: string[];
  bytes: number;
}
export const SCENARIOS: Scenario[];
export const TARGET_SCENARIO: string;
export const SAME_POD_SCENARIO: string;
export function writeResources(dir: string): string;
