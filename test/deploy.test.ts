// deploy/ as a cluster would see it: rendered like `kubectl apply -k`, every
// object schema-valid, and every object agreeing with the code it deploys:
// the server's flags, its routes, the endpoint table, the API calls it makes,
// the Sidecar defaults.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify, parseAllDocuments } from 'yaml';
import type {
  V1ClusterRoleBinding,
  V1CustomResourceDefinition,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1PodDisruptionBudget,
  V1RoleBinding,
  V1Service,
} from '@kubernetes/client-node';
import { endpoints } from '../src/endpoints/table.js';
import { serveFlags } from '../src/config.js';
import { sidecarSpecWithDefaults, SIDECAR_DEFAULTS } from '../src/vineyard/sidecar-defaults.js';
import * as names from '../src/vineyard/names.js';
import * as operatorKinds from '../src/vineyard/operator-kinds.js';

/** The operator's other CR kinds and their plurals, as operator-kinds.ts pairs them. */
const OPERATOR_KINDS: Array<[string, string]> = Object.entries(operatorKinds)
  .filter(([k]) => k.endsWith('_KIND'))
  .map(([k, kind]) => [kind, (operatorKinds as Record<string, string>)[k.replace(/_KIND$/, '_PLURAL')]!]);
import { kustomize, idOf, type KubeObject } from './helpers/kustomize.js';
import { schemaErrors } from './helpers/k8s-schema.js';
import { apiCalls, callKey, CLI_CALLS, scanSourceForApiCalls } from './helpers/api-calls.js';
import {
  applyStructuralDefaults,
  namespaceLabels,
  selectorMatches,
  type LabelSelector,
  type Schema,
} from './helpers/k8s-semantics.js';
import {
  all,
  containerPort,
  grantKey,
  grants,
  hookFor,
  namespaceOf,
  one,
  podSpec,
  serverConfig,
  webhookContainer,
  webhooks,
} from './helpers/deploy-objects.js';
import { h1, startTestServer } from './helpers/server.js';

const ROOT = new URL('../', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const DEPLOY = join(ROOT, 'deploy');
const CERT_MANAGER = join(DEPLOY, 'components/cert-manager');
const SIDECAR_CRD = join(DEPLOY, 'components/sidecar-crd');

const renders: Record<string, KubeObject[]> = {
  base: kustomize(DEPLOY),
  'with cert-manager': kustomize(DEPLOY, [CERT_MANAGER]),
  'with sidecar-crd': kustomize(DEPLOY, [SIDECAR_CRD]),
  'with cert-manager and sidecar-crd': kustomize(DEPLOY, [CERT_MANAGER, SIDECAR_CRD]),
};
const base = renders.base!;
const withCertManager = renders['with cert-manager']!;

t.test('every manifest is a valid Kubernetes object of its kind', async t => {
  for (const [name, objs] of Object.entries(renders)) {
    t.test(name, async t => {
      for (const o of objs) t.same(await schemaErrors(o), [], idOf(o));
    });
  }
});

t.test('the schema check catches what kubectl would reject', async t => {
  const d = structuredClone(one<KubeObject>(base, 'Deployment')) as unknown as V1Deployment;
  const c = webhookContainer(d) as unknown as Record<string, unknown>;
  c.readinesProbe = c.readinessProbe;
  t.match(await schemaErrors(d as unknown as KubeObject), [/readinesProbe: unknown field/], 'a misspelt field');
  const d2 = structuredClone(one<KubeObject>(base, 'Deployment')) as unknown as V1Deployment;
  webhookContainer(d2).ports![0]!.containerPort = '9443' as unknown as number;
  t.match(await schemaErrors(d2 as unknown as KubeObject), [/containerPort must be integer/], 'a wrong type');
  const m = structuredClone(
    one<KubeObject>(base, 'MutatingWebhookConfiguration'),
  ) as unknown as V1MutatingWebhookConfiguration;
  m.webhooks![0]!.sideEffects = 'Sometimes';
  t.match(
    await schemaErrors(m as unknown as KubeObject),
    [/sideEffects must be equal to one of the allowed values/],
    'an enum',
  );
});

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

t.test(
  'the test renderer agrees with kubectl kustomize',
  { skip: hasKubectl ? false : 'kubectl is not installed' },
  async t => {
    const sorted = (objs: KubeObject[]) =>
      [...objs].sort((a, b) => `${a.apiVersion} ${idOf(a)}`.localeCompare(`${b.apiVersion} ${idOf(b)}`));
    const overlay = mkdtempSync(join(tmpdir(), 'vw-overlay-'));
    t.teardown(() => rmSync(overlay, { recursive: true, force: true }));
    const cases: Array<[string, string, string[]]> = [
      ['base', DEPLOY, []],
      ['with both components', join(overlay, 'both'), [CERT_MANAGER, SIDECAR_CRD]],
    ];
    // Components are used from an overlay outside deploy/, as docs/install.md says.
    mkdirSync(join(overlay, 'both'));
    writeFileSync(
      join(overlay, 'both', 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [relative(join(overlay, 'both'), DEPLOY)],
        components: [CERT_MANAGER, SIDECAR_CRD].map(c => relative(join(overlay, 'both'), c)),
      }),
    );
    for (const [name, dir, components] of cases) {
      const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      t.equal(out.status, 0, `${name}: kubectl kustomize succeeds`, { stderr: out.stderr });
      const real = parseAllDocuments(out.stdout).map(d => d.toJSON() as KubeObject);
      t.same(sorted(kustomize(DEPLOY, components)), sorted(real), name);
    }
  },
);

