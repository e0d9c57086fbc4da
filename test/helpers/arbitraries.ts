// fast-check generators of hostile but well-formed admission requests for
// every endpoint: pods with every command form, env with and without the
// socket variable, mounts at /var/run, duplicate names, keys such as
// __proto__ or a/b~c, unicode and 63/64-character names, Sidecar and
// Vineyardd CRs and the job pods the operation endpoint labels. Every value is
// sent through JSON (as it would be on the wire), so an own `__proto__` key
// is a plain property exactly as JSON.parse makes it.
import fc from 'fast-check';
import type { AdmissionRequest, JsonObject, Operation } from '../../src/admission/types.js';
import type { Endpoint, PipelineConfig } from '../../src/admission/endpoint.js';
import {
  APP_LABEL,
  ASSEMBLY_ENABLED_LABEL,
  ASSEMBLY_TYPE_LABEL,
  DASK_SCHEDULER_ANNOTATION,
  DASK_WORKER_SELECTOR_ANNOTATION,
  JOB_LABEL,
  JOB_NAME_ENV,
  LOG_DIR,
  LOG_VOLUME,
  METRICS_CONTAINER,
  NEED_INJECTED_ASSEMBLY_LABEL,
  OPERATION_LABELLED_ANNOTATION,
  POD_NAME_ENV,
  POD_NAMESPACE_ENV,
  POD_TEMPLATE_HASH_LABEL,
  REPARTITION_ENABLED_LABEL,
  REPARTITION_TYPE_LABEL,
  REQUIRED_ANNOTATION,
  REQUIRED_JOB_NAME_ENV,
  SIDECAR_CONTAINER,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_NAME_ANNOTATION,
  SIDECAR_NATIVE_ANNOTATION,
  SIDECAR_STATUS_ANNOTATION,
  SOCKET_ENV,
  SOCKET_VOLUME,
  VINEYARDD_LABEL,
  VINEYARDD_NAMESPACE_LABEL,
} from '../../src/vineyard/names.js';

/** Property runs per property: FUZZ_RUNS, default 2000. */
export const fuzzRuns = (): number => {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : 2000;
};

/** fast-check parameters shared by the fuzz tests; FUZZ_SEED replays a reported failure. */
export function fuzzParams<T>(): fc.Parameters<T> {
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns: fuzzRuns(), ...(Number.isInteger(seed) ? { seed } : {}) };
}

/** What every JSON value looks like after a trip over the wire. */
export const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export const NAMESPACE = 'default';

/** Keys that break naive code: prototype names, JSON Pointer escapes, unicode, 63/64-character names. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'a/b~c',
  '~0',
  '~1',
  '/',
  '-',
  '0',
  '',
  ' ',
  'App',
  'app.kubernetes.io/name',
  'example.com/a~b',
  'ключ',
  '名前',
  '😀',
  'e\u0301',
  'k'.repeat(63),
  'k'.repeat(64),
  `${'p'.repeat(253)}/n`,
];

export const HOSTILE_STRINGS = [
  '',
  ' ',
  'true',
  'TRUE',
  ' True ',
  'false',
  'default',
  'none',
  'None',
  'local',
  'distributed',
  'dask',
  '__proto__',
  'constructor',
  'prototype',
  'a/b~c',
  'ns/name',
  'a/b/c',
  '/',
  'x,y',
  'a=b',
  'job-a,job-b',
  ' job-a , none ,',
  'ünïcödé',
  '😀',
  '\u0000',
  'line\nbreak',
  "it's",
  '"quoted"',
  '$(touch /tmp/pwned)',
  '`id`',
  '{{.Namespace}}',
  '..',
  '../..',
  'v'.repeat(63),
  'v'.repeat(64),
  'w'.repeat(300),
];

const hostileKey = fc.constantFrom(...HOSTILE_KEYS);
const hostileString = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 1 },
);

/** Names of required jobs: valid ones, and ones that are no label value or no subdomain. */
export const jobName = fc.constantFrom(
  'job-a',
  'job-b',
  'producer',
  'a.b',
  'Bad_Job',
  '__proto__',
  'constructor',
  'j'.repeat(63),
  'j'.repeat(64),
);
const jobList = fc.oneof(
  fc.constantFrom('none', '', ' , ', 'job-a', 'job-a,job-b', 'job-a, job-a', 'job-a,none'),
  fc.array(jobName, { maxLength: 4 }).map(js => js.join(',')),
  hostileString,
);

