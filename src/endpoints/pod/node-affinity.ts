// Node affinity written into a pod without undoing what is there: a required
// expression is ANDed into every existing term (terms are ORed, so adding it to
// one term only would leave the others free of it), a preferred term is added
// once. Shared by the endpoints that place pods.
import type { V1NodeSelectorRequirement, V1NodeSelectorTerm, V1PreferredSchedulingTerm } from '@kubernetes/client-node';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { listOf } from './pod-helpers.js';

const NODE_AFFINITY = ['spec', 'affinity', 'nodeAffinity'] as const;
export const REQUIRED_NODE_TERMS = [
  ...NODE_AFFINITY,
  'requiredDuringSchedulingIgnoredDuringExecution',
  'nodeSelectorTerms',
] as const;
export const PREFERRED_NODE_TERMS = [...NODE_AFFINITY, 'preferredDuringSchedulingIgnoredDuringExecution'] as const;

/** JSON with object keys sorted (and undefined ones left out), so two terms written in a different key order compare equal. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter(k => o[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `expr` required of every node the pod may run on. */
export function requireNodeExpression(p: PatchBuilder, expr: V1NodeSelectorRequirement): void {
  const terms = p.get(REQUIRED_NODE_TERMS);
  if (!Array.isArray(terms) || terms.length === 0) {
    p.set(REQUIRED_NODE_TERMS, [{ matchExpressions: [expr] }]);
    return;
  }
  terms.forEach((t: V1NodeSelectorTerm, i) => {
    const exprs = listOf<V1NodeSelectorRequirement>(t?.matchExpressions);
    if (!exprs.some(e => canonical(e) === canonical(expr)))
      p.append([...REQUIRED_NODE_TERMS, i, 'matchExpressions'], expr);
  });
}

/** `expr` preferred with `weight`, unless the pod prefers exactly that already. */
export function preferNodeExpression(p: PatchBuilder, expr: V1NodeSelectorRequirement, weight: number): void {
  const term: V1PreferredSchedulingTerm = { weight, preference: { matchExpressions: [expr] } };
  if (!listOf<V1PreferredSchedulingTerm>(p.get(PREFERRED_NODE_TERMS)).some(t => canonical(t) === canonical(term)))
    p.append(PREFERRED_NODE_TERMS, term);
}
