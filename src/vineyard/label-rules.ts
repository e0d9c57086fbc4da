// The rules Kubernetes applies to label keys (qualified names), label values,
// DNS-1123 subdomains and labels. Each check returns the reasons a string
// breaks the rule (empty when it is valid), worded for the user who has to fix
// it. The one place these patterns are written: import them, never retype them.

const NAME_PART = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

const NAME_PART_MAX = 63;
const LABEL_VALUE_MAX = 63;
const DNS_LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;

const NAME_CHARS = 'alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric character';

/** A DNS-1123 subdomain: lower-case dot-separated labels such as `example.com`, at most 253 characters. */
export function subdomainErrors(s: string): string[] {
  const out: string[] = [];
  if (s.length > SUBDOMAIN_MAX) out.push(`must be no more than ${SUBDOMAIN_MAX} characters`);
  if (!SUBDOMAIN.test(s)) {
    out.push(
      'must be a lower-case DNS-1123 subdomain: alphanumeric characters, "-" or ".", ' +
        'starting and ending with an alphanumeric character (e.g. "example.com")',
    );
  }
  return out;
}

export const isSubdomain = (s: string): boolean => subdomainErrors(s).length === 0;

/** A DNS-1123 label, such as a namespace name: a subdomain without dots, at most 63 characters. */
export const isDnsLabel = (s: string): boolean => s.length <= DNS_LABEL_MAX && DNS_LABEL.test(s);

/**
 * A label key: an optional DNS-1123 subdomain prefix and `/`, then a name of
 * at most 63 alphanumeric characters, `-`, `_` or `.`, starting and ending
 * alphanumeric (`app`, `app.kubernetes.io/name`).
 */
export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [
      'a label key is a name with an optional DNS subdomain prefix and a single "/" (e.g. "example.com/my-name")',
    ];
  }
  const out: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') out.push('the prefix before "/" must not be empty');
    else out.push(...subdomainErrors(prefix).map(e => `the prefix before "/" ${e}`));
  }
  if (name === '') {
    out.push('the name part must not be empty');
    return out;
  }
  if (name.length > NAME_PART_MAX) out.push(`the name part must be no more than ${NAME_PART_MAX} characters`);
  if (!NAME_PART.test(name))
    out.push(`the name part must consist of ${NAME_CHARS} (e.g. "MyName", "my.name", "123-abc")`);
  return out;
}

export const isQualifiedName = (key: string): boolean => qualifiedNameErrors(key).length === 0;

/** A label value: empty, or at most 63 characters of the name-part alphabet. */
export function labelValueErrors(value: string): string[] {
  const out: string[] = [];
  if (value.length > LABEL_VALUE_MAX) out.push(`must be no more than ${LABEL_VALUE_MAX} characters`);
  if (value !== '' && !NAME_PART.test(value)) {
    out.push(`must be empty or consist of ${NAME_CHARS} (e.g. "MyValue", "my_value", "12345")`);
  }
  return out;
}

export const isLabelValue = (value: string): boolean => labelValueErrors(value).length === 0;

/**
 * An equality selector in the form the Sidecar CR uses, `k=v[,k=v]`: no
 * spaces, no `!=`, no set syntax. The empty string is "no selector".
 */
export function equalitySelectorErrors(selector: string): string[] {
  if (selector === '') return [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const pair of selector.split(',')) {
    const eq = pair.split('=');
    if (eq.length !== 2) {
      out.push(
        `${JSON.stringify(pair)} is not a key=value pair: write the selector as comma-separated key=value pairs, e.g. "app=job-deployment,tier=web"`,
      );
      continue;
    }
    const [key, value] = eq as [string, string];
    for (const e of qualifiedNameErrors(key)) out.push(`label key ${JSON.stringify(key)}: ${e}`);
    for (const e of labelValueErrors(value))
      out.push(`label value ${JSON.stringify(value)} of ${JSON.stringify(key)}: ${e}`);
    if (seen.has(key)) out.push(`label key ${JSON.stringify(key)} appears more than once: a pod has one value per key`);
    seen.add(key);
  }
  return out;
}
