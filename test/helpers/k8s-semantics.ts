// What the API server and the kubelet do with a few fields of deploy/, so the
// tests can check behaviour (which pods reach a webhook, what a CRD defaults,
// what a container's args become) rather than spelling.
import { isObject } from '../../src/json.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** metav1.LabelSelector semantics; an absent selector matches everything. */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (!has(k) || labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const ok =
      e.operator === 'In'
        ? has(e.key) && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !has(e.key) || !(e.values ?? []).includes(labels[e.key]!)
          : e.operator === 'Exists'
            ? has(e.key)
            : e.operator === 'DoesNotExist'
              ? !has(e.key)
              : (() => {
                  throw new Error(`unknown selector operator ${String(e.operator)}`);
                })();
    if (!ok) return false;
  }
  return true;
}

/** The labels the API server puts on every namespace, plus the given ones. */
export const namespaceLabels = (name: string, labels: Record<string, string> = {}) => ({
  'kubernetes.io/metadata.name': name,
  ...labels,
});

export interface Schema {
  type?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [k: string]: unknown;
}

/**
 * Structural-schema defaulting as the API server does it on create: a missing
 * property with a default gets a copy of it, then defaulting goes on inside
 * every object and array element present (including one just defaulted).
 */
export function applyStructuralDefaults(value: unknown, schema: Schema): unknown {
  if (isObject(value) && schema.properties) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (out[key] === undefined && sub.default !== undefined) out[key] = structuredClone(sub.default);
      if (out[key] !== undefined) out[key] = applyStructuralDefaults(out[key], sub);
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) return value.map(v => applyStructuralDefaults(v, schema.items!));
  return value;
}

/** Kubelet expansion of `$(VAR)` in command and args; `$$` escapes, unknown variables stay as written. */
export function expandEnvRefs(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : Object.prototype.hasOwnProperty.call(env, name!) ? env[name!]! : m,
  );
}