t.test('one namespace, the one the webhooks skip', async t => {
  for (const [name, objs] of Object.entries(renders)) {
    const ns = namespaceOf(objs);
    const clusterScoped = new Set([
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
      'CustomResourceDefinition',
    ]);
    for (const o of objs) {
      if (clusterScoped.has(o.kind)) t.equal(o.metadata.namespace, undefined, `${name}: ${idOf(o)} is cluster-scoped`);
      else t.equal(o.metadata.namespace, ns, `${name}: ${idOf(o)} is in ${ns}`);
    }
    for (const b of [
      ...all<V1RoleBinding>(objs, 'RoleBinding'),
      ...all<V1ClusterRoleBinding>(objs, 'ClusterRoleBinding'),
    ]) {
      t.same(
        b.subjects,
        [{ kind: 'ServiceAccount', name: podSpec(one(objs, 'Deployment')).serviceAccountName, namespace: ns }],
        `${name}: ${b.metadata!.name} binds the server's service account`,
      );
    }
    for (const { hook } of webhooks(objs))
      t.equal(hook.clientConfig.service?.namespace, ns, `${name}: ${hook.name} calls into ${ns}`);
    t.equal(serverConfig(objs).namespace, ns, `${name}: --namespace comes from the downward API`);
  }
  t.equal(namespaceOf(base), names.DEFAULT_VINEYARDD_NAMESPACE, 'vineyard-system, as the Vineyard operator');
});

t.test('the server flags name the objects deploy/ creates, with the CLI defaults', async t => {
  const cfg = serverConfig(base);
  const d = one<V1Deployment>(base, 'Deployment');
  const def = (flag: string) => serveFlags.find(f => f.name === flag)!.def;
  t.equal(webhookContainer(d).command, undefined, 'the image entrypoint (node dist/cli.js serve) runs');
  t.equal(webhookContainer(d).image, `vineyard-webhook:${version}`, 'the image of this release, never latest');
  t.equal(cfg.certMode, 'secret', 'certificates: CA in a Secret');
  t.equal(cfg.serviceName, one<V1Service>(base, 'Service').metadata!.name, '--service-name is the Service');
  t.equal(
    cfg.mutatingWebhookConfiguration,
    one<KubeObject>(base, 'MutatingWebhookConfiguration').metadata.name,
    '--mutating-webhook-configuration',
  );
  t.equal(
    cfg.validatingWebhookConfiguration,
    one<KubeObject>(base, 'ValidatingWebhookConfiguration').metadata.name,
    '--validating-webhook-configuration',
  );
  t.equal(cfg.port, containerPort(d, 'https'), '--port is the container port');
  t.equal(cfg.port, 9443);
  t.equal(cfg.metricsPort, containerPort(d, 'metrics'), '--metrics-port is the metrics container port');
  for (const [flag, value] of [
    ['service-name', cfg.serviceName],
    ['secret-name', cfg.secretName],
    ['mutating-webhook-configuration', cfg.mutatingWebhookConfiguration],
    ['validating-webhook-configuration', cfg.validatingWebhookConfiguration],
    ['port', String(cfg.port)],
    ['metrics-port', String(cfg.metricsPort)],
  ] as const) {
    t.equal(value, def(flag), `--${flag} is the CLI default`);
  }
});

