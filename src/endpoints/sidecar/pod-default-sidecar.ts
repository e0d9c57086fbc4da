// The name of the default Sidecar CR of a pod, derived from its labels as the
// Vineyard operator does (first sorted label key K, value V: `K-V` cut to 47
// characters + `-default-sidecar`), made a valid DNS-1123 subdomain, which the
// operator's name was not always (upper case, leading `-`).
import { DEFAULT_SIDECAR_SUFFIX, POD_TEMPLATE_HASH_LABEL, SIDECAR_ENABLED_LABEL } from '../../vineyard/names.js';
import { labelValueErrors, qualifiedNameErrors } from '../../vineyard/label-rules.js';

/**
 * Labels that controllers stamp with a per-rollout or per-pod value. Naming
 * the CR after them would create a new Sidecar CR for each rollout or pod,
 * so they are never chosen.
 */
const GENERATED_LABELS: ReadonlySet<string> = new Set([
  SIDECAR_ENABLED_LABEL,
  POD_TEMPLATE_HASH_LABEL,
  'controller-revision-hash',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-completion-index',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
]);

const MAX_PREFIX = 47;

/** Makes `raw` a DNS-1123 subdomain: lower case, dot-separated labels that start and end alphanumeric. */
function toSubdomain(raw: string): string {
  return raw
    .toLowerCase()
    .split('.')
    .map(part => part.replace(/^-+|-+$/g, ''))
    .filter(Boolean)
    .join('.');
}

export interface DefaultSidecarIdentity {
  name: string;
  selector: string;
  key: string;
  /**
   * Why `key=value` cannot be the CR's selector: a key or value that is no
   * valid label (mutating admission sees labels before validation) would
   * select other pods than this one (`app: "a,tier=web"`) or make a CR the
   * Sidecar validation refuses.
   */
  invalid?: string;
}

/** undefined when the pod has no label to name the CR after. */
export function defaultSidecarIdentity(labels: Readonly<Record<string, string>>): DefaultSidecarIdentity | undefined {
  const keys = Object.keys(labels)
    .filter(k => !GENERATED_LABELS.has(k))
    .sort();
  const key = keys[0];
  if (key === undefined) return undefined;
  const value = labels[key]!;
  const prefix = `${key}-${value}`.slice(0, MAX_PREFIX);
  const name = toSubdomain(`${prefix}${DEFAULT_SIDECAR_SUFFIX}`.replace(/[^a-zA-Z0-9.-]+/g, '-'));
  const problems = [
    ...qualifiedNameErrors(key).map(e => `its key ${e}`),
    ...labelValueErrors(value).map(e => `its value ${e}`),
  ];
  return { name, selector: `${key}=${value}`, key, ...(problems.length ? { invalid: problems.join('; ') } : {}) };
}