/** Sidecar CR names that a pod's annotation may name; `sc` and `custom` are seeded, `missing` never. */
export const SIDECAR_NAMES = ['sc', 'custom', 'missing'];
/** Labels whose default Sidecar CR the store may hold already (`app=etl`). */
export const DEFAULT_SIDECAR_OF_ETL = 'app-etl-default-sidecar';

/** Present with the given chance, else undefined (which the trip through JSON drops). */
const present = <T>(arb: fc.Arbitrary<T>, percent: number) =>
  fc.oneof({ arbitrary: arb, weight: percent }, { arbitrary: fc.constant(undefined), weight: 100 - percent });
const sometimes = <T>(arb: fc.Arbitrary<T>) => present(arb, 50);
const often = <T>(arb: fc.Arbitrary<T>) => present(arb, 85);
const rarely = <T>(arb: fc.Arbitrary<T>) => present(arb, 10);

function optionalRecord<T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) {
  return fc.record(shape, { requiredKeys: [] });
}

/** Merges known keys over random hostile ones (in half of the maps), so both kinds meet in one map. */
const keyed = (known: fc.Arbitrary<Record<string, unknown>>, maxKeys = 3) =>
  fc
    .tuple(
      fc.option(fc.dictionary(hostileKey, hostileString, { maxKeys, noNullPrototype: true }), { nil: {}, freq: 2 }),
      known,
    )
    .map(([random, k]) => wire({ ...random, ...k }) as Record<string, string>);

export const podLabels = keyed(
  fc.record({
    [SIDECAR_ENABLED_LABEL]: present(
      fc.oneof(
        { arbitrary: fc.constantFrom('true', 'TRUE'), weight: 9 },
        { arbitrary: fc.constantFrom('false', ''), weight: 1 },
      ),
      95,
    ),
    [APP_LABEL]: often(fc.constantFrom('etl', 'etl', 'job-a', 'Web_Server', '-x-', 'etl,tier=web', 'a/b', '')),
    [POD_TEMPLATE_HASH_LABEL]: sometimes(fc.constantFrom('5f6c7d8e9')),
    [VINEYARDD_LABEL]: often(
      fc.constantFrom(
        'vineyardd-sample',
        'vineyardd-sample',
        'vineyard-system/vineyardd-sample',
        'v6d/vineyardd-b',
        '',
        'a/b/c',
        'Bad',
        '/x',
        '..',
      ),
    ),
    [VINEYARDD_NAMESPACE_LABEL]: sometimes(fc.constantFrom('vineyard-system', 'v6d', 'Bad_NS', '')),
    [JOB_LABEL]: sometimes(fc.oneof(jobName, hostileString)),
    [ASSEMBLY_ENABLED_LABEL]: sometimes(fc.constantFrom('true', 'True', 'false')),
    [ASSEMBLY_TYPE_LABEL]: often(fc.constantFrom('local', 'local', 'distributed', 'remote', '')),
    [REPARTITION_ENABLED_LABEL]: sometimes(fc.constantFrom('true', 'false')),
    [REPARTITION_TYPE_LABEL]: often(fc.constantFrom('dask', 'dask', 'spark')),
  }),
);

export const podAnnotations = keyed(
  fc.record({
    [SIDECAR_NAME_ANNOTATION]: often(
      fc.constantFrom(
        'default',
        'default',
        'default',
        ' default ',
        'sc',
        'sc',
        'custom',
        'missing',
        '',
        '__proto__',
        'Bad Name',
      ),
    ),
    [SIDECAR_NATIVE_ANNOTATION]: sometimes(fc.constantFrom('true', 'false', '', 'yes')),
    [SIDECAR_STATUS_ANNOTATION]: rarely(fc.constantFrom('{"sidecar":"sc","mode":"container"}', '')),
    [REQUIRED_ANNOTATION]: often(jobList),
    [DASK_SCHEDULER_ANNOTATION]: often(
      fc.constantFrom('tcp://dask-scheduler.default:8786', 'tcp://dask-scheduler.default:8786', ''),
    ),
    [DASK_WORKER_SELECTOR_ANNOTATION]: often(
      fc.constantFrom('app:dask,component:worker', 'app:dask,component:worker', ' '),
    ),
    [OPERATION_LABELLED_ANNOTATION]: rarely(fc.constantFrom('job-a', 'job-a,job-b', '')),
  }),
);