t.test('the Deployment: two spread, hardened, probed replicas that drain before they stop', async t => {
  const d = one<V1Deployment>(base, 'Deployment');
  const pod = podSpec(d);
  const c = webhookContainer(d);
  const podLabels = d.spec!.template.metadata!.labels!;
  t.equal(d.spec!.replicas, 2);
  t.ok(selectorMatches(d.spec!.selector as LabelSelector, podLabels), 'the selector selects its pods');
  t.equal(
    d.spec!.strategy?.rollingUpdate?.maxUnavailable,
    0,
    'a rollout keeps every replica until its successor is ready',
  );

  const spread = pod.topologySpreadConstraints?.find(s => s.topologyKey === 'kubernetes.io/hostname');
  t.ok(spread, 'spread across nodes');
  t.equal(spread?.maxSkew, 1);
  t.ok(selectorMatches(spread?.labelSelector as LabelSelector, podLabels), 'the spread counts these pods');

  for (const [probe, path] of [
    ['startupProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
    ['livenessProbe', '/healthz'],
  ] as const) {
    const get = c[probe]?.httpGet;
    t.equal(get?.path, path, `${probe} path`);
    t.equal(get?.scheme, 'HTTP', `${probe} over plain HTTP, on the metrics port`);
    t.equal(
      containerPort(d, get!.port as string | number),
      serverConfig(base).metricsPort,
      `${probe} port is --metrics-port`,
    );
  }

  t.equal(pod.securityContext?.runAsNonRoot, true, 'runAsNonRoot');
  t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', 'seccomp RuntimeDefault');
  t.equal(c.securityContext?.allowPrivilegeEscalation, false, 'no privilege escalation');
  t.equal(c.securityContext?.readOnlyRootFilesystem, true, 'read-only root filesystem');
  t.same(c.securityContext?.capabilities, { drop: ['ALL'] }, 'every capability dropped, none added');
  t.not(c.securityContext?.privileged, true);
  for (const m of c.volumeMounts ?? []) {
    const v = pod.volumes?.find(x => x.name === m.name);
    t.ok(v, `volume ${m.name} exists`);
    if (!m.readOnly) t.ok(v?.emptyDir, `${m.mountPath}, the only writable places are emptyDirs`);
  }

  t.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'cpu and memory requests');
  t.ok(c.resources?.limits?.memory, 'a memory limit');

  const preStop = c.lifecycle?.preStop;
  t.ok(preStop?.sleep?.seconds, 'a preStop pause, with no shell in the image: the kubelet sleeps');
  t.equal(preStop?.exec, undefined, 'no exec: nothing to run inside the image');
  const cfg = serverConfig(base);
  const timeouts = webhooks(base).map(w => w.hook.timeoutSeconds!);
  const needed = preStop!.sleep!.seconds + cfg.shutdownTimeoutMs / 1000 + Math.max(...timeouts);
  t.ok(
    pod.terminationGracePeriodSeconds! > needed,
    `grace period ${pod.terminationGracePeriodSeconds}s > preStop + --shutdown-timeout + webhook timeout = ${needed}s`,
  );
});

t.test('NODE_OPTIONS: node accepts it, and the young generation it sizes fits the memory limit', async t => {
  const c = webhookContainer(one<V1Deployment>(base, 'Deployment'));
  const nodeOptions = c.env?.find(e => e.name === 'NODE_OPTIONS')?.value;
  t.ok(nodeOptions, 'NODE_OPTIONS is set (npm run bench reads it too)');
  // Node refuses most V8 flags in NODE_OPTIONS (--no-maglev, for one) and exits 9 at start.
  const env = { ...process.env, NODE_OPTIONS: nodeOptions };
  const r = spawnSync(
    process.execPath,
    ['-e', 'process.stdout.write(String(require("node:v8").getHeapStatistics().heap_size_limit))'],
    { encoding: 'utf8', env },
  );
  t.equal(r.status, 0, `node starts with NODE_OPTIONS=${JSON.stringify(nodeOptions)}: ${r.stderr}`);

  const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(nodeOptions ?? '')?.[1]);
  const semiMb = flag('max-semi-space-size');
  t.ok(semiMb > 0, 'the semi-space size is given');
  t.notMatch(
    nodeOptions,
    /--max-old-space-size/,
    'no old-space cap: V8 sizes it from the memory limit, and a tight cap costs latency',
  );
  const limit = /^(\d+)Mi$/.exec(String(c.resources?.limits?.memory ?? ''));
  t.ok(limit, 'the memory limit is in Mi');
  // V8 sizes its heap from the cgroup limit it runs under, so only the young
  // generation (up to three semi-spaces) is fixed here: it must leave most of
  // the limit to the old space and what lies outside the heap (~70 MB).
  t.ok(
    3 * semiMb + 70 < Number(limit?.[1]) / 2,
    `young ${3 * semiMb} + 70 MB outside the heap leave most of the ${limit?.[1]}Mi limit`,
  );
});

t.test('the PodDisruptionBudget keeps one replica through drains', async t => {
  const d = one<V1Deployment>(base, 'Deployment');
  const pdb = one<V1PodDisruptionBudget>(base, 'PodDisruptionBudget');
  t.ok(
    selectorMatches(pdb.spec!.selector as LabelSelector, d.spec!.template.metadata!.labels!),
    'selects the webhook pods',
  );
  t.equal(pdb.spec!.minAvailable, 1);
  t.ok((pdb.spec!.minAvailable as number) < d.spec!.replicas!, 'a drain can still evict one replica');
});

