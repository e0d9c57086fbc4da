// Equality-based label selectors (`k=v,k2!=v2,k3`), the subset the webhook
// builds and the memory store and test API server must understand.

export interface Requirement {
  key: string;
  op: '=' | '!=' | 'exists' | '!exists';
  value?: string;
}

export function parseSelector(selector: string): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const ne = part.indexOf('!=');
    if (ne > 0) {
      out.push({ key: part.slice(0, ne).trim(), op: '!=', value: part.slice(ne + 2).trim() });
      continue;
    }
    const eq = part.indexOf('=');
    if (eq > 0) {
      const value = part.slice(part[eq + 1] === '=' ? eq + 2 : eq + 1).trim();
      out.push({ key: part.slice(0, eq).trim(), op: '=', value });
      continue;
    }
    if (part.startsWith('!')) out.push({ key: part.slice(1).trim(), op: '!exists' });
    else out.push({ key: part, op: 'exists' });
  }
  return out;
}

export function matchesSelector(reqs: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return reqs.every(r => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case '=':
        return has && labels[r.key] === r.value;
      case '!=':
        return !has || labels[r.key] !== r.value;
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

/** metav1.LabelSelector, the structured form webhook configurations carry. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorExpression[];
}

export interface LabelSelectorExpression {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

const hasLabel = (labels: Readonly<Record<string, string>>, k: string) =>
  Object.prototype.hasOwnProperty.call(labels, k);

/** Whether one matchExpressions term holds for `labels`. */
export function expressionHolds(e: LabelSelectorExpression, labels: Readonly<Record<string, string>>): boolean {
  const has = hasLabel(labels, e.key);
  const values = e.values ?? [];
  switch (e.operator) {
    case 'In':
      return has && values.includes(labels[e.key]!);
    case 'NotIn':
      return !has || !values.includes(labels[e.key]!);
    case 'Exists':
      return has;
    default:
      return !has;
  }
}

/** metav1.LabelSelector semantics: every requirement holds; an absent selector matches everything. */
export function labelSelectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (!hasLabel(labels, k) || labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every(e => expressionHolds(e, labels));
}
