// Everything an e2e test file needs, started in order: the control plane,
// the CRDs, deploy/ rendered and applied (RBAC, webhook configurations), the
// built server running as deploy/'s ServiceAccount, and then the webhook
// configurations switched to url client configs (a test API server cannot
// route a `service` to 127.0.0.1) with the caBundle the server injected.
import { readdirSync } from 'node:fs';
import type { Test } from 'tap';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kustomize, readManifestFile, type KubeObject as DeployObject } from '../helpers/kustomize.js';
import { findAssets } from './assets.js';
import { startCluster, webhookUser, type Cluster } from './cluster.js';
import { freePort } from '../helpers/free-port.js';
import { KubeClient, resourcePath, type KubeObject } from './kube-client.js';
import { startWebhookServer, type WebhookServer } from './webhook-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
const SIDECAR_CRD_COMPONENT = join(DEPLOY, 'components', 'sidecar-crd');
// The base leaves the namespace to the user (it is shared with the operator): an empty cluster needs it.
const NAMESPACE_COMPONENT = join(DEPLOY, 'components', 'namespace');
const OPERATOR_CRDS = fileURLToPath(new URL('./crds/', import.meta.url));

export const WEBHOOK_NS = 'vineyard-system';
export const WEBHOOK_SA = 'vineyard-webhook';

export type ConfigKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
export const configPath = (kind: ConfigKind, name?: string) =>
  resourcePath(
    'admissionregistration.k8s.io/v1',
    kind === 'MutatingWebhookConfiguration' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations',
    undefined,
    name,
  );

export interface WebhookConfig extends KubeObject {
  webhooks: Array<{
    name: string;
    clientConfig: {
      url?: string;
      caBundle?: string;
      service?: { name: string; namespace: string; path?: string; port?: number };
    };
    [k: string]: unknown;
  }>;
}

export interface E2E {
  cluster: Cluster;
  admin: KubeClient;
  server: WebhookServer;
  /** deploy/ as kustomize renders it (with the sidecar-crd component). */
  deploy: DeployObject[];
  /** The configurations as the server left them after injecting its CA (service client configs). */
  injected: Record<ConfigKind, WebhookConfig>;
  /** The CA the server keeps in its Secret, PEM. */
  secretCa: string;
  /** `config` with every service client config turned into a url on the server. */
  urlTwin(config: WebhookConfig, name?: string): WebhookConfig;
  serverVersion: { major: number; minor: number; gitVersion: string };
  stop(): Promise<void>;
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
  Pod: 'pods',
  ConfigMap: 'configmaps',
  Service: 'services',
  Sidecar: 'sidecars',
  Vineyardd: 'vineyardds',
  Operation: 'operations',
  Backup: 'backups',
  Recover: 'recovers',
  CSIDriver: 'csidrivers',
  GlobalObject: 'globalobjects',
  LocalObject: 'localobjects',
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
  Job: 'jobs',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Dataset: 'datasets',
  VineyardRuntime: 'vineyardruntimes',
  Node: 'nodes',
  Event: 'events',
};

export function pluralOf(kind: string): string {
  const p = PLURALS[kind];
  if (!p) throw new Error(`test/e2e/env.ts: no plural known for kind ${kind}; add it to PLURALS`);
  return p;
}

/** The REST path of an object (collection when it has no name). */
export const objectPath = (o: KubeObject, withName = true) =>
  resourcePath(o.apiVersion!, pluralOf(o.kind!), o.metadata?.namespace, withName ? o.metadata?.name : undefined);

