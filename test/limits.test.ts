// Per-request bounds (src/endpoints/limits.ts): at each limit a review is
// handled as usual; one past it is refused with code 400 naming the field, the
// count and the limit, before any API call and any write.
import t from 'tap';
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../src/admission/types.js';
import type { ClusterStore } from '../src/cluster/store.js';
import { MemoryStore } from '../src/cluster/memory-store.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { LIMITS } from '../src/endpoints/limits.js';
import { runPipeline } from '../src/admission/run.js';
import {
  DASK_SCHEDULER_ANNOTATION,
  REQUIRED_ANNOTATION,
  SIDECAR_ENABLED_LABEL,
  SIDECAR_NAME_ANNOTATION,
  VINEYARDD_LABEL,
} from '../src/vineyard/names.js';
import { endpointByName } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';

const config = defaultPipelineConfig;
const sidecarCr = {
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'sc', namespace: 'default', uid: 'u-sc' },
  spec: { selector: 'app=a' },
};

/** A store that fails the test on any call: a refused review must not reach the cluster. */
const untouchable = (t: { fail(message: string): void }) =>
  new Proxy({} as ClusterStore, {
    get: (_, k) => async () => {
      t.fail(`store.${String(k)} was called`);
      throw new Error('untouchable');
    },
  });

const container = (i: number, env = 0): V1Container => ({
  name: `c${i}`,
  image: 'busybox',
  command: ['/bin/sh', '-c', 'run'],
  ...(env ? { env: Array.from({ length: env }, (_, j): V1EnvVar => ({ name: `V${j}`, value: 'x' })) } : {}),
});

function pod(
  opts: {
    containers?: number;
    initContainers?: number;
    env?: number;
    initEnv?: number;
    volumes?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): V1Pod {
  const containers = Array.from({ length: opts.containers ?? 1 }, (_, i) =>
    container(i, i === 0 ? (opts.env ?? 0) : 0),
  );
  const initContainers = Array.from({ length: opts.initContainers ?? 0 }, (_, i) =>
    container(1000 + i, i === 0 ? (opts.initEnv ?? 0) : 0),
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'big',
      namespace: 'default',
      labels: { app: 'a', [SIDECAR_ENABLED_LABEL]: 'true', [VINEYARDD_LABEL]: 'vineyardd-sample', ...opts.labels },
      annotations: { [SIDECAR_NAME_ANNOTATION]: 'sc', ...opts.annotations },
    },
    spec: {
      containers,
      ...(initContainers.length ? { initContainers } : {}),
      ...(opts.volumes
        ? { volumes: Array.from({ length: opts.volumes }, (_, i) => ({ name: `v${i}`, emptyDir: {} })) }
        : {}),
    },
  };
}

const review = (object: unknown, kind = { group: '', version: 'v1', kind: 'Pod' }): AdmissionRequest => ({
  uid: 'u',
  kind,
  operation: 'CREATE',
  namespace: 'default',
  object: object as never,
});

const jobs = (n: number) => Array.from({ length: n }, (_, i) => `job-${i}`).join(',');

interface PodCase {
  name: string;
  endpoints: string[];
  at: V1Pod;
  over: V1Pod;
  message: RegExp;
}