t.test('the Service sends 443 to the server port', async t => {
  const d = one<V1Deployment>(base, 'Deployment');
  const svc = one<V1Service>(base, 'Service');
  t.ok(
    selectorMatches({ matchLabels: svc.spec!.selector! }, d.spec!.template.metadata!.labels!),
    'selects the webhook pods',
  );
  t.same(
    svc.spec!.ports!.map(p => p.name),
    ['https', 'metrics'],
    'the webhook port, and plain-HTTP metrics for a ServiceMonitor',
  );
  const port = svc.spec!.ports![0]!;
  t.equal(port.port, 443);
  t.equal(containerPort(d, port.targetPort as string | number), 9443, 'target port');
  const metrics = svc.spec!.ports![1]!;
  t.equal(
    containerPort(d, metrics.targetPort as string | number),
    serverConfig(base).metricsPort,
    'the metrics port is --metrics-port',
  );
  for (const { hook } of webhooks(base)) {
    t.equal(hook.clientConfig.service?.name, svc.metadata!.name, `${hook.name} calls the Service`);
    t.equal(hook.clientConfig.service?.port, port.port, `${hook.name} calls port ${port.port}`);
  }
});

const PLACEMENT_WEBHOOK = 'placement.vineyard-webhook.v6d.io';
const PLACEMENT_PATH = '/mutate-v1-pod-scheduling';

t.test('webhook paths and server routes are the same set', async t => {
  const hooks = webhooks(base);
  const paths = hooks.map(h => h.hook.clientConfig.service!.path!);
  t.same(
    [...new Set(paths)].sort(),
    endpoints.map(e => e.path).sort(),
    'every route is used by a webhook, every webhook path is a route',
  );
  t.same(
    paths.filter((p, i) => paths.indexOf(p) !== i),
    [PLACEMENT_PATH],
    'one webhook per route, but the scheduling path, which also takes workflow pods',
  );
  for (const { config, hook } of hooks) {
    const e = endpoints.find(x => x.path === hook.clientConfig.service!.path);
    if (!e) {
      t.fail(`${hook.name}: ${hook.clientConfig.service!.path} is no server route`);
      continue;
    }
    t.equal(
      config,
      e.mutating ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration',
      `${e.path} is registered as ${e.mutating ? 'mutating' : 'validating'}`,
    );
    // The second webhook of the scheduling path is named after what it selects (the operator's placement selector).
    const expectedName = hook.name === PLACEMENT_WEBHOOK ? PLACEMENT_WEBHOOK : `${e.name}.vineyard-webhook.v6d.io`;
    t.equal(hook.name, expectedName, 'named after the endpoint, as its logs and metrics are');
    if (hook.name === PLACEMENT_WEBHOOK) t.equal(e.path, PLACEMENT_PATH);
    t.equal(hook.clientConfig.url, undefined, `${hook.name} goes through the Service`);
  }
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  for (const e of endpoints)
    t.ok(srv.app.fastify.hasRoute({ method: 'POST', url: e.path }), `the server routes POST ${e.path}`);
  for (const path of ['/healthz', '/readyz'])
    t.equal((await h1(srv, 'GET', path)).status, 200, `the probe path ${path} answers over HTTPS`);
});

t.test('webhook rules, policies and versions', async t => {
  const plural: Record<string, [string, string]> = {
    Pod: ['v1', 'pods'],
    [names.SIDECAR_KIND]: [names.VINEYARD_VERSION, names.SIDECAR_PLURAL],
    [names.VINEYARDD_KIND]: [names.VINEYARD_VERSION, names.VINEYARDD_PLURAL],
    ...Object.fromEntries(OPERATOR_KINDS.map(([kind, p]) => [kind, [names.VINEYARD_VERSION, p]])),
  };
  const clusterScoped = new Set([operatorKinds.CSIDRIVER_KIND]);
  const writes = new Set(['sidecar', 'operation', 'scheduling']); // create/update Sidecar CRs; label pods; job ConfigMaps
  for (const { hook } of webhooks(base)) {
    const e = endpoints.find(x => x.path === hook.clientConfig.service!.path);
    if (!e) {
      t.fail(`${hook.name}: ${hook.clientConfig.service!.path} is no server route`);
      continue;
    }
    const [version, resource] = plural[e.expects.kind]!;
    const scope = clusterScoped.has(e.expects.kind) ? 'Cluster' : 'Namespaced';
    t.same(
      hook.rules,
      [
        {
          apiGroups: [e.expects.group],
          apiVersions: [version],
          resources: [resource],
          operations: [...e.operations],
          scope,
        },
      ],
      `${hook.name}: rules follow the endpoint table`,
    );
    t.same(
      hook.rules![0]!.operations,
      e.expects.kind === 'Pod' ? ['CREATE'] : ['CREATE', 'UPDATE'],
      `${hook.name}: operations`,
    );
    t.equal(hook.sideEffects, writes.has(e.name) ? 'NoneOnDryRun' : 'None', `${hook.name}: sideEffects`);
    t.equal(hook.failurePolicy, 'Fail', `${hook.name}: failurePolicy`);
    t.equal(hook.timeoutSeconds, 10, `${hook.name}: timeoutSeconds`);
    t.same(hook.admissionReviewVersions, ['v1', 'v1beta1'], `${hook.name}: review versions`);
    t.equal(hook.clientConfig.caBundle, undefined, `${hook.name}: caBundle left to the bootstrapper`);
    if (e.mutating && e.expects.kind === 'Pod')
      t.equal(hook.reinvocationPolicy, 'IfNeeded', `${hook.name}: reinvoked after later mutations`);
  }
});