const WAIT = 'while [ ! -e /var/run/vineyard.sock ]; do sleep 1; done;';
const shell = fc.constantFrom('/bin/sh', 'sh', 'bash', '/usr/bin/bash', 'ash', 'zsh');
const dashC = fc.constantFrom('-c', '-ec', '-xc', '-e', '--', 'c');
const script = fc.oneof(
  fc.constantFrom('run', 'echo "$0" $1', `${WAIT}run`, `${WAIT}exec "$0" "$@"`, "it's $(x)", ''),
  hostileString,
);

/** Every form of command: none, empty, shell -c script, shell -c with args, other programs, already wrapped. */
export const command = fc.oneof(
  fc.constant(undefined),
  fc.constant([]),
  fc
    .tuple(shell, dashC, script, fc.array(hostileString, { maxLength: 2 }))
    .map(([s, c, x, rest]) => [s, c, x, ...rest]),
  fc.tuple(shell, dashC).map(([s, c]) => [s, c]),
  fc.constantFrom(['python3', '/job.py'], ['/bin/sh', '-c', `${WAIT}exec "$0" "$@"`, 'python3'], ['/entrypoint'], ['']),
  fc.array(hostileString, { minLength: 1, maxLength: 3 }),
);
const args = sometimes(fc.oneof(fc.array(script, { maxLength: 3 }), fc.constant([])));

const envName = fc.constantFrom(
  SOCKET_ENV,
  SOCKET_ENV,
  JOB_NAME_ENV,
  REQUIRED_JOB_NAME_ENV,
  POD_NAME_ENV,
  POD_NAMESPACE_ENV,
  'OTHER',
  '__proto__',
  '',
);
const envEntry = fc.oneof(
  fc.record(
    {
      name: envName,
      value: fc.oneof(fc.constantFrom('/var/run/vineyard.sock', '/tmp/v.sock', 'job-a', 'job-a,job-b'), hostileString),
    },
    { requiredKeys: ['name'] },
  ),
  fc.record({ name: envName, valueFrom: fc.constant({ fieldRef: { fieldPath: 'metadata.name' } }) }),
);

const VOLUME_NAMES = [SOCKET_VOLUME, LOG_VOLUME, 'run', 'data', 'sock', '__proto__', 'constructor'];
export const DEFAULT_SOCKET_DIR_OF_SAMPLE = '/var/run/vineyard-kubernetes/vineyard-system/vineyardd-sample';
const mountPath = fc.constantFrom('/var/run', '/var/run/', LOG_DIR, '/data', '/', '/var/run/vineyard.sock', '/dev');
const mount = fc.record({ name: fc.constantFrom(...VOLUME_NAMES), mountPath });

export const volume = fc.oneof(
  fc.record({ name: fc.constantFrom(...VOLUME_NAMES), emptyDir: fc.constant({}) }),
  fc.record({
    name: fc.constantFrom(...VOLUME_NAMES),
    hostPath: fc.record({
      path: fc.constantFrom(DEFAULT_SOCKET_DIR_OF_SAMPLE, `${DEFAULT_SOCKET_DIR_OF_SAMPLE}/`, '/tmp', '/dev'),
    }),
  }),
  fc.record({
    name: fc.constantFrom(...VOLUME_NAMES),
    persistentVolumeClaim: fc.record({ claimName: fc.constantFrom('vineyard-pvc', 'other') }),
  }),
);

const containerName = fc.oneof(
  {
    arbitrary: fc.constantFrom('app', 'app', 'worker', 'main', '__proto__', 'constructor', 'ünï', 'c'.repeat(63)),
    weight: 19,
  },
  { arbitrary: fc.constantFrom(SIDECAR_CONTAINER, METRICS_CONTAINER), weight: 1 },
);

export const container = fc.record(
  {
    name: containerName,
    image: fc.constant('busybox:1'),
    command,
    args,
    env: sometimes(fc.array(envEntry, { maxLength: 4 })),
    envFrom: sometimes(fc.array(fc.record({ configMapRef: fc.record({ name: jobName }) }), { maxLength: 2 })),
    volumeMounts: sometimes(fc.array(mount, { maxLength: 3 })),
  },
  { requiredKeys: ['name', 'image'] },
);

