// The operator's custom-resource endpoints beyond the Sidecar: Vineyardd
// defaults are the operator CRD's, the fields a Vineyardd shares with a
// Sidecar are judged by the same rules, Operation defaulting and validation
// agree, and the GlobalObject/LocalObject paths never do any work.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AdmissionRequest, JsonObject } from '../src/admission/types.js';
import { runPipeline } from '../src/admission/run.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { endpoints } from '../src/endpoints/table.js';
import { sidecarProblems } from '../src/endpoints/sidecar-cr/validate-sidecar-cr.js';
import { vineyarddProblems } from '../src/endpoints/vineyardd-cr/validate-vineyardd-cr.js';
import { defaultVineyarddSpec } from '../src/endpoints/vineyardd-cr/default-vineyardd-cr.js';
import { defaultOperationSpec } from '../src/endpoints/operation-cr/default-operation-cr.js';
import { operationProblems } from '../src/endpoints/operation-cr/validate-operation-cr.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';
import type { ClusterStore } from '../src/cluster/store.js';
import { applyStructuralDefaults, type Schema } from './helpers/k8s-semantics.js';
import { runMutator } from './helpers/mutate.js';

const crdSpecSchema = (file: string): Schema => {
  const crd = parse(readFileSync(new URL(`./e2e/crds/${file}`, import.meta.url), 'utf8'));
  return crd.spec.versions[0].schema.openAPIV3Schema.properties.spec as Schema;
};

const request = (kind: string, operation: AdmissionRequest['operation'], object: unknown): AdmissionRequest => ({
  uid: 'u-1',
  kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind },
  operation,
  namespace: 'vineyard-system',
  object: object as JsonObject,
});

const vineyardd = (spec: unknown) => ({
  apiVersion: 'k8s.v6d.io/v1alpha1',
  kind: 'Vineyardd',
  metadata: { name: 'vineyardd-sample', namespace: 'vineyard-system' },
  spec,
});

t.test("Vineyardd defaulting gives what the operator's CRD defaults", async t => {
  const schema = crdSpecSchema('k8s.v6d.io_vineyardds.yaml');
  const specs = [
    {},
    { replicas: 0, vineyard: { image: 'registry.local/vineyardd:v0.24.4', spill: { path: '/spill' } } },
    { metric: { enable: true }, service: { port: 9700 }, pluginImage: { backupImage: 'registry.local/backup:v1' } },
    { vineyard: { socket: '/run/{{.Name}}', reserveMemory: true }, volume: { pvcName: 'socket-pvc' }, etcdReplicas: 3 },
  ];
  for (const spec of specs) {
    const obj = vineyardd(spec);
    const out = runMutator(defaultVineyarddSpec, request('Vineyardd', 'CREATE', obj), obj as never);
    t.same(out.warnings, []);
    t.same(
      (patchedCopy(obj, out.patch) as { spec: unknown }).spec,
      applyStructuralDefaults(spec, schema),
      `defaults of ${JSON.stringify(spec)}`,
    );
  }
});

t.test('a field a Vineyardd shares with a Sidecar is judged alike', async t => {
  const bad = [
    { etcdReplicas: 0 },
    {
      vineyard: {
        image: '',
        imagePullPolicy: 'Sometimes',
        size: '1MB',
        streamThreshold: 101,
        spill: { spillLowerRate: '0.9', spillUpperRate: '0.2', path: 'spill' },
      },
    },
    { vineyard: { env: [{ value: 'x' }], memory: '-1Gi', cpu: 'lots', syncCRDs: 'yes' } },
    {
      metric: { enable: 'true', image: '' },
      service: { type: 'External', port: 0 },
      volume: { pvcName: 'A_B', mountPath: 'run' },
    },
    {
      volumes: [{ name: 'vineyard-socket' }, { name: 'x' }, { name: 'x' }],
      volumeMounts: [{ name: 'y', mountPath: '/var/run' }],
    },
    { securityContext: 'root' },
  ];
  for (const spec of bad) {
    const sidecar = sidecarProblems({ spec });
    t.ok(sidecar.length > 0, `the Sidecar rules find problems in ${JSON.stringify(spec)}`);
    // The messages differ only where they name the kind or the container.
    const normal = (ps: string[]) => ps.map(p => p.replace(/Sidecar|vineyard-sidecar|Vineyardd|vineyardd/g, 'K'));
    t.same(normal(vineyarddProblems({ spec })), normal(sidecar), JSON.stringify(spec));
  }
  t.same(sidecarProblems({ spec: { vineyard: { socket: '/x/{{.Name}}' } } }), [], 'a Sidecar socket is a plain path');
  t.match(
    vineyarddProblems({ spec: { vineyard: { socket: '/x/{{.Spec}}' } } }),
    [/only the placeholders/],
    'a Vineyardd socket is a template',
  );
});

t.test(
  'Operation: defaulting then validation accepts what the scheduler plugin writes, and only names real problems',
  async t => {
    for (const [name, type] of [
      ['assembly', 'local'],
      ['assembly', 'distributed'],
      ['repartition', 'dask'],
    ] as const) {
      const obj = {
        apiVersion: 'k8s.v6d.io/v1alpha1',
        kind: 'Operation',
        metadata: { name: 'job2', namespace: 'vineyard-job' },
        spec: { name, type, require: 'job1', target: 'job2' },
      };
      const defaulted = patchedCopy(
        obj,
        runMutator(defaultOperationSpec, request('Operation', 'CREATE', obj), obj).patch,
      );
      t.equal((defaulted.spec as { timeoutSeconds?: number }).timeoutSeconds, 300, `${name}/${type}: 300 s`);
      t.same(operationProblems(defaulted), [], `${name}/${type}: valid`);
    }
    t.equal(operationProblems({ spec: {} }).length, 4, 'an empty spec: name, type, require and target named at once');
  },
);

t.test('GlobalObject and LocalObject: allowed at once, with no API call and no patch', async t => {
  const untouchable = new Proxy(
    {},
    {
      get: (_o, p) => {
        throw new Error(`the store was used: ${String(p)}`);
      },
    },
  ) as ClusterStore;
  const paths = endpoints.filter(e => /(global|local)object$/.test(e.path));
  t.equal(paths.length, 4, 'mutate and validate, for both kinds');
  for (const e of paths) {
    t.same(e.mutators, [], `${e.path}: no rules`);
    for (const object of [
      { metadata: { name: 'o001d2dc18d72a47e' }, spec: { id: 'o001d2dc18d72a47e' } },
      { metadata: { name: 'x' }, spec: 'anything' },
    ]) {
      const out = await runPipeline(e, request(e.expects.kind, 'CREATE', object), {
        store: untouchable,
        config: defaultPipelineConfig,
      });
      t.same([out.response.allowed, out.patch], [true, []], `${e.path}: allowed, no patch`);
    }
  }
});
