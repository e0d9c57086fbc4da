// The optional components of deploy/ beside cert-manager and sidecar-crd:
// namespace (not in the base, so deleting the webhook never deletes a shared
// namespace), monitoring (ServiceMonitor and alerts that name our metrics)
// and network-policy.
import t from 'tap';
import { join } from 'node:path';
import type { V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { kustomize, type KubeObject } from './helpers/kustomize.js';
import { schemaErrors } from './helpers/k8s-schema.js';
import { namespaceOf, one } from './helpers/deploy-objects.js';
import { Metrics } from '../src/server/metrics.js';

const DEPLOY = new URL('../deploy/', import.meta.url).pathname;
const component = (name: string) => join(DEPLOY, 'components', name);
const base = kustomize(DEPLOY);

t.test('the base creates no Namespace: `kubectl delete -k` of it never deletes vineyard-system', async t => {
  t.same(
    base.filter(o => o.kind === 'Namespace'),
    [],
  );
  const withNs = kustomize(DEPLOY, [component('namespace')]);
  const created = withNs.filter(o => o.kind === 'Namespace');
  t.same(
    created.map(o => o.metadata.name),
    [namespaceOf(base)],
    'the namespace component creates the one the objects are in',
  );
  for (const o of created) t.same(await schemaErrors(o), [], 'a valid Namespace');
});

t.test("monitoring: the ServiceMonitor scrapes the Service's plain-HTTP metrics port", async t => {
  const objs = kustomize(DEPLOY, [component('monitoring')]);
  const monitor = one<
    KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
    }
  >(objs, 'ServiceMonitor');
  const service = one<V1Service>(objs, 'Service');
  t.equal(monitor.metadata.namespace, namespaceOf(base));
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
    t.equal(service.metadata!.labels?.[k], v, `selects the Service by ${k}`);
  for (const e of monitor.spec.endpoints) {
    const port = service.spec!.ports!.find(p => p.name === e.port);
    t.ok(port, `the Service has port ${e.port}`);
    t.equal(port?.targetPort, 'metrics', "which is the container's metrics port");
    t.equal(e.path, '/metrics');
  }
});

t.test('monitoring: every metric the alerts use is one the server exports', async t => {
  const objs = kustomize(DEPLOY, [component('monitoring')]);
  const rule = one<KubeObject & { spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> } }>(
    objs,
    'PrometheusRule',
  );
  const ours = new Set((await new Metrics(false).registry.getMetricsAsJSON()).map(m => m.name));
  const rules = rule.spec.groups.flatMap(g => g.rules);
  t.ok(rules.length >= 4, 'errors, latency, certificate expiry, caBundle injection');
  for (const r of rules) {
    const used = [...r.expr.matchAll(/\b(vineyard_webhook_[a-z_]+?)(?:_bucket|_sum|_count)?\b/g)].map(m => m[1]!);
    t.ok(used.length > 0, `${r.alert} uses a metric of ours`);
    for (const m of used) t.ok(ours.has(m), `${r.alert}: ${m} is exported`);
  }
});

t.test('network-policy: the webhook port open to the API server, metrics to the monitoring namespace', async t => {
  const objs = kustomize(DEPLOY, [component('network-policy')]);
  const policy = one<V1NetworkPolicy>(objs, 'NetworkPolicy');
  t.same(await schemaErrors(policy as unknown as KubeObject), []);
  t.same(policy.spec!.podSelector?.matchLabels, { 'app.kubernetes.io/name': 'vineyard-webhook' });
  const rules = policy.spec!.ingress!;
  // client-node's model names the field `_from`; the manifest is plain JSON.
  const open = rules.filter(r => !(r as Record<string, unknown>).from);
  t.same(
    open.flatMap(r => (r.ports ?? []).map(p => p.port)),
    ['https'],
    'only the webhook port is open to every source',
  );
  t.same(policy.spec!.policyTypes, ['Ingress'], 'egress (the API server) is not restricted');
});