const affinity = fc.constantFrom(
  {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: {
            matchExpressions: [
              { key: 'app.kubernetes.io/instance', operator: 'In', values: ['vineyard-system-vineyardd-sample'] },
            ],
          },
          namespaces: ['vineyard-system'],
          topologyKey: 'kubernetes.io/hostname',
        },
      ],
    },
  },
  {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
      },
    },
  },
  { podAffinity: null },
);

const owners = fc.constantFrom(
  [
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'etl-5f',
      uid: 'rs-uid',
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
  [{ apiVersion: 'batch/v1', kind: 'Job' }],
);

export const pod = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Pod'),
  metadata: fc.record(
    {
      name: fc.constantFrom('demo', 'p'.repeat(63), 'ünï', '__proto__'),
      generateName: fc.constantFrom('etl-', 'etl-5f-'),
      namespace: fc.constantFrom(NAMESPACE, 'other'),
      labels: podLabels,
      annotations: podAnnotations,
      ownerReferences: owners,
    },
    { requiredKeys: ['labels'] },
  ),
  spec: fc.record(
    {
      containers: fc.array(container, { minLength: 1, maxLength: 4 }),
      initContainers: fc.array(container, { maxLength: 2 }),
      volumes: fc.array(volume, { maxLength: 3 }),
      affinity,
      schedulerName: fc.constantFrom('default-scheduler', 'custom', ''),
    },
    { requiredKeys: ['containers'] },
  ),
});

/** Values of the wrong JSON type, and objects that break string conversion or carry __proto__. */
export const HOSTILE_VALUES: unknown[] = [
  null,
  0,
  7,
  -1,
  1e308,
  true,
  '',
  'x',
  [],
  {},
  [null, 5, 'x'],
  JSON.parse('{"toString": 1, "valueOf": 1}'),
  JSON.parse('{"__proto__": {"polluted": "yes"}}'),
  { constructor: { prototype: { polluted: 'yes' } } },
  ['/bin/sh', 7, null],
];

type Path = Array<string | number>;

/** Where a wrong-typed value is planted. */
const SHAPE_PATHS: Path[] = [
  ['metadata'],
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['metadata', 'name'],
  ['metadata', 'generateName'],
  ['metadata', 'namespace'],
  ['metadata', 'ownerReferences'],
  ['metadata', 'labels', SIDECAR_ENABLED_LABEL],
  ['metadata', 'labels', VINEYARDD_LABEL],
  ['metadata', 'annotations', SIDECAR_NAME_ANNOTATION],
  ['metadata', 'annotations', REQUIRED_ANNOTATION],
  ['spec'],
  ['spec', 'containers'],
  ['spec', 'containers', 0],
  ['spec', 'containers', 0, 'name'],
  ['spec', 'containers', 0, 'command'],
  ['spec', 'containers', 0, 'args'],
  ['spec', 'containers', 0, 'env'],
  ['spec', 'containers', 0, 'env', 0],
  ['spec', 'containers', 0, 'env', 0, 'name'],
  ['spec', 'containers', 0, 'env', 0, 'value'],
  ['spec', 'containers', 0, 'envFrom'],
  ['spec', 'containers', 0, 'volumeMounts'],
  ['spec', 'containers', 0, 'volumeMounts', 0],
  ['spec', 'containers', 0, 'volumeMounts', 0, 'mountPath'],
  ['spec', 'containers', 0, 'volumeMounts', 0, 'name'],
  ['spec', 'initContainers'],
  ['spec', 'initContainers', 0, 'name'],
  ['spec', 'volumes'],
  ['spec', 'volumes', 0],
  ['spec', 'volumes', 0, 'name'],
  ['spec', 'volumes', 0, 'hostPath'],
  ['spec', 'affinity'],
  ['spec', 'affinity', 'podAffinity'],
  ['spec', 'schedulerName'],
];

