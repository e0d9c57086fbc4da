// The bench's request mix: AdmissionReviews built from the test fixtures, with
// pods grown to the sizes kube-apiserver really sends (~3, ~10 and ~50 KB:
// several containers, env, volumes, the service account volume the
// ServiceAccount admission plugin adds, default tolerations, managedFields),
// and what a correct answer to each looks like.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test/fixtures');

const fixture = (endpoint, name) => parse(readFileSync(join(FIXTURES, endpoint, name, 'request.yaml'), 'utf8'));
const fixtureOutput = (endpoint, name) => parse(readFileSync(join(FIXTURES, endpoint, name, 'expected.yaml'), 'utf8'));

/** Resource manifests the scenarios need in the in-memory store (the sample CR of `npm start` plus the fixtures'). */
const RESOURCE_FILES = [
  ...readdirSync(join(FIXTURES, 'resources'))
    .filter(f => /\.ya?ml$/.test(f))
    .map(f => join(FIXTURES, 'resources', f)),
  join(FIXTURES, 'scheduling/vineyardd-cr-socket/resources.yaml'),
  join(FIXTURES, 'operation/seed-assembly-job2/resources.yaml'),
];

/** Writes the store's seed into `dir` (one file per source, so a bad one is easy to find). */
export function writeResources(dir) {
  mkdirSync(dir, { recursive: true });
  RESOURCE_FILES.forEach((file, i) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'))
      .map(d => d.toJSON())
      .filter(Boolean);
    writeFileSync(
      join(dir, `${String(i).padStart(2, '0')}.yaml`),
      docs.map(d => JSON.stringify(d)).join('\n---\n') + '\n',
    );
  });
  return dir;
}

// ---------------------------------------------------------------------------
// Growing a pod to a realistic size.

const TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

const saVolume = suffix => ({
  name: `kube-api-access-${suffix}`,
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
});

/** What the API server's defaulting and a typical chart add to every container. */
function fleshOut(container, i, envCount, volumes, light) {
  const c = structuredClone(container);
  c.imagePullPolicy ??= 'IfNotPresent';
  c.env = [...(c.env ?? [])];
  for (let k = 0; k < envCount; k++) {
    c.env.push(
      k % 5 === 4
        ? { name: `SECRET_${i}_${k}`, valueFrom: { secretKeyRef: { name: `app-secrets-${i}`, key: `key-${k}` } } }
        : { name: `FEATURE_${i}_${k}_SETTING`, value: `value-${i}-${k}-${'x'.repeat(12 + (k % 7) * 3)}` },
    );
  }
  c.volumeMounts = [
    ...(c.volumeMounts ?? []),
    ...volumes.map(v => ({ name: v.name, mountPath: v.mountPath, ...(v.readOnly ? { readOnly: true } : {}) })),
  ];
  c.terminationMessagePath = '/dev/termination-log';
  c.terminationMessagePolicy = 'File';
  if (light) return c;
  c.ports = [{ name: `http-${i}`, containerPort: 8080 + i, protocol: 'TCP' }];
  c.resources = { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } };
  c.readinessProbe = {
    httpGet: { path: '/ready', port: 8080 + i, scheme: 'HTTP' },
    initialDelaySeconds: 5,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
  };
  c.livenessProbe = {
    httpGet: { path: '/live', port: 8080 + i, scheme: 'HTTP' },
    periodSeconds: 20,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
  };
  c.securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
  return c;
}