const podCases: PodCase[] = [
  {
    name: 'containers and init containers together',
    endpoints: ['sidecar', 'operation', 'scheduling'],
    at: pod({ containers: 60, initContainers: LIMITS.containers - 60 }),
    over: pod({ containers: 60, initContainers: LIMITS.containers - 59 }),
    message: new RegExp(
      `spec.containers and spec.initContainers hold ${LIMITS.containers + 1} containers, more than the webhook's limit of ${LIMITS.containers} per pod`,
    ),
  },
  {
    name: 'env entries of a container',
    endpoints: ['sidecar', 'operation', 'scheduling'],
    at: pod({ env: LIMITS.env }),
    over: pod({ env: LIMITS.env + 1 }),
    message: new RegExp(
      `spec.containers\\[0\\].env has ${LIMITS.env + 1} entries, more than the webhook's limit of ${LIMITS.env} per container`,
    ),
  },
  {
    name: 'env entries of an init container',
    endpoints: ['operation'],
    at: pod({ initContainers: 1, initEnv: LIMITS.env }),
    over: pod({ initContainers: 1, initEnv: LIMITS.env + 1 }),
    message: new RegExp(`spec.initContainers\\[0\\].env has ${LIMITS.env + 1} entries`),
  },
  {
    name: 'volumes',
    endpoints: ['sidecar', 'operation', 'scheduling'],
    at: pod({ volumes: LIMITS.volumes }),
    over: pod({ volumes: LIMITS.volumes + 1 }),
    message: new RegExp(
      `spec.volumes has ${LIMITS.volumes + 1} volumes, more than the webhook's limit of ${LIMITS.volumes} per pod`,
    ),
  },
  {
    name: 'required jobs',
    endpoints: ['operation', 'scheduling'],
    at: pod({ annotations: { [REQUIRED_ANNOTATION]: jobs(LIMITS.requiredJobs) } }),
    // Duplicates count once: 51 names, 50 jobs is within the limit.
    over: pod({ annotations: { [REQUIRED_ANNOTATION]: `${jobs(LIMITS.requiredJobs + 1)},job-0` } }),
    message: new RegExp(
      `annotation ${REQUIRED_ANNOTATION} names ${LIMITS.requiredJobs + 1} jobs, more than the webhook's limit of ${LIMITS.requiredJobs}`,
    ),
  },
  {
    name: 'a label value the webhook reads',
    endpoints: ['sidecar', 'scheduling'],
    at: pod({ labels: { [VINEYARDD_LABEL]: 'v'.repeat(LIMITS.labelValue) } }),
    over: pod({ labels: { [VINEYARDD_LABEL]: 'v'.repeat(LIMITS.labelValue + 1) } }),
    message: new RegExp(
      `label ${VINEYARDD_LABEL} is ${LIMITS.labelValue + 1} characters long, more than the webhook's limit of ${LIMITS.labelValue}`,
    ),
  },
  {
    name: 'an annotation value the webhook reads',
    endpoints: ['operation'],
    at: pod({ annotations: { [DASK_SCHEDULER_ANNOTATION]: 'd'.repeat(LIMITS.annotationValue) } }),
    over: pod({ annotations: { [DASK_SCHEDULER_ANNOTATION]: 'd'.repeat(LIMITS.annotationValue + 1) } }),
    message: new RegExp(
      `annotation ${DASK_SCHEDULER_ANNOTATION} is ${LIMITS.annotationValue + 1} characters long, more than the webhook's limit of ${LIMITS.annotationValue}`,
    ),
  },
  {
    name: 'a container name',
    endpoints: ['sidecar', 'operation', 'scheduling'],
    at: { ...pod(), spec: { containers: [{ ...container(0), name: 'n'.repeat(LIMITS.name) }] } },
    over: { ...pod(), spec: { containers: [container(0), { ...container(1), name: 'n'.repeat(1024 * 1024) }] } },
    message: new RegExp(
      `spec.containers\\[1\\].name is ${1024 * 1024} characters long, more than the webhook's limit of ${LIMITS.name}`,
    ),
  },
  {
    name: 'the pod name (messages repeat it, cut)',
    endpoints: ['sidecar', 'operation', 'scheduling'],
    at: { ...pod(), metadata: { ...pod().metadata, name: 'p'.repeat(LIMITS.name) } },
    over: { ...pod(), metadata: { ...pod().metadata, name: 'p'.repeat(1024 * 1024) } },
    message: new RegExp(
      `^[^]{0,400}: metadata.name is ${1024 * 1024} characters long, more than the webhook's limit of ${LIMITS.name}: shorten it$`,
    ),
  },
];