/** Sets `value` at `path` when the parent exists; returns a wire copy. */
function plant<T>(obj: T, path: Path, value: unknown): T {
  const out = wire(obj) as unknown as Record<string | number, unknown>;
  let cur: unknown = out;
  for (const seg of path.slice(0, -1)) {
    if (typeof cur !== 'object' || cur === null) return out as T;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  if (typeof cur !== 'object' || cur === null) return out as T;
  const last = path[path.length - 1]!;
  if (Array.isArray(cur) && (typeof last !== 'number' || last >= cur.length)) return out as T;
  Object.defineProperty(cur, last, { value: wire(value), enumerable: true, writable: true, configurable: true });
  return wire(out) as T;
}

/** Mostly well-typed objects; one in five has a value of the wrong type planted somewhere. */
function withWrongTypes<T>(arb: fc.Arbitrary<T>, paths: Path[]): fc.Arbitrary<T> {
  return fc
    .tuple(arb, present(fc.tuple(fc.constantFrom(...paths), fc.constantFrom(...HOSTILE_VALUES)), 20))
    .map(([o, bad]) => (bad ? plant(o, bad[0], bad[1]) : wire(o)));
}

export const hostilePod = withWrongTypes(pod, SHAPE_PATHS) as unknown as fc.Arbitrary<JsonObject>;

// ---- Sidecar and Vineyardd custom resources ----

const quantity = fc.constantFrom('', '256Mi', '1Gi', '500m', '1GB', '-1', 'lots');
const imagePullPolicy = fc.constantFrom('IfNotPresent', 'Always', 'Never', 'Sometimes');
const crEnv = fc.array(
  fc.oneof(
    fc.record({ name: fc.constantFrom('GLOG_v', 'VINEYARDD_UID', SOCKET_ENV, '__proto__'), value: hostileString }),
    fc.record({ name: fc.constant('POD_IP'), valueFrom: fc.constant({ fieldRef: { fieldPath: 'status.podIP' } }) }),
  ),
  { maxLength: 3 },
);
const crVolumeName = fc.constantFrom('dev', 'data', 'cache', SOCKET_VOLUME, LOG_VOLUME, '__proto__');

/** A Sidecar spec with the CRD schema's JSON types and any values, valid or not. */
export const sidecarSpec = optionalRecord({
  replicas: fc.integer({ min: -1, max: 5 }),
  selector: fc.constantFrom('', 'app=etl', 'app=etl,tier=web', 'bad selector', 'a=b=c', 'app=__proto__'),
  etcdReplicas: fc.integer({ min: 0, max: 3 }),
  vineyard: optionalRecord({
    image: fc.constantFrom('vineyardcloudnative/vineyardd:v0.20', '', 'img with space'),
    imagePullPolicy,
    syncCRDs: fc.boolean(),
    socket: fc.constantFrom('/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}', '/var/run/x', 'relative', ''),
    size: quantity,
    reserveMemory: fc.boolean(),
    streamThreshold: fc.integer({ min: -1, max: 101 }),
    spill: optionalRecord({
      name: fc.constantFrom('spill', ''),
      path: fc.constantFrom('/var/vineyard/spill', 'rel/spill', '', "/it's here"),
      spillLowerRate: fc.constantFrom('0.3', '0.9', '1.5', 'x'),
      spillUpperRate: fc.constantFrom('0.8', '0.2', '1'),
    }),
    env: crEnv,
    memory: quantity,
    cpu: quantity,
  }),
  metric: optionalRecord({ enable: fc.boolean(), image: fc.constantFrom('grok:1', ''), imagePullPolicy }),
  volume: optionalRecord({
    pvcName: fc.constantFrom('', 'vineyard-pvc', 'Bad_PVC'),
    mountPath: fc.constantFrom('', '/var/run', '/var/run/', '/', '/data/sock', 'relative', LOG_DIR, '/dev'),
  }),
  service: optionalRecord({
    type: fc.constantFrom('ClusterIP', 'NodePort', 'Headless'),
    port: fc.integer({ min: 0, max: 70000 }),
  }),
  securityContext: fc.constantFrom({ runAsUser: 1000 }, { privileged: true }),
  volumes: fc.array(fc.record({ name: crVolumeName, emptyDir: fc.constant({}) }), { maxLength: 2 }),
  volumeMounts: fc.array(
    fc.record({
      name: crVolumeName,
      mountPath: fc.constantFrom('/dev', '/data', '/var/run', '/var/run/', LOG_DIR, 'rel'),
    }),
    { maxLength: 2 },
  ),
});

/** A Sidecar spec the validating webhook accepts: what a Sidecar admitted through it holds. */
export const validSidecarSpec = fc
  .tuple(
    optionalRecord({
      replicas: fc.integer({ min: 0, max: 5 }),
      selector: fc.constantFrom('', 'app=etl', 'app=etl,tier=web'),
      vineyard: optionalRecord({
        image: fc.constantFrom('vineyardcloudnative/vineyardd:v0.20'),
        imagePullPolicy: fc.constantFrom('IfNotPresent', 'Always'),
        syncCRDs: fc.boolean(),
        socket: fc.constantFrom('/var/run/vineyard-kubernetes/default/sc', ''),
        size: fc.constantFrom('', '256Mi', '1Gi'),
        reserveMemory: fc.boolean(),
        streamThreshold: fc.integer({ min: 0, max: 100 }),
        spill: optionalRecord({
          path: fc.constantFrom('/var/vineyard/spill', '', "/it's here"),
          spillLowerRate: fc.constantFrom('0.3', '0.1'),
          spillUpperRate: fc.constantFrom('0.8', '1'),
        }),
        env: fc.array(
          fc.record({ name: fc.constantFrom('GLOG_v', 'VINEYARDD_UID', SOCKET_ENV), value: hostileString }),
          { maxLength: 2 },
        ),
        memory: fc.constantFrom('256Mi', '1Gi'),
        cpu: fc.constantFrom('500m', '1'),
      }),
      metric: optionalRecord({ enable: fc.boolean(), image: fc.constantFrom('grok:1') }),
      volume: optionalRecord({
        pvcName: fc.constantFrom('', 'vineyard-pvc'),
        mountPath: fc.constantFrom('', '/var/run', '/var/run/', '/', '/data/sock', LOG_DIR, '/dev'),
      }),
      securityContext: fc.constantFrom({ runAsUser: 1000 }, { privileged: true }),
    }),
    fc.uniqueArray(fc.constantFrom('dev', 'data', 'cache'), { maxLength: 2 }),
    fc.array(fc.constantFrom('/dev', '/data', '/var/run', '/var/run/', LOG_DIR, '/etc/vineyard'), { maxLength: 2 }),
  )
  .map(([spec, volumes, paths]) => {
    if (!volumes.length) return spec;
    return {
      ...spec,
      volumes: volumes.map(name => ({ name, emptyDir: {} })),
      volumeMounts: paths.map((mountPath, i) => ({ name: volumes[i % volumes.length]!, mountPath })),
    };
  });

export const sidecarCr = (name: fc.Arbitrary<string>, namespace = NAMESPACE) =>
  fc
    .record({
      apiVersion: fc.constant('k8s.v6d.io/v1alpha1'),
      kind: fc.constant('Sidecar'),
      metadata: fc.record({ name, namespace: fc.constant(namespace), uid: fc.constantFrom('uid-1', 'uid-2') }),
      spec: fc.oneof(validSidecarSpec, sidecarSpec),
    })
    .map(wire);

const SIDECAR_SHAPE_PATHS: Path[] = [
  ['spec'],
  ['spec', 'replicas'],
  ['spec', 'selector'],
  ['spec', 'vineyard'],
  ['spec', 'vineyard', 'image'],
  ['spec', 'vineyard', 'syncCRDs'],
  ['spec', 'vineyard', 'size'],
  ['spec', 'vineyard', 'streamThreshold'],
  ['spec', 'vineyard', 'spill'],
  ['spec', 'vineyard', 'spill', 'path'],
  ['spec', 'vineyard', 'env'],
  ['spec', 'vineyard', 'env', 0],
  ['spec', 'vineyard', 'cpu'],
  ['spec', 'metric'],
  ['spec', 'metric', 'enable'],
  ['spec', 'volume'],
  ['spec', 'volume', 'mountPath'],
  ['spec', 'volume', 'pvcName'],
  ['spec', 'service'],
  ['spec', 'service', 'port'],
  ['spec', 'securityContext'],
  ['spec', 'volumes'],
  ['spec', 'volumes', 0],
  ['spec', 'volumeMounts'],
  ['spec', 'volumeMounts', 0],
  ['metadata', 'name'],
  ['metadata', 'generateName'],
  ['metadata', 'namespace'],
];

/** A Sidecar as sent for admission: any name (or generateName only), sometimes values of the wrong type. */
export const hostileSidecarCr = withWrongTypes(
  fc.record({
    apiVersion: fc.constant('k8s.v6d.io/v1alpha1'),
    kind: fc.constant('Sidecar'),
    metadata: fc.record(
      {
        name: fc.constantFrom('sidecar-sample', 's'.repeat(63), 'Bad_Name', '__proto__'),
        generateName: fc.constantFrom('sc-'),
        namespace: fc.constantFrom(NAMESPACE, 'other'),
        labels: podLabels,
        annotations: podAnnotations,
      },
      { requiredKeys: [] },
    ),
    spec: fc.oneof({ arbitrary: sidecarSpec, weight: 9 }, { arbitrary: fc.constant(null), weight: 1 }),
  }),
  SIDECAR_SHAPE_PATHS,
) as unknown as fc.Arbitrary<JsonObject>;

export const vineyarddCr = fc
  .record({
    apiVersion: fc.constant('k8s.v6d.io/v1alpha1'),
    kind: fc.constant('Vineyardd'),
    metadata: fc.record({
      name: fc.constantFrom('vineyardd-sample', 'vineyardd-b'),
      namespace: fc.constantFrom('vineyard-system', 'v6d'),
    }),
    spec: optionalRecord({
      vineyard: optionalRecord({
        socket: fc.constantFrom(
          '/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}',
          '/run/v6d',
          'relative',
          '/a/../../etc',
          '',
        ),
      }),
      volume: optionalRecord({ pvcName: fc.constantFrom('', 'vineyard-pvc') }),
    }),
  })
  .map(wire);

/** Pods of required jobs, some already labelled, some in another namespace. */
export const jobPod = fc
  .record({
    apiVersion: fc.constant('v1'),
    kind: fc.constant('Pod'),
    metadata: fc.record({
      name: fc.constantFrom('job-a-1', 'job-a-2', 'job-b-1', 'producer-1', 'other-1'),
      namespace: fc.constantFrom(NAMESPACE, NAMESPACE, 'elsewhere'),
      labels: fc
        .tuple(jobName, fc.boolean())
        .map(([job, done]) => ({ [APP_LABEL]: job, ...(done ? { [NEED_INJECTED_ASSEMBLY_LABEL]: 'true' } : {}) })),
    }),
    spec: fc.constant({ containers: [{ name: 'main', image: 'job:1' }] }),
  })
  .map(wire);

/** What the store holds when a review arrives. */
export const clusterObjects = fc
  .tuple(
    fc.array(sidecarCr(fc.constantFrom('sc', 'custom', DEFAULT_SIDECAR_OF_ETL, 'job-a-default-sidecar')), {
      maxLength: 3,
    }),
    fc.array(vineyarddCr, { maxLength: 2 }),
    fc.array(jobPod, { maxLength: 4 }),
  )
  .map(([a, b, c]) => [...a, ...b, ...c] as unknown[]);

export const pipelineConfig: fc.Arbitrary<PipelineConfig> = fc.record({
  sidecarMode: fc.constantFrom('injected', 'native'),
  schedulerName: fc.constantFrom('', 'vineyard-scheduler'),
});

export interface FuzzCase {
  request: AdmissionRequest;
  resources: unknown[];
  config: PipelineConfig;
}

const operation = fc.oneof(
  { arbitrary: fc.constant<Operation>('CREATE'), weight: 17 },
  { arbitrary: fc.constantFrom<Operation>('UPDATE', 'DELETE', 'CONNECT'), weight: 3 },
);

let uid = 0;

/** A well-formed review for `endpoint`, the objects in the cluster, and the server's config. */
export function fuzzCase(endpoint: Endpoint<unknown>): fc.Arbitrary<FuzzCase> {
  const isPod = endpoint.expects.kind === 'Pod';
  const object = isPod ? hostilePod : hostileSidecarCr;
  return fc
    .record({
      object,
      oldObject: fc.option(object, { nil: undefined }),
      operation,
      namespace: fc.constantFrom(NAMESPACE, NAMESPACE, NAMESPACE, ''),
      name: fc.option(fc.constantFrom('demo', 'sidecar-sample'), { nil: undefined }),
      dryRun: fc.boolean(),
      resources: clusterObjects,
      config: pipelineConfig,
    })
    .map(c => {
      const version = endpoint.expects.group ? 'v1alpha1' : 'v1';
      const request: AdmissionRequest = wire({
        uid: `fuzz-${++uid}`,
        kind: { group: endpoint.expects.group, version, kind: endpoint.expects.kind },
        resource: { group: endpoint.expects.group, version, resource: isPod ? 'pods' : 'sidecars' },
        operation: c.operation,
        namespace: c.namespace,
        ...(c.name ? { name: c.name } : {}),
        object: c.operation === 'DELETE' ? null : c.object,
        ...(c.operation !== 'CREATE' && c.oldObject ? { oldObject: c.oldObject } : {}),
        dryRun: c.dryRun,
      });
      return { request, resources: c.resources, config: c.config };
    });
}