t.test('which pods and Sidecars reach each webhook', async t => {
  const ns = namespaceOf(base);
  const userNs = (labels: Record<string, string> = {}) => namespaceLabels('vineyard-job', labels);
  const sidecarNs = { [names.SIDECAR_NAMESPACE_LABEL]: names.NAMESPACE_LABEL_ENABLED };
  const operationNs = { [names.OPERATION_NAMESPACE_LABEL]: names.NAMESPACE_LABEL_ENABLED };
  const sidecarPod = { [names.SIDECAR_ENABLED_LABEL]: 'true' };
  const schedulingPod = { [names.VINEYARDD_LABEL]: 'vineyardd-sample' };
  const reaches = (endpointName: string, nsLabels: Record<string, string>, objLabels: Record<string, string>) => {
    const h = hookFor(base, endpointName);
    return (
      selectorMatches(h.namespaceSelector as LabelSelector, nsLabels) &&
      selectorMatches(h.objectSelector as LabelSelector, objLabels)
    );
  };
  const cases: Array<[string, Record<string, string>, Record<string, string>, boolean, string]> = [
    ['sidecar', userNs(sidecarNs), sidecarPod, true, 'labelled pod in a labelled namespace'],
    ['sidecar', userNs(), sidecarPod, false, 'namespace without sidecar-injection=enabled'],
    [
      'sidecar',
      userNs({ [names.SIDECAR_NAMESPACE_LABEL]: 'disabled' }),
      sidecarPod,
      false,
      'sidecar-injection=disabled',
    ],
    ['sidecar', userNs(sidecarNs), {}, false, 'pod without sidecar.v6d.io/enabled'],
    ['sidecar', userNs(sidecarNs), { [names.SIDECAR_ENABLED_LABEL]: 'false' }, false, 'sidecar.v6d.io/enabled=false'],
    ['sidecar', namespaceLabels(ns, sidecarNs), sidecarPod, false, "the server's own namespace, even labelled"],
    ['sidecar', namespaceLabels('kube-system', sidecarNs), sidecarPod, false, 'kube-system, even labelled'],
    ['operation', userNs(operationNs), {}, true, 'any pod in a labelled namespace'],
    [
      'operation',
      userNs(),
      { [names.ASSEMBLY_ENABLED_LABEL]: 'true' },
      false,
      'namespace without operation-injection=enabled',
    ],
    ['operation', userNs(sidecarNs), {}, false, 'the sidecar label does not enable operations'],
    ['operation', namespaceLabels(ns, operationNs), {}, false, "the server's own namespace, even labelled"],
    ['operation', namespaceLabels('kube-system', operationNs), {}, false, 'kube-system, even labelled'],
    ['scheduling', userNs(), schedulingPod, true, 'a pod naming its vineyardd, in any namespace'],
    ['scheduling', userNs(), { [names.VINEYARDD_LABEL]: '' }, true, 'the label exists, whatever its value'],
    ['scheduling', userNs(), { [names.JOB_LABEL]: 'job1' }, false, 'a pod without the vineyardd label'],
    ['scheduling', namespaceLabels(ns), schedulingPod, false, "the server's own namespace"],
    ['scheduling', namespaceLabels('kube-system'), schedulingPod, false, 'kube-system'],
    [
      'fluid',
      userNs(),
      { [names.FLUID_INJECT_LABEL]: 'true' },
      true,
      'a pod asking for Fluid discovery, in any namespace',
    ],
    ['fluid', userNs(), { [names.FLUID_INJECT_LABEL]: 'false' }, false, 'fuse.vineyard.fluid.io/inject=false'],
    [
      'fluid',
      userNs(),
      { [names.FLUID_SERVERFUL_INJECT_LABEL]: 'true' },
      false,
      "a pod labelled for Fluid's own webhook only",
    ],
    ['fluid', namespaceLabels(ns), { [names.FLUID_INJECT_LABEL]: 'true' }, false, "the server's own namespace"],
    ['fluid', namespaceLabels('kube-system'), { [names.FLUID_INJECT_LABEL]: 'true' }, false, 'kube-system'],
    ['sidecar-default', namespaceLabels(ns), {}, true, 'every Sidecar, wherever it is'],
    ['sidecar-validate', userNs(), {}, true, 'every Sidecar, wherever it is'],
    ...['vineyardd', 'operation', 'backup', 'recover', 'globalobject', 'localobject']
      .flatMap(k => [`${k}-default`, `${k}-validate`])
      .concat('csidriver-validate')
      .map((e): [string, Record<string, string>, Record<string, string>, boolean, string] => [
        e,
        namespaceLabels(ns),
        {},
        true,
        "every object of its kind, the operator's namespace included",
      ]),
  ];
  for (const [endpointName, nsLabels, objLabels, expected, why] of cases) {
    t.equal(reaches(endpointName, nsLabels, objLabels), expected, `${endpointName}: ${why}`);
  }
  const serverPod = one<V1Deployment>(base, 'Deployment').spec!.template.metadata!.labels!;
  for (const { hook } of webhooks(base)) {
    if (hook.rules![0]!.resources![0] !== 'pods') continue;
    for (const labels of [{}, sidecarNs, operationNs, { ...sidecarNs, ...operationNs }]) {
      const objLabels = { ...serverPod, ...sidecarPod, ...schedulingPod, [names.FLUID_INJECT_LABEL]: 'true' };
      t.notOk(
        selectorMatches(hook.namespaceSelector as LabelSelector, namespaceLabels(ns, labels)) &&
          selectorMatches(hook.objectSelector as LabelSelector, objLabels),
        `${hook.name} never sees the server's own pods, whatever labels its namespace gets`,
      );
    }
  }
});