/** fieldsV1 as the field manager writes it: every field set, list items keyed by name. */
function fieldsOf(value) {
  if (Array.isArray(value)) {
    const out = {};
    for (const item of value) {
      if (item && typeof item === 'object' && typeof item.name === 'string')
        out[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, ...fieldsOf(item) };
      else out[`v:${JSON.stringify(item)}`] = {};
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = v && typeof v === 'object' ? fieldsOf(v) : {};
    return out;
  }
  return {};
}

/**
 * The pod `base` with `containers` app containers (added ones are copies of
 * the first, so scenario-specific env survives) and `envCount` env entries
 * per container, plus what the API server's admission chain has added by the
 * time a webhook sees it; `light` leaves out ports, probes and resources.
 */
function grownPod(base, { containers: total, light }, envCount) {
  const pod = structuredClone(base);
  pod.metadata ??= {};
  if (!light) {
    pod.metadata.labels = {
      ...(pod.metadata.labels ?? {}),
      'app.kubernetes.io/part-of': 'bench',
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': 'bench-1.2.3',
    };
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'checksum/config': 'a3f1c9e5b7d2e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcdef01',
    };
  }
  pod.metadata.ownerReferences ??= [
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: `${pod.metadata.labels.app ?? 'bench'}-55664458f8`,
      uid: '3c1e1a2b-6f1e-4a9a-9a57-0c2b8d1f4e11',
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const spec = pod.spec;
  const first = spec.containers[0];
  const volumes = light
    ? [{ name: 'kube-api-access-7xk2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]
    : [
        {
          name: 'config',
          mountPath: '/etc/app',
          readOnly: true,
          source: { configMap: { name: 'app-config', defaultMode: 420 } },
        },
        { name: 'cache', mountPath: '/cache', source: { emptyDir: { sizeLimit: '1Gi' } } },
        { name: 'kube-api-access-7xk2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ];
  const containers = [first, ...spec.containers.slice(1)];
  for (let i = 0; containers.length < total; i++)
    containers.push({ ...structuredClone(first), name: `${first.name}-helper-${i}` });
  spec.containers = containers.map((c, i) => fleshOut(c, i, envCount, volumes, light));
  spec.volumes = [
    ...(spec.volumes ?? []),
    ...volumes.filter(v => v.source).map(v => ({ name: v.name, ...v.source })),
    saVolume('7xk2p'),
  ];
  spec.tolerations = [...(spec.tolerations ?? []), ...TOLERATIONS];
  Object.assign(spec, {
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    restartPolicy: spec.restartPolicy ?? 'Always',
    schedulerName: spec.schedulerName ?? 'default-scheduler',
    securityContext: { runAsUser: 1000, fsGroup: 2000 },
    serviceAccount: 'default',
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
  });
  const { metadata: _m, ...rest } = pod;
  pod.metadata.managedFields = [
    {
      apiVersion: 'v1',
      fieldsType: 'FieldsV1',
      manager: 'kube-controller-manager',
      operation: 'Update',
      time: '2025-11-21T20:00:00Z',
      // A light pod's manager recorded only its metadata (the containers came from a plain `kubectl run`).
      fieldsV1: {
        'f:metadata': fieldsOf({
          labels: pod.metadata.labels,
          annotations: pod.metadata.annotations,
          ownerReferences: pod.metadata.ownerReferences,
        }),
        ...(light ? {} : fieldsOf({ spec: rest.spec })),
      },
    },
  ];
  return pod;
}

const SIZE_CLASSES = {
  '3k': { bytes: 3 * 1024, containers: 1, light: true },
  '10k': { bytes: 10 * 1024, containers: 2, light: false },
  '50k': { bytes: 50 * 1024, containers: 6, light: false },
};

/** The smallest env count that makes the review at least the size class's bytes. */
function podOfSize(base, size, wrap) {
  const cls = SIZE_CLASSES[size];
  for (let env = 0; env < 500; env++) {
    const pod = grownPod(base, cls, env);
    if (JSON.stringify(wrap(pod)).length >= cls.bytes) return pod;
  }
  throw new Error(`cannot grow the pod to ${size}`);
}

// ---------------------------------------------------------------------------
// Reviews and what answers to them must look like.

const UID_PLACEHOLDER = '00000000-0000-4000-8000-000000000000';

function review(group, kind, resource, namespace, object, operation = 'CREATE') {
  const version = group ? 'v1alpha1' : 'v1';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: UID_PLACEHOLDER,
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      operation,
      namespace,
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: '5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

const withAnnotation = (obj, key, value) => ({
  ...obj,
  metadata: { ...obj.metadata, annotations: { ...(obj.metadata?.annotations ?? {}), [key]: value } },
});
const withEnv = (pod, name, value) => ({
  ...pod,
  spec: {
    ...pod.spec,
    containers: pod.spec.containers.map((c, i) => (i === 0 ? { ...c, env: [...(c.env ?? []), { name, value }] } : c)),
  },
});

const podReview = namespace => pod => review('', 'Pod', 'pods', namespace, pod);
const sidecarReview = namespace => cr => review('k8s.v6d.io', 'Sidecar', 'sidecars', namespace, cr);

/**
 * Every scenario: endpoint path, the review (its uid replaced per request),
 * whether a correct answer patches, and the name of its VERIFY rule.
 */
function buildScenarios() {
  const out = [];
  const add = (name, description, path, make, size, patches, verify) => {
    const base = make.object;
    const object = size ? podOfSize(base, size, make.wrap) : base;
    out.push({ name, description, path, review: make.wrap(object), patches, verify });
  };
  const injectDefault = { object: fixture('sidecar', 'default-deployment').object, wrap: podReview('vineyard-job') };
  for (const size of ['3k', '10k', '50k']) {
    add(
      `inject-default-${size}`,
      `sidecar injection, default Sidecar CR (counted in the in-memory store), ~${size} pod`,
      '/mutate-v1-pod-sidecar',
      injectDefault,
      size,
      true,
      'injected',
    );
  }
  // Every review above is of the same pod, as in a scale-up (kube-apiserver sends a
  // ReplicaSet's pods identical but for request.uid). The headline is a different pod
  // each time (the request's uid also in an annotation and an env value), as most of
  // a cluster's traffic is: nothing one review computed can serve the next.
  add(
    'inject-distinct-10k',
    'sidecar injection, default Sidecar CR, ~10k pod, a different pod each time',
    '/mutate-v1-pod-sidecar',
    {
      object: withEnv(
        withAnnotation(injectDefault.object, 'bench.v6d.io/request', UID_PLACEHOLDER),
        'BENCH_REQUEST',
        UID_PLACEHOLDER,
      ),
      wrap: injectDefault.wrap,
    },
    '10k',
    true,
    'injected',
  );
  add(
    'inject-custom-10k',
    'sidecar injection, custom Sidecar CR sidecar-sample, ~10k pod',
    '/mutate-v1-pod-sidecar',
    { object: fixture('sidecar', 'custom-sidecar-sample').object, wrap: podReview('vineyard-job') },
    '10k',
    true,
    'injected',
  );
  add(
    'scheduling-10k',
    'scheduler defaulting + socket wiring from the Vineyardd CR, ~10k pod',
    '/mutate-v1-pod-scheduling',
    { object: fixture('scheduling', 'vineyardd-cr-socket').object, wrap: podReview('vineyard-job') },
    '10k',
    true,
    'scheduled',
  );
  add(
    'operation-10k',
    "assembly gating (required job's pods listed), POD_NAME/POD_NAMESPACE env, ~10k pod",
    '/mutate-v1-pod',
    { object: fixture('operation', 'seed-assembly-job2').object, wrap: podReview('vineyard-job') },
    '10k',
    true,
    'operation',
  );
  add(
    'no-change-10k',
    'operation endpoint, a pod that already has everything: no patch, ~10k pod',
    '/mutate-v1-pod',
    { object: fixtureOutput('operation', 'pod-env-only'), wrap: podReview('web') },
    '10k',
    false,
    undefined,
  );
  add(
    'cr-default',
    'Sidecar CR defaulting (seed 001 CR with volumes)',
    '/mutate-k8s-v6d-io-v1alpha1-sidecar',
    {
      object: fixture('sidecar-default', 'seed-sidecar-sample-with-volumes').object,
      wrap: sidecarReview('vineyard-job'),
    },
    undefined,
    true,
    'defaulted',
  );
  add(
    'cr-validate',
    'Sidecar CR validation of a valid CR (seed 001 CR with volumes)',
    '/validate-k8s-v6d-io-v1alpha1-sidecar',
    {
      object: fixture('sidecar-validate', 'seed-sidecar-sample-with-volumes').object,
      wrap: sidecarReview('vineyard-job'),
    },
    undefined,
    false,
    undefined,
  );
  for (const s of out) {
    const text = JSON.stringify(s.review);
    // The request's uid goes between the parts (more than two: the object carries it too).
    s.bodyParts = text.split(UID_PLACEHOLDER);
    s.bytes = Buffer.byteLength(text);
  }
  return out;
}

export const SCENARIOS = buildScenarios();
/** The headline: the targets are about a stream of different pods. */
export const TARGET_SCENARIO = 'inject-distinct-10k';
/** The same pod every time, shown beside the headline for comparison. */
export const SAME_POD_SCENARIO = 'inject-default-10k';