for (const c of podCases) {
  t.test(`pods: ${c.name}`, async t => {
    for (const name of c.endpoints) {
      const endpoint = endpointByName(name);
      const over = await runPipeline(endpoint, review(c.over), { store: untouchable(t), config });
      t.equal(over.response.allowed, false, `${name}: one past the limit is refused`);
      t.equal(over.response.status?.code, 400, `${name}: code 400`);
      t.match(over.response.status?.message, c.message, `${name}: names the field, the count and the limit`);
      t.match(
        over.response.status?.message,
        new RegExp(`^${endpoint.path}: pod default/${c.over.metadata!.name!.slice(0, 50)}`),
        `${name}: names the endpoint and the pod`,
      );

      const store = new MemoryStore([sidecarCr]);
      const at = await runPipeline(endpoint, review(c.at), { store, config });
      t.notMatch(
        at.response.status?.message ?? '',
        /limit/,
        `${name}: at the limit the review is handled (${at.response.status?.message ?? 'allowed'})`,
      );
      if (at.response.allowed) t.doesNotThrow(() => patchedCopy(c.at, at.patch), `${name}: its patch applies`);
    }
  });
}

t.test('a pod at every limit at once is still injected, with a patch the size of its work', async t => {
  const big = pod({
    containers: LIMITS.containers,
    env: LIMITS.env,
    volumes: LIMITS.volumes,
    annotations: { [REQUIRED_ANNOTATION]: jobs(LIMITS.requiredJobs) },
  });
  for (const name of ['sidecar', 'operation', 'scheduling']) {
    // No required job's data exists here: the limits, not data placement, are under test.
    const out = await runPipeline(endpointByName(name), review(big), {
      store: new MemoryStore([sidecarCr]),
      config: { ...config, schedulingNoData: 'allow' },
    });
    t.equal(out.response.allowed, true, `${name}: allowed (${out.response.status?.message ?? ''})`);
    t.ok(out.patch.length > 0, `${name}: patched`);
    const result = patchedCopy(big, out.patch);
    t.equal(
      result.spec!.containers.length,
      name === 'sidecar' ? LIMITS.containers + 1 : LIMITS.containers,
      `${name}: every container kept`,
    );
  }
});

const sidecar = (spec: Record<string, unknown>) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Sidecar',
  metadata: { name: 'big', namespace: 'default' },
  spec,
});
const entries = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
const SIDECAR_KIND = { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' };

t.test('Sidecars: env, volumes and volumeMounts copied into every injected pod', async t => {
  const cases: Array<[string, (n: number) => Record<string, unknown>, number, RegExp]> = [
    [
      'spec.vineyard.env',
      n => ({ vineyard: { env: entries(n, i => ({ name: `V${i}`, value: 'x' })) } }),
      LIMITS.env,
      /spec.vineyard.env has \d+ entries, more than the webhook's limit of 1000/,
    ],
    [
      'spec.volumes',
      n => ({ volumes: entries(n, i => ({ name: `v${i}`, emptyDir: {} })) }),
      LIMITS.volumes,
      /spec.volumes has \d+ entries, more than the webhook's limit of 500/,
    ],
    [
      'spec.volumeMounts',
      n => ({
        volumes: [{ name: 'v', emptyDir: {} }],
        volumeMounts: entries(n, i => ({ name: 'v', mountPath: `/m${i}` })),
      }),
      LIMITS.volumes,
      /spec.volumeMounts has \d+ entries, more than the webhook's limit of 500/,
    ],
  ];
  for (const [field, spec, limit, message] of cases) {
    for (const name of ['sidecar-default', 'sidecar-validate']) {
      const endpoint = endpointByName(name);
      const over = await runPipeline(endpoint, review(sidecar(spec(limit + 1)), SIDECAR_KIND), {
        store: untouchable(t),
        config,
      });
      t.match(over.response, { allowed: false, status: { code: 400, message } }, `${name}: ${field} past the limit`);
      t.match(over.response.status?.message, new RegExp(`^${endpoint.path}: Sidecar default/big: `));
      const at = await runPipeline(endpoint, review(sidecar(spec(limit)), SIDECAR_KIND), {
        store: untouchable(t),
        config,
      });
      t.notMatch(at.response.status?.message ?? '', /limit/, `${name}: ${field} at the limit is handled`);
    }
  }
});
