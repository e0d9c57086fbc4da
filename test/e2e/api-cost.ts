// What admission costs the cluster, read where the cluster counts it: the API
// server's apiserver_request_total, by verb and resource, before and after.
import type { KubeClient } from './kube-client.js';

export type RequestCounts = Map<string, number>;

const SAMPLE = /^apiserver_request_total\{([^}]*)\}\s+([0-9.e+]+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * `VERB group/resource[/subresource]` -> requests, summed over codes; dry runs counted apart.
 * With `byScope`, the scope is added (`resource` for one named object, `namespace`/`cluster` for
 * collections): kube-apiserver 1.20 counts a GET of one custom resource under verb LIST, and the
 * scope is what tells it from a list.
 */
export function parseRequestTotals(metrics: string, byScope = false): RequestCounts {
  const out: RequestCounts = new Map();
  for (const line of metrics.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[1]!.matchAll(LABEL)) labels[l[1]!] = l[2]!;
    const resource = `${labels.group ? `${labels.group}/` : ''}${labels.resource ?? ''}${labels.subresource ? `/${labels.subresource}` : ''}`;
    const key = `${labels.verb} ${resource}${byScope ? ` [${labels.scope}]` : ''}${labels.dry_run ? ' (dry run)' : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

export async function requestTotals(admin: KubeClient, byScope = false): Promise<RequestCounts> {
  const r = await admin.raw('GET', '/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body.slice(0, 200)}`);
  return parseRequestTotals(r.body, byScope);
}

/** after - before, zero entries dropped. */
export function delta(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

/** One line per verb and resource, per admitted pod, the suite's own requests taken out. */
export function perPod(
  d: RequestCounts,
  pods: number,
  own: RequestCounts = new Map(),
): Array<{ request: string; total: number; perPod: number }> {
  return [...d]
    .map(([request, total]) => ({ request, total: total - (own.get(request) ?? 0) }))
    .filter(r => r.total > 0)
    .sort((a, b) => a.request.localeCompare(b.request))
    .map(r => ({ ...r, perPod: Math.round((r.total / pods) * 100) / 100 }));
}

export const formatCost = (rows: ReturnType<typeof perPod>) =>
  rows.length === 0
    ? '  (none)'
    : rows.map(r => `  ${r.request.padEnd(44)} ${String(r.total).padStart(6)}  ${r.perPod.toFixed(2)}/pod`).join('\n');

/** How many times the API server has called the admission webhook `name` (its own histogram's count). */
export async function webhookCalls(admin: KubeClient, name: string): Promise<number> {
  const r = await admin.raw('GET', '/metrics');
  let n = 0;
  for (const line of r.body.split('\n')) {
    if (
      line.startsWith('apiserver_admission_webhook_admission_duration_seconds_count{') &&
      line.includes(`name="${name}"`)
    )
      n += Number(line.split(' ').pop());
  }
  return n;
}

/** Watches open now on `resource` (the API server's long-running request gauge). */
export async function openWatches(admin: KubeClient, resource: string): Promise<number> {
  const r = await admin.raw('GET', '/metrics');
  let n = 0;
  for (const line of r.body.split('\n')) {
    if (
      line.startsWith('apiserver_longrunning_gauge{') &&
      line.includes(`resource="${resource}"`) &&
      line.includes('verb="WATCH"')
    )
      n += Number(line.split(' ').pop());
  }
  return n;
}
