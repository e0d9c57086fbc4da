// Reading rendered deploy/ objects: the one object of a kind, the webhook
// container, the server's configuration as the pod starts it, the webhooks,
// and the permissions its service account ends up with.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Container,
  V1Deployment,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
  V1PodSpec,
  V1Role,
  V1RoleBinding,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { endpoints } from '../../src/endpoints/table.js';
import { parseServeArgs, type ServeConfig } from '../../src/config.js';
import { callKey, type ApiCall } from './api-calls.js';
import { expandEnvRefs } from './k8s-semantics.js';
import type { KubeObject } from './kustomize.js';

export function all<T>(objs: KubeObject[], kind: string): T[] {
  return objs.filter(o => o.kind === kind) as unknown as T[];
}
export function one<T>(objs: KubeObject[], kind: string): T {
  const found = all<T>(objs, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}
export const podSpec = (d: V1Deployment): V1PodSpec => d.spec!.template.spec!;
export const webhookContainer = (d: V1Deployment): V1Container => podSpec(d).containers[0]!;

/** The server's configuration as the pod would start it: args after the kubelet's $(VAR) expansion. */
export function serverConfig(objs: KubeObject[]): ServeConfig {
  const d = one<V1Deployment>(objs, 'Deployment');
  const c = webhookContainer(d);
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = d.metadata!.namespace!;
  }
  return parseServeArgs(
    (c.args ?? []).map(a => expandEnvRefs(a, env)),
    {},
  );
}

export function containerPort(d: V1Deployment, port: number | string): number {
  if (typeof port === 'number') return port;
  const p = webhookContainer(d).ports?.find(x => x.name === port);
  if (!p) throw new Error(`no container port named ${port}`);
  return p.containerPort;
}

export interface Hook {
  config: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  hook: V1MutatingWebhook;
}
export function webhooks(objs: KubeObject[]): Hook[] {
  return [
    ...one<V1MutatingWebhookConfiguration>(objs, 'MutatingWebhookConfiguration').webhooks!.map(hook => ({
      config: 'MutatingWebhookConfiguration' as const,
      hook,
    })),
    ...one<V1ValidatingWebhookConfiguration>(objs, 'ValidatingWebhookConfiguration').webhooks!.map(hook => ({
      config: 'ValidatingWebhookConfiguration' as const,
      hook: hook as V1MutatingWebhook,
    })),
  ];
}
export const hookFor = (objs: KubeObject[], endpointName: string): V1MutatingWebhook => {
  const e = endpoints.find(x => x.name === endpointName)!;
  const h = webhooks(objs).find(w => w.hook.clientConfig.service?.path === e.path);
  if (!h) throw new Error(`no webhook for ${e.path}`);
  return h.hook;
};
/** The namespace the webhook runs in: its Service's (the base creates no Namespace). */
export const namespaceOf = (objs: KubeObject[]) => one<KubeObject>(objs, 'Service').metadata.namespace!;
/** The permissions the server's service account holds, one string per (where, verb, resource, names). */
export function grants(objs: KubeObject[]): string[] {
  const d = one<V1Deployment>(objs, 'Deployment');
  const sa = { name: podSpec(d).serviceAccountName, namespace: d.metadata!.namespace };
  const roles = new Map<string, V1Role | V1ClusterRole>();
  for (const r of [...all<V1ClusterRole>(objs, 'ClusterRole'), ...all<V1Role>(objs, 'Role')])
    roles.set(`${r.kind}/${r.metadata!.namespace ?? ''}/${r.metadata!.name}`, r);
  const out: string[] = [];
  const bound = new Set<string>();
  for (const b of [
    ...all<V1ClusterRoleBinding>(objs, 'ClusterRoleBinding'),
    ...all<V1RoleBinding>(objs, 'RoleBinding'),
  ]) {
    if (!b.subjects?.some(s => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace))
      continue;
    const roleNs = b.roleRef.kind === 'Role' ? (b.metadata!.namespace ?? '') : '';
    const key = `${b.roleRef.kind}/${roleNs}/${b.roleRef.name}`;
    const role = roles.get(key);
    if (!role) throw new Error(`${b.kind} ${b.metadata!.name} refers to a missing ${key}`);
    bound.add(key);
    const where =
      b.kind === 'ClusterRoleBinding'
        ? 'cluster'
        : b.metadata!.namespace === sa.namespace
          ? 'own-namespace'
          : `namespace ${b.metadata!.namespace}`;
    for (const rule of role.rules ?? []) {
      if (rule.nonResourceURLs) throw new Error(`${key}: nonResourceURLs`);
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs) {
            out.push(
              grantKey({
                where: where as ApiCall['where'],
                verb,
                group,
                resource,
                ...(rule.resourceNames ? { names: rule.resourceNames } : {}),
              }),
            );
          }
    }
  }
  for (const key of roles.keys()) if (!bound.has(key)) throw new Error(`${key} is bound to nothing`);
  return out.sort();
}
export const grantKey = (c: ApiCall) =>
  `${c.where}: ${callKey(c)}${c.names ? ` [${[...c.names].sort().join(',')}]` : ''}`;