t.test('RBAC grants exactly the API calls the server makes', async t => {
  for (const [name, objs] of Object.entries(renders)) {
    const cfg = serverConfig(objs);
    const expected = apiCalls(cfg.certMode!, cfg).map(grantKey).sort();
    const got = grants(objs);
    t.same(got, expected, `${name} (--cert-mode ${cfg.certMode})`);
    t.notOk(
      got.some(g => g.includes('*')),
      `${name}: no wildcards`,
    );
  }
});

t.test("the API call list is the code's: every call in src/ is listed, every listed call is in src/", async t => {
  const found = scanSourceForApiCalls(join(ROOT, 'src'));
  const errors = found.filter(f => f.error);
  t.same(
    errors.map(f => `${f.at}: ${f.error}`),
    [],
    'every client-node call can be told',
  );
  // The CLI's own calls are listed too, but apart: the server's RBAC grants none of them.
  const listed = new Set(
    [
      ...apiCalls('secret', {
        secretName: 'x',
        mutatingWebhookConfiguration: 'x',
        validatingWebhookConfiguration: 'x',
      }),
      ...CLI_CALLS,
    ].map(callKey),
  );
  const made = new Set(found.flatMap(f => f.calls.map(callKey)));
  for (const f of found)
    for (const c of f.calls)
      t.ok(listed.has(callKey(c)), `${f.at} ${f.method}: ${callKey(c)} is listed in test/helpers/api-calls.ts`);
  for (const c of listed) t.ok(made.has(c), `${c} is made by src/`);
});

t.test('the source scanner finds calls, including ones that bypass the seams', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-scan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'a.ts'),
    [
      "import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';",
      "import { SIDECAR_PLURAL, VINEYARD_GROUP } from '../vineyard/names.js';",
      'await core.deleteNamespacedPod({ namespace, name });',
      'await core.patchNamespacedPodStatus({ namespace, name, body });',
      "await custom.listClusterCustomObject({ group: VINEYARD_GROUP, version: 'v1alpha1', plural: SIDECAR_PLURAL });",
      'const o = KubernetesObjectApi.makeApiClient(kc);',
    ].join('\n'),
  );
  const found = scanSourceForApiCalls(dir);
  t.same(found.flatMap(f => f.calls.map(callKey)).sort(), [
    'delete core/pods',
    `list ${names.VINEYARD_GROUP}/${names.SIDECAR_PLURAL}`,
    'patch core/pods/status',
  ]);
  t.match(
    found.filter(f => f.error).map(f => f.error),
    [/KubernetesObjectApi hides which resources/],
  );
});

