// GlobalObject and LocalObject: vineyardd itself writes one (`--sync_crds`,
// through `kubectl apply`) for every object it persists, and logs a refusal
// only at a verbose level, so a refused write is a silently missing object
// for the scheduler. The operator's configurations send these writes to four
// paths with failurePolicy Fail: each answers "allowed" at once, with no
// lookup, no rule and no patch.
import type { Endpoint } from '../../admission/endpoint.js';
import { GLOBALOBJECT_KIND, LOCALOBJECT_KIND } from '../../vineyard/operator-kinds.js';
import { crPath, crPolicy } from '../cr-rules/cr-policy.js';

const allowAll = (kind: string, verb: 'mutate' | 'validate'): Endpoint<undefined> => ({
  ...crPolicy(kind),
  path: crPath(verb, kind),
  name: `${kind.toLowerCase()}-${verb === 'mutate' ? 'default' : 'validate'}`,
  mutating: verb === 'mutate',
  mutators: [],
});

export const vineyardObjectEndpoints: readonly Endpoint<undefined>[] = [
  allowAll(GLOBALOBJECT_KIND, 'mutate'),
  allowAll(GLOBALOBJECT_KIND, 'validate'),
  allowAll(LOCALOBJECT_KIND, 'mutate'),
  allowAll(LOCALOBJECT_KIND, 'validate'),
];