/** Creates `o` as given: server-set metadata (uid, resourceVersion, creationTimestamp) is dropped first. */
export function createObject<T = KubeObject>(
  client: KubeClient,
  o: KubeObject,
  opts: { dryRun?: boolean } = {},
): Promise<T> {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...metadata } = o.metadata ?? {};
  return client.create<T>(objectPath(o, false), { ...o, metadata }, opts);
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(
        `${what}: not after ${timeoutMs / 1000}s${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise(r => setTimeout(r, 100));
  }
}

async function installCrds(admin: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) await createObject(admin, crd);
  await Promise.all(
    crds.map(crd =>
      waitUntil(`CRD ${crd.metadata!.name} established`, async () => {
        const c = await admin.get(objectPath(crd));
        return (c.status?.conditions ?? []).some(
          (x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True',
        );
      }),
    ),
  );
}

/** Starts the whole environment, or returns the one line saying why it cannot run. */
export async function startE2E(opts: { serverArgs?: string[] } = {}): Promise<E2E | { skipped: string }> {
  const assets = findAssets();
  if ('missing' in assets) return { skipped: assets.missing };
  const sa = webhookUser(WEBHOOK_NS, WEBHOOK_SA);
  const cluster = await startCluster(assets, [sa]);
  let server: WebhookServer | undefined;
  const stop = async () => {
    await server?.stop();
    cluster.admin.close();
    await cluster.stop();
  };
  try {
    const admin = cluster.admin;
    const serverVersion = await admin
      .get<{ major: string; minor: string; gitVersion: string }>('/version')
      .then(v => ({ major: Number(v.major), minor: Number(v.minor.replace(/\D+$/, '')), gitVersion: v.gitVersion }));
    const deploy = kustomize(DEPLOY, [NAMESPACE_COMPONENT, SIDECAR_CRD_COMPONENT]);
    const operatorCrds = readdirSync(OPERATOR_CRDS)
      .filter(f => f.endsWith('.yaml'))
      .sort()
      .flatMap(f => readManifestFile(join(OPERATOR_CRDS, f)));
    await installCrds(admin, [
      ...deploy.filter(o => o.kind === 'CustomResourceDefinition'),
      ...operatorCrds,
    ] as KubeObject[]);

    // What the server needs to run as itself; the Deployment, Service and PodDisruptionBudget
    // describe a pod, which nothing here would run.
    const wanted = [
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
    ];
    for (const kind of wanted)
      for (const o of deploy.filter(x => x.kind === kind)) await createObject(admin, o as KubeObject);

    server = await startWebhookServer({
      kubeconfig: cluster.kubeconfigFor(sa),
      port: await freePort(),
      namespace: WEBHOOK_NS,
      extraArgs: opts.serverArgs,
    });

    const configs = deploy.filter(o => o.kind.endsWith('WebhookConfiguration')) as unknown as WebhookConfig[];
    const injected = {} as Record<ConfigKind, WebhookConfig>;
    for (const c of configs) {
      injected[c.kind as ConfigKind] = await waitUntil(
        `caBundle injected into ${c.kind} ${c.metadata!.name}`,
        async () => {
          const live = await admin.get<WebhookConfig>(configPath(c.kind as ConfigKind, c.metadata!.name));
          return live.webhooks.every(w => w.clientConfig.caBundle) ? live : undefined;
        },
      );
    }
    const secret = await admin.get(resourcePath('v1', 'secrets', WEBHOOK_NS, 'vineyard-webhook-ca'));
    const secretCa = Buffer.from(secret.data['ca.crt'], 'base64').toString('utf8');

    const base = server.url;
    const urlTwin = (config: WebhookConfig, name?: string): WebhookConfig => ({
      apiVersion: config.apiVersion,
      kind: config.kind,
      metadata: { name: name ?? config.metadata!.name, labels: config.metadata!.labels },
      webhooks: config.webhooks.map(w => {
        const { service, ...rest } = w.clientConfig;
        return { ...w, clientConfig: service ? { ...rest, url: `${base}${service.path ?? '/'}` } : w.clientConfig };
      }),
    });
    for (const c of Object.values(injected)) {
      const twin = urlTwin(c);
      await admin.update(configPath(c.kind as ConfigKind, c.metadata!.name), {
        ...twin,
        metadata: {
          ...twin.metadata,
          resourceVersion: (await admin.get(configPath(c.kind as ConfigKind, c.metadata!.name))).metadata!
            .resourceVersion,
        },
      });
    }
    return { cluster, admin, server, deploy, injected, secretCa, urlTwin, serverVersion, stop };
  } catch (e) {
    const out = server?.output();
    await stop();
    if (out)
      (e as Error).message += `\nvineyard-webhook output (last lines):\n${out.split('\n').slice(-30).join('\n')}`;
    throw e;
  }
}

/**
 * The environment for a test file, stopped when the file ends; without the
 * binaries, one line saying so and the file ends (a failure under CI=true:
 * CI must never pass without having talked to a real API server).
 */
export async function e2eFor(t: Test, opts: { serverArgs?: string[] } = {}): Promise<E2E> {
  const started = await startE2E(opts);
  if ('skipped' in started) {
    const line = `e2e suite skipped: ${started.skipped}`;
    process.stderr.write(`${line}\n`);
    if (process.env.CI === 'true') t.fail(`${line} (CI=true: the e2e suite must run)`);
    else t.plan(0, line);
    process.exit();
  }
  t.teardown(() => started.stop());
  return started;
}
