// The policy every pod endpoint shares: the JSON types and limits checked
// before any work, the `nothing-to-change` skip, and AdmissionDenied events.
// An endpoint spreads it into its table entry and adds its own.
import type { AnyEndpoint } from '../../admission/endpoint.js';
import { podLimitProblem } from '../limits.js';
import { podShapeProblem } from '../object-shape.js';
import { podEvents } from './events.js';
import { nothingToChange } from './skip-reasons.js';

export const POD = { group: '', kind: 'Pod' } as const;

export const podPolicy = {
  expects: POD,
  operations: ['CREATE'],
  mutating: true,
  shapeProblem: podShapeProblem,
  limitProblem: podLimitProblem,
  skip: nothingToChange,
  event: podEvents(),
} as const satisfies Partial<AnyEndpoint>;
