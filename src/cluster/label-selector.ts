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