t.test('cert-manager component: files mode with a cert-manager certificate', async t => {
  const objs = withCertManager;
  const ns = namespaceOf(objs);
  const cfg = serverConfig(objs);
  const d = one<V1Deployment>(objs, 'Deployment');
  const svc = one<V1Service>(objs, 'Service').metadata!.name!;
  t.equal(cfg.certMode, 'files', '--cert-mode files');

  const certs = all<KubeObject & { spec: Record<string, any> }>(objs, 'Certificate');
  const issuers = all<KubeObject & { spec: Record<string, any> }>(objs, 'Issuer');
  const annotation = (kind: string) =>
    one<KubeObject>(objs, kind).metadata.annotations?.['cert-manager.io/inject-ca-from'];
  const [injectNs, injectName] = (annotation('MutatingWebhookConfiguration') ?? '/').split('/');
  t.equal(
    annotation('ValidatingWebhookConfiguration'),
    annotation('MutatingWebhookConfiguration'),
    'both configurations get the same CA',
  );
  t.equal(injectNs, ns);
  const serving = certs.find(c => c.metadata.name === injectName);
  t.ok(serving, 'inject-ca-from names the serving Certificate');
  t.same(
    serving!.spec.dnsNames,
    [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`],
    'SANs are the Service DNS names',
  );
  t.ok(serving!.spec.usages.includes('server auth'), 'serverAuth EKU');

  // The serving certificate is signed by a CA issuer, whose CA comes from a self-signed issuer.
  const caIssuer = issuers.find(i => i.metadata.name === serving!.spec.issuerRef.name);
  t.ok(caIssuer?.spec.ca, 'the serving certificate comes from a CA issuer');
  const caCert = certs.find(c => c.spec.secretName === caIssuer?.spec.ca.secretName);
  t.equal(caCert?.spec.isCA, true, 'whose CA is a cert-manager CA certificate');
  t.ok(
    issuers.find(i => i.metadata.name === caCert?.spec.issuerRef.name)?.spec.selfSigned,
    'issued by a self-signed issuer',
  );

  const volume = podSpec(d).volumes?.find(v => v.secret?.secretName === serving!.spec.secretName);
  t.ok(volume, 'the serving certificate Secret is a volume');
  const mount = webhookContainer(d).volumeMounts?.find(m => m.name === volume?.name);
  t.equal(mount?.mountPath, cfg.certDir, '--cert-dir is where it is mounted');
  t.equal(mount?.readOnly, true, 'read-only');
  t.equal(
    mount?.subPath,
    undefined,
    'no subPath: the kubelet updates a whole-volume mount on renewal, and the server reloads',
  );

  t.equal(
    one<KubeObject>(base, 'MutatingWebhookConfiguration').metadata.annotations,
    undefined,
    'the base has no cert-manager annotation',
  );
  t.throws(
    () => kustomize(DEPLOY, [CERT_MANAGER, CERT_MANAGER]),
    'applying the component twice fails its JSON-patch test',
  );
});

// Spec §2, every field of a Sidecar's spec.
const SIDECAR_FIELDS = [
  'replicas',
  'selector',
  'etcdReplicas',
  'securityContext',
  'volumes',
  'volumeMounts',
  'vineyard.image',
  'vineyard.imagePullPolicy',
  'vineyard.syncCRDs',
  'vineyard.socket',
  'vineyard.size',
  'vineyard.reserveMemory',
  'vineyard.streamThreshold',
  'vineyard.env',
  'vineyard.memory',
  'vineyard.cpu',
  'vineyard.spill.name',
  'vineyard.spill.path',
  'vineyard.spill.spillLowerRate',
  'vineyard.spill.spillUpperRate',
  'vineyard.spill.persistentVolumeSpec',
  'vineyard.spill.persistentVolumeClaimSpec',
  'metric.enable',
  'metric.image',
  'metric.imagePullPolicy',
  'volume.pvcName',
  'volume.mountPath',
  'service.type',
  'service.port',
];

t.test('sidecar-crd component: the Sidecar CRD', async t => {
  const crd = one<V1CustomResourceDefinition>(renders['with sidecar-crd']!, 'CustomResourceDefinition');
  t.equal(crd.spec.group, names.VINEYARD_GROUP);
  t.equal(crd.spec.names.kind, names.SIDECAR_KIND);
  t.equal(crd.spec.names.plural, names.SIDECAR_PLURAL);
  t.equal(crd.metadata!.name, `${names.SIDECAR_PLURAL}.${names.VINEYARD_GROUP}`);
  t.equal(crd.spec.scope, 'Namespaced');
  t.same(
    crd.spec.versions.map(v => [v.name, v.served, v.storage]),
    [[names.VINEYARD_VERSION, true, true]],
  );
  const root = crd.spec.versions[0]!.schema!.openAPIV3Schema as Schema;
  const specSchema = root.properties!.spec!;

  const at = (path: string) => path.split('.').reduce<Schema | undefined>((s, p) => s?.properties?.[p], specSchema);
  for (const f of SIDECAR_FIELDS) t.ok(at(f), `spec.${f} is in the schema`);

  // Structural: every node typed; every default of its node's type.
  const problems: string[] = [];
  const walk = (s: Schema, path: string) => {
    if (!s.type && !s['x-kubernetes-int-or-string']) problems.push(`${path}: no type`);
    if (s.default !== undefined) {
      const type = Array.isArray(s.default) ? 'array' : Number.isInteger(s.default) ? 'integer' : typeof s.default;
      if (type !== s.type) problems.push(`${path}: default ${JSON.stringify(s.default)} is not a ${s.type}`);
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
    if (s.items) walk(s.items, `${path}[]`);
  };
  walk(root, '');
  t.same(problems, [], 'a structural schema');

  // What the API server defaults is what the defaulting webhook defaults,
  // except the socket, a template of the CR's namespace and name.
  const meta = { namespace: 'vineyard-job', name: 'sidecar-sample' };
  const withoutSocket = (spec: any) => {
    const s = structuredClone(spec);
    delete s.vineyard.socket;
    return s;
  };
  for (const spec of [
    {},
    { vineyard: { image: 'registry.local/vineyardd:v0.24.4', spill: { path: '/spill' } } },
    { metric: { enable: true }, service: { port: 9700 } },
  ]) {
    t.same(
      applyStructuralDefaults(spec, specSchema),
      withoutSocket(sidecarSpecWithDefaults({ metadata: meta, spec })),
      `CRD defaults of ${JSON.stringify(spec)} equal SIDECAR_DEFAULTS`,
    );
  }
  t.equal(at('vineyard.socket')?.default, undefined, 'no schema default for the templated socket');
  t.ok(
    SIDECAR_DEFAULTS.some(d => d.path.join('.') === 'vineyard.socket'),
    'while the webhook does default it',
  );

  const sidecarHooks = webhooks(base).filter(
    w =>
      w.hook.rules![0]!.apiGroups![0] === crd.spec.group && w.hook.rules![0]!.resources![0] === crd.spec.names.plural,
  );
  t.equal(sidecarHooks.length, 2, 'defaulting and validation');
  for (const { hook } of sidecarHooks) {
    t.same(
      [hook.rules![0]!.apiVersions, hook.rules![0]!.resources],
      [[crd.spec.versions[0]!.name], [crd.spec.names.plural]],
      `${hook.name} targets the CRD`,
    );
  }
});

// Every path of the Vineyard operator's own webhook configurations
// (config/webhook/manifests.yaml upstream), so they can point at this server.
const OPERATOR_PATHS = [
  '/mutate-v1-pod',
  '/mutate-v1-pod-scheduling',
  '/mutate-v1-pod-sidecar',
  ...['backup', 'globalobject', 'localobject', 'operation', 'recover', 'sidecar', 'vineyardd'].map(
    k => `/mutate-k8s-v6d-io-v1alpha1-${k}`,
  ),
  ...['backup', 'csidriver', 'globalobject', 'localobject', 'operation', 'recover', 'sidecar', 'vineyardd'].map(
    k => `/validate-k8s-v6d-io-v1alpha1-${k}`,
  ),
];

t.test(
  "the operator's whole webhook surface: every path it configures is a route, and deploy/ registers it",
  async t => {
    const registered = new Set(webhooks(base).map(w => w.hook.clientConfig.service!.path!));
    for (const path of OPERATOR_PATHS) {
      const e = endpoints.find(x => x.path === path);
      t.ok(e, `${path} is a route`);
      t.ok(registered.has(path), `${path} is registered in deploy/`);
      if (e)
        t.equal(
          e.mutating,
          path.startsWith('/mutate-'),
          `${path}: ${path.startsWith('/mutate-') ? 'mutating' : 'validating'}`,
        );
    }
  },
);

t.test("the CR webhooks target the operator's CRDs: group, version, plural and scope", async t => {
  const dir = join(ROOT, 'test/e2e/crds');
  const crds = readdirSync(dir)
    .filter(f => f.endsWith('.yaml'))
    .map(f => parse(readFileSync(join(dir, f), 'utf8')) as V1CustomResourceDefinition);
  t.ok(crds.length >= 7, 'found the operator CRDs');
  for (const crd of crds) {
    const hooks = webhooks(base).filter(
      w =>
        w.hook.rules![0]!.apiGroups![0] === crd.spec.group && w.hook.rules![0]!.resources![0] === crd.spec.names.plural,
    );
    t.ok(hooks.length >= 1, `${crd.spec.names.kind}: registered`);
    for (const { hook } of hooks) {
      const e = endpoints.find(x => x.path === hook.clientConfig.service!.path)!;
      t.equal(e.expects.kind, crd.spec.names.kind, `${hook.name}: admits ${crd.spec.names.kind}`);
      t.same(
        hook.rules![0]!.apiVersions,
        crd.spec.versions.filter(v => v.served).map(v => v.name),
        `${hook.name}: the served versions`,
      );
      t.equal(hook.rules![0]!.scope, crd.spec.scope, `${hook.name}: scope ${crd.spec.scope}`);
      t.same(hook.namespaceSelector ?? {}, {}, `${hook.name}: every namespace, the operator's included`);
    }
  }
});
