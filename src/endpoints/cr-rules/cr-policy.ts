// The policy the operator's custom-resource endpoints share: pure (no
// context to resolve), CREATE and UPDATE, metadata types checked before any
// work. A CR is applied by a person or a controller that reads the answer:
// no events, no skip reasons.
import type { Endpoint } from '../../admission/endpoint.js';
import { noContext } from '../../admission/endpoint.js';
import { VINEYARD_GROUP } from '../../vineyard/names.js';
import { customResourceShapeProblem } from '../object-shape.js';

export const crPolicy = (kind: string) =>
  ({
    expects: { group: VINEYARD_GROUP, kind },
    operations: ['CREATE', 'UPDATE'],
    resolve: noContext,
    // A custom resource's spec is not typed before admission: its wrong types are what validation reports.
    shapeProblem: customResourceShapeProblem,
  }) as const satisfies Partial<Endpoint<undefined>>;

/** The operator's path of a CR webhook, e.g. `/validate-k8s-v6d-io-v1alpha1-backup`. */
export const crPath = (verb: 'mutate' | 'validate', kind: string) =>
  `/${verb}-k8s-v6d-io-v1alpha1-${kind.toLowerCase()}`;
