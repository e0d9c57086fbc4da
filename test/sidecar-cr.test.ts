import t from 'tap';
import fc from 'fast-check';
import type { AdmissionRequest, JsonObject } from '../src/admission/types.js';
import { defaultSidecarSpec } from '../src/endpoints/sidecar-cr/sidecar-cr-defaults.js';
import { runMutator } from './helpers/mutate.js';
import { sidecarProblems, validateSidecarSpec } from '../src/endpoints/sidecar-cr/validate-sidecar-cr.js';
import { runPipeline } from '../src/admission/run.js';
import { defaultPipelineConfig } from '../src/admission/endpoint.js';
import { getPath, SIDECAR_DEFAULTS, sidecarSpecWithDefaults } from '../src/vineyard/sidecar-defaults.js';
import type { Sidecar } from '../src/vineyard/sidecar.js';
import { endpointByName, fixtureStore } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';

const NS = 'vineyard-job';
const NAME = 'sidecar-sample';

function request(
  operation: AdmissionRequest['operation'],
  object: unknown,
  oldObject?: unknown,
  extra: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  return {
    uid: 'u-1',
    kind: { group: 'k8s.v6d.io', version: 'v1alpha1', kind: 'Sidecar' },
    operation,
    namespace: NS,
    object: object as JsonObject,
    ...(oldObject !== undefined ? { oldObject: oldObject as JsonObject } : {}),
    ...extra,
  };
}

const sidecar = (spec: unknown, metadata: Record<string, unknown> = { name: NAME, namespace: NS }): Sidecar =>
  ({
    apiVersion: 'k8s.v6d.io/v1alpha1',
    kind: 'Sidecar',
    metadata,
    ...(spec === undefined ? {} : { spec }),
  }) as Sidecar;

const defaulted = (obj: Sidecar, req = request('CREATE', obj)): Sidecar =>
  patchedCopy(obj, runMutator(defaultSidecarSpec, req, obj).patch);

const validate = (spec: unknown, operation: AdmissionRequest['operation'] = 'CREATE', oldSpec?: unknown) => {
  const obj = sidecar(spec);
  return runMutator(
    validateSidecarSpec,
    request(operation, obj, oldSpec === undefined ? undefined : sidecar(oldSpec)),
    obj,
  );
};

/** The field errors inside a denial message, without the `Kind "name" is invalid:` head. */
function errorsOf(message: string | undefined): string {
  return (message ?? '').replace(/^Sidecar\.k8s\.v6d\.io "[^"]*" is invalid: /, '');
}

t.test('defaulting', async t => {
  t.test('an empty spec gets exactly the injector defaults, socket rendered with namespace and name', async t => {
    const obj = sidecar({});
    const out = runMutator(defaultSidecarSpec, request('CREATE', obj), obj);
    t.same(out.warnings, []);
    const result = patchedCopy(obj, out.patch);
    for (const d of SIDECAR_DEFAULTS) t.same(getPath(result.spec, d.path), d.value(NS, NAME), d.path.join('.'));
    t.equal(getPath(result.spec, ['vineyard', 'socket']), '/var/run/vineyard-kubernetes/vineyard-job/sidecar-sample');
    t.same(result.spec, sidecarSpecWithDefaults(obj), "agrees with the injector's view of the same CR");
  });

  t.test('each missing field alone is filled alone', async t => {
    const full = defaulted(sidecar({}));
    for (const d of SIDECAR_DEFAULTS) {
      const obj = structuredClone(full);
      let parent: Record<string, unknown> = obj.spec as Record<string, unknown>;
      for (const seg of d.path.slice(0, -1)) parent = parent[seg] as Record<string, unknown>;
      delete parent[d.path[d.path.length - 1]!];
      const out = runMutator(defaultSidecarSpec, request('CREATE', obj), obj);
      t.same(out.patch, [{ op: 'add', path: `/spec/${d.path.join('/')}`, value: d.value(NS, NAME) }], d.path.join('.'));
    }
  });

  t.test('null fields count as missing and are replaced', async t => {
    const obj = sidecar({ replicas: null, vineyard: null });
    const result = defaulted(obj);
    t.equal(result.spec?.replicas, 0);
    t.equal(result.spec?.vineyard?.image, 'vineyardcloudnative/vineyardd:latest');
  });

  t.test('spec missing or null is created', async t => {
    for (const spec of [undefined, null]) {
      const result = defaulted(sidecar(spec));
      t.same(result.spec, sidecarSpecWithDefaults(sidecar({})), `spec ${String(spec)}`);
    }
  });

  t.test('the namespace comes from metadata, else from the request', async t => {
    const own = sidecar({}, { name: 'x', namespace: 'from-metadata' });
    t.equal(
      defaulted(own, request('CREATE', own, undefined, { namespace: 'from-request' })).spec?.vineyard?.socket,
      '/var/run/vineyard-kubernetes/from-metadata/x',
    );
    const bare = sidecar({}, { name: 'x' });
    t.equal(
      defaulted(bare, request('CREATE', bare, undefined, { namespace: 'from-request' })).spec?.vineyard?.socket,
      '/var/run/vineyard-kubernetes/from-request/x',
    );
    const nameless = sidecar({}, { namespace: NS });
    t.equal(
      defaulted(nameless, request('CREATE', nameless, undefined, { name: 'from-request' })).spec?.vineyard?.socket,
      '/var/run/vineyard-kubernetes/vineyard-job/from-request',
      'request.name stands in for an empty metadata.name',
    );
  });

  t.test(
    'without a name (generateName) the socket is left unset with a warning, everything else is filled',
    async t => {
      const obj = sidecar({}, { generateName: 'sc-', namespace: NS });
      const out = runMutator(defaultSidecarSpec, request('CREATE', obj), obj);
      const result = patchedCopy(obj, out.patch);
      t.equal(result.spec?.vineyard?.socket, undefined);
      t.equal(result.spec?.vineyard?.image, 'vineyardcloudnative/vineyardd:latest');
      t.match(out.warnings, [/generateName "sc-": spec\.vineyard\.socket is left unset/]);
      t.equal(out.warnings.length, 1);
    },
  );

  t.test('fields of the wrong type are never overwritten', async t => {
    for (const spec of ['big', 7, [], true]) {
      const obj = sidecar(spec);
      t.same(runMutator(defaultSidecarSpec, request('CREATE', obj), obj).patch, [], `spec ${JSON.stringify(spec)}`);
    }
    const obj = sidecar({ vineyard: 'big', service: { port: '9600' }, metric: { enable: 'yes' } });
    const result = defaulted(obj);
    t.equal(result.spec?.vineyard, 'big');
    t.equal(result.spec?.service?.port, '9600');
    t.equal(result.spec?.service?.type, 'ClusterIP', 'a sibling of a wrong-typed field is still defaulted');
    t.equal(result.spec?.metric?.enable, 'yes');
  });

  t.test('DELETE and CONNECT: no patch', async t => {
    for (const op of ['DELETE', 'CONNECT'] as const) {
      const obj = sidecar({});
      t.same(runMutator(defaultSidecarSpec, request(op, obj), obj), { patch: [], warnings: [] }, op);
    }
  });

  // Arbitrary user values at every defaulted field (any JSON, including wrong
  // types): each one is kept, every missing one is filled, a second pass adds nothing.
  const userSpec = fc
    .uniqueArray(fc.constantFrom(...SIDECAR_DEFAULTS), { selector: d => d.path.join('.') })
    .chain(chosen =>
      fc.tuple(
        fc.constant(chosen),
        fc.array(
          fc.jsonValue().filter(v => v !== null),
          { minLength: chosen.length, maxLength: chosen.length },
        ),
      ),
    );
  t.test('user values are kept, missing ones filled, and a second pass adds nothing', async t => {
    fc.assert(
      fc.property(userSpec, ([chosen, values]) => {
        const spec: Record<string, unknown> = {};
        chosen.forEach((d, i) => {
          let cur = spec;
          for (const seg of d.path.slice(0, -1)) cur = (cur[seg] ??= {}) as Record<string, unknown>;
          cur[d.path[d.path.length - 1]!] = values[i];
        });
        const obj = sidecar(spec);
        const result = defaulted(obj);
        const kept = chosen.every((d, i) => JSON.stringify(getPath(result.spec, d.path)) === JSON.stringify(values[i]));
        const filled = SIDECAR_DEFAULTS.every(
          d => chosen.includes(d) || JSON.stringify(getPath(result.spec, d.path)) === JSON.stringify(d.value(NS, NAME)),
        );
        const again = runMutator(defaultSidecarSpec, request('CREATE', result), result).patch.length === 0;
        return kept && filled && again;
      }),
    );
    t.pass('property held');
  });

  t.test('never throws, whatever JSON the spec holds', async t => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (spec, metadata) => {
        const obj = { apiVersion: 'k8s.v6d.io/v1alpha1', kind: 'Sidecar', metadata, spec } as unknown as Sidecar;
        const out = runMutator(defaultSidecarSpec, request('UPDATE', obj), obj);
        patchedCopy(obj, out.patch);
        return true;
      }),
    );
    t.pass('property held');
  });
});

t.test('validation', async t => {
  t.test('the seed 001 Sidecars and the defaults themselves are valid', async t => {
    t.same(
      validate({
        replicas: 2,
        selector: 'app=job-deployment-with-custom-sidecar',
        vineyard: { socket: '/var/run/vineyard.sock', size: '1024Mi' },
      }),
      { patch: [], warnings: [] },
    );
    t.same(sidecarProblems(defaulted(sidecar({}))), []);
    t.same(sidecarProblems(sidecar(undefined)), [], 'no spec at all');
    t.same(sidecarProblems(sidecar(null)), [], 'a null spec');
  });

  t.test('every problem at once, with path, value and what is allowed, 422', async t => {
    const out = validate({
      replicas: -1,
      selector: 'app=ok,Bad Key=x',
      etcdReplicas: 0,
      vineyard: {
        image: '',
        imagePullPolicy: 'Sometimes',
        size: '1.5.2',
        cpu: '--1',
        memory: '1MB',
        streamThreshold: -5,
        socket: 'rel',
        spill: { path: 'x', spillLowerRate: '0.9', spillUpperRate: '0.4' },
      },
      metric: { image: '' },
      volume: { mountPath: 'rel' },
      service: { type: 'Headless', port: 65536 },
      volumes: [{ name: 'log', emptyDir: {} }],
      volumeMounts: [{ name: 'nope', mountPath: '/x' }],
    });
    t.equal(out.denial?.code, 422);
    t.same(out.patch, []);
    const message = out.denial?.message ?? '';
    t.match(message, /^Sidecar\.k8s\.v6d\.io "sidecar-sample" is invalid: \[.*\]$/);
    const expected = [
      'spec.replicas: Invalid value: -1: must be an integer of at least 0',
      'spec.selector: Invalid value: "app=ok,Bad Key=x": label key "Bad Key": the name part must consist of',
      'spec.etcdReplicas: Invalid value: 0: must be an integer of at least 1',
      'spec.vineyard.image: Invalid value: "": must not be empty',
      'spec.vineyard.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      'spec.vineyard.socket: Invalid value: "rel": must be an absolute path',
      'spec.vineyard.size: Invalid value: "1.5.2": must be a Kubernetes quantity',
      'spec.vineyard.streamThreshold: Invalid value: -5: must be an integer between 0 and 100',
      'spec.vineyard.spill.path: Invalid value: "x": must be an absolute path',
      'spec.vineyard.spill.spillLowerRate: Invalid value: "0.9": must be lower than spec.vineyard.spill.spillUpperRate ("0.4")',
      'spec.vineyard.memory: Invalid value: "1MB": must be a Kubernetes quantity',
      'spec.vineyard.cpu: Invalid value: "--1": must be a Kubernetes quantity',
      'spec.metric.image: Invalid value: "": must not be empty',
      'spec.volume.mountPath: Invalid value: "rel": must be an absolute path',
      'spec.service.type: Unsupported value: "Headless": supported values: "ClusterIP", "NodePort", "LoadBalancer"',
      'spec.service.port: Invalid value: 65536: must be an integer between 1 and 65535',
      'spec.volumes[0].name: Invalid value: "log": is reserved',
      'spec.volumeMounts[0].name: Not found: "nope": must name a volume in spec.volumes ("log")',
    ];
    let at = 0;
    for (const e of expected) {
      const found = message.indexOf(e, at);
      t.ok(found >= 0, `listed, in field order: ${e}`);
      if (found >= 0) at = found + e.length;
    }
    t.equal(
      sidecarProblems(
        sidecar(
          JSON.parse(
            JSON.stringify({
              replicas: -1,
              selector: 'app=ok,Bad Key=x',
              etcdReplicas: 0,
            }),
          ),
        ),
      ).length,
      3,
      'one error per problem',
    );
  });

  t.test('a single problem is not bracketed', async t => {
    t.equal(
      validate({ replicas: -3 }).denial?.message,
      'Sidecar.k8s.v6d.io "sidecar-sample" is invalid: spec.replicas: Invalid value: -3: must be an integer of at least 0',
    );
  });

  t.test('the name comes from request.name when metadata has none', async t => {
    const obj = sidecar({ replicas: -1 }, {});
    t.match(
      validateSidecarSpec(request('CREATE', obj, undefined, { name: 'from-request' }), obj).denial?.message,
      /^Sidecar\.k8s\.v6d\.io "from-request" is invalid/,
    );
  });

  t.test('boundaries that are allowed', async t => {
    const ok = [
      { replicas: 0, etcdReplicas: 1 },
      { selector: '' },
      { selector: 'app.kubernetes.io/name=job,tier=' },
      { vineyard: { size: '' } },
      { vineyard: { size: '1.5Gi', cpu: '500m', memory: '1e9' } },
      { vineyard: { cpu: '0', memory: '-0' } },
      { vineyard: { streamThreshold: 0 } },
      { vineyard: { streamThreshold: 100 } },
      { vineyard: { spill: { spillLowerRate: '0', spillUpperRate: '1' } } },
      { vineyard: { spill: { spillLowerRate: '.1', spillUpperRate: '5e-1' } } },
      { vineyard: { socket: '', spill: { path: '' } }, volume: { mountPath: '' } },
      { vineyard: { socket: '/var/run/vineyard-kubernetes/{{.Namespace}}/{{.Name}}' } },
      { service: { port: 1, type: 'NodePort' } },
      { service: { port: 65535, type: 'LoadBalancer' } },
      { metric: { enable: true } },
      { vineyard: { imagePullPolicy: 'Never' }, metric: { imagePullPolicy: 'Always' } },
      { volume: { pvcName: 'vineyard-data.v1' } },
      { vineyard: { env: [{ name: 'GLOG_v', value: '1' }] } },
      { volumes: [], volumeMounts: [] },
      {
        volumes: [
          { name: 'a', emptyDir: {} },
          { name: 'b', emptyDir: {} },
        ],
        volumeMounts: [
          { name: 'b', mountPath: '/b' },
          { name: 'a', mountPath: '/a' },
        ],
      },
      { unknownField: { kept: true }, vineyard: { futureFlag: 1 } },
    ];
    for (const spec of ok) t.same(sidecarProblems(sidecar(spec)), [], JSON.stringify(spec));
  });

  t.test('boundaries that are rejected', async t => {
    const bad: Array<[unknown, RegExp]> = [
      [{ replicas: 1.5 }, /^spec\.replicas: Invalid value: 1\.5: must be an integer/],
      [
        { vineyard: { spill: { spillLowerRate: '0.5', spillUpperRate: '0.5' } } },
        /spillLowerRate: Invalid value: "0\.5": must be lower than/,
      ],
      [
        { vineyard: { spill: { spillLowerRate: '' } } },
        /spillLowerRate: Invalid value: "": must be a number between 0 and 1/,
      ],
      [{ vineyard: { spill: { spillLowerRate: '-0.1' } } }, /must be a number between 0 and 1/],
      [{ vineyard: { spill: { spillLowerRate: '0x1' } } }, /must be a number between 0 and 1/],
      [
        { vineyard: { spill: { spillLowerRate: 0.3 } } },
        /spillLowerRate: Invalid value: 0\.3: must be a string holding a number between 0 and 1, e\.g\. "0\.3"/,
      ],
      [
        { vineyard: { cpu: '' } },
        /cpu: Invalid value: "": must be a Kubernetes quantity.*remove the field to leave it unset/,
      ],
      [{ vineyard: { size: '-1Gi' } }, /size: Invalid value: "-1Gi": must not be negative/],
      [{ vineyard: { imagePullPolicy: '' } }, /Unsupported value: ""/],
      [
        { vineyard: { env: [{ value: 'x' }] } },
        /^spec\.vineyard\.env\[0\]\.name: Required value: must be a non-empty string/,
      ],
      [
        { vineyard: { env: ['A=1'] } },
        /^spec\.vineyard\.env\[0\]: Invalid value: "A=1": must be an environment variable/,
      ],
      [
        { volume: { pvcName: 'My_PVC' } },
        /spec\.volume\.pvcName: Invalid value: "My_PVC": must name a PersistentVolumeClaim/,
      ],
      [
        { volumeMounts: [{ name: 'x', mountPath: '/x' }] },
        /Not found: "x": must name a volume in spec\.volumes, which has none/,
      ],
      [{ volumes: [{ name: 'a' }, { name: 'a' }] }, /^spec\.volumes\[1\]\.name: Duplicate value: "a"/],
      [
        { volumes: [{ name: 'a' }], volumeMounts: [{ name: 'a' }] },
        /^spec\.volumeMounts\[0\]\.mountPath: Required value/,
      ],
      [{ selector: 'app=a,app=b' }, /appears more than once/],
      [{ selector: 'app=job ' }, /label value "job "/],
      ['a string', /^spec: Invalid value: "a string": must be an object$/],
    ];
    for (const [spec, pattern] of bad) {
      const problems = sidecarProblems(sidecar(spec));
      t.equal(problems.length, 1, JSON.stringify(spec), { problems });
      t.match(problems[0], pattern);
    }
  });

  t.test('long values are cut in messages', async t => {
    const [problem] = sidecarProblems(sidecar({ securityContext: 'x'.repeat(500) }));
    t.ok(problem !== undefined && problem.length < 250, 'short message');
    t.match(problem, /"x{20,}\.\.\.: must be an object$/);
  });

  t.test('UPDATE: the selector is immutable', async t => {
    const old = { replicas: 2, selector: 'app=a' };
    const changed = validate({ replicas: 2, selector: 'app=b' }, 'UPDATE', old);
    t.equal(changed.denial?.code, 422);
    t.equal(
      errorsOf(changed.denial?.message),
      'spec.selector: Invalid value: "app=b": field is immutable: changing it would orphan the pods already injected with this Sidecar; create a new Sidecar instead',
    );
    t.notOk(validate({ replicas: 5, selector: 'app=a' }, 'UPDATE', old).denial, 'scaling keeps the selector');
    t.ok(validate({ replicas: 2 }, 'UPDATE', old).denial, 'removing it is a change too');
    t.notOk(validate({ selector: '' }, 'UPDATE', {}).denial, 'absent and "" are the same selector');
    t.ok(validate({ selector: 'app=a' }, 'UPDATE', {}).denial, 'setting one where there was none is a change');
    t.notOk(validate({ selector: 'app=a' }, 'CREATE').denial, 'CREATE has nothing to compare');
    const both = validate({ selector: 'app=b', replicas: -1 }, 'UPDATE', old);
    t.match(
      errorsOf(both.denial?.message),
      /^\[spec\.selector: .*field is immutable.*, spec\.replicas: Invalid value: -1/,
      'listed with the other problems',
    );
  });

  t.test('UPDATE: a problem the stored object already has is a warning, a new one a denial', async t => {
    const old = { selector: 'app=a', vineyard: { size: '1GB' } };
    const scaled = validate({ selector: 'app=a', replicas: 3, vineyard: { size: '1GB' } }, 'UPDATE', old);
    t.notOk(scaled.denial);
    t.match(scaled.warnings, [
      /^Sidecar\.k8s\.v6d\.io "sidecar-sample": spec\.vineyard\.size: Invalid value: "1GB".*the stored Sidecar already has this problem/,
    ]);
    const worse = validate({ selector: 'app=a', replicas: -1, vineyard: { size: '1GB' } }, 'UPDATE', old);
    t.equal(
      errorsOf(worse.denial?.message),
      'spec.replicas: Invalid value: -1: must be an integer of at least 0',
      'only the new problem blocks',
    );
    t.equal(worse.warnings.length, 1, 'the stored one is still reported');
    const changedValue = validate({ selector: 'app=a', vineyard: { size: '2GB' } }, 'UPDATE', old);
    t.match(
      errorsOf(changedValue.denial?.message),
      /^spec\.vineyard\.size: Invalid value: "2GB"/,
      'a new bad value is a new problem',
    );
  });

  t.test('DELETE and CONNECT are allowed, even for an invalid Sidecar', async t => {
    for (const op of ['DELETE', 'CONNECT'] as const)
      t.same(validate({ replicas: -1 }, op), { patch: [], warnings: [] }, op);
    const endpoint = endpointByName('sidecar-validate');
    const deps = { store: fixtureStore([]), config: defaultPipelineConfig };
    const out = await runPipeline(endpoint, request('DELETE', null, sidecar({ replicas: -1 })), deps);
    t.equal(out.response.allowed, true);
    t.same(out.patch, []);
  });

  t.test('through the endpoints: defaulting then validation accepts any CR built from valid values', async t => {
    const mutate = endpointByName('sidecar-default');
    const check = endpointByName('sidecar-validate');
    const deps = { store: fixtureStore([]), config: defaultPipelineConfig };
    const validSpec = fc.record(
      {
        replicas: fc.nat(),
        selector: fc.constantFrom('', 'app=job', 'app.kubernetes.io/name=x,tier=web'),
        etcdReplicas: fc.integer({ min: 1, max: 9 }),
        vineyard: fc.record(
          {
            size: fc.constantFrom('', '1024Mi', '2Gi', '1e9'),
            cpu: fc.constantFrom('500m', '2'),
            streamThreshold: fc.integer({ min: 0, max: 100 }),
            spill: fc.record(
              { path: fc.constantFrom('', '/spill'), spillLowerRate: fc.constantFrom('0.1', '0.3') },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        metric: fc.record({ enable: fc.boolean() }, { requiredKeys: [] }),
        service: fc.record(
          { type: fc.constantFrom('ClusterIP', 'NodePort'), port: fc.integer({ min: 1, max: 65535 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(validSpec, async spec => {
        const obj = sidecar(spec);
        const d = await runPipeline(mutate, request('CREATE', obj), deps);
        const result = patchedCopy(obj, d.patch);
        const v = await runPipeline(check, request('CREATE', result), deps);
        return d.response.allowed && v.response.allowed;
      }),
      { numRuns: 50 },
    );
    t.pass('property held');
  });

  // Any JSON at any known field: the validator answers, it never throws.
  const anything = fc.jsonValue({ maxDepth: 2 });
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, anything);
  const shaped = maybe(
    fc.record(
      {
        replicas: anything,
        selector: anything,
        etcdReplicas: anything,
        vineyard: maybe(
          fc.record(
            {
              image: anything,
              imagePullPolicy: anything,
              syncCRDs: anything,
              socket: anything,
              size: anything,
              reserveMemory: anything,
              streamThreshold: anything,
              env: maybe(fc.array(maybe(fc.record({ name: anything })))),
              memory: anything,
              cpu: anything,
              spill: maybe(
                fc.record({
                  name: anything,
                  path: anything,
                  spillLowerRate: anything,
                  spillUpperRate: anything,
                  persistentVolumeSpec: anything,
                }),
              ),
            },
            { requiredKeys: [] },
          ),
        ),
        metric: maybe(
          fc.record({ enable: anything, image: anything, imagePullPolicy: anything }, { requiredKeys: [] }),
        ),
        volume: maybe(fc.record({ pvcName: anything, mountPath: anything }, { requiredKeys: [] })),
        service: maybe(fc.record({ type: anything, port: anything, selector: anything }, { requiredKeys: [] })),
        securityContext: anything,
        volumes: maybe(fc.array(maybe(fc.record({ name: anything })))),
        volumeMounts: maybe(fc.array(maybe(fc.record({ name: anything, mountPath: anything })))),
      },
      { requiredKeys: [] },
    ),
  );
  t.test('wrong JSON types never throw', async t => {
    fc.assert(
      fc.property(shaped, shaped, anything, (spec, oldSpec, metadata) => {
        const obj = { metadata, spec } as unknown as Sidecar;
        const out = runMutator(validateSidecarSpec, request('UPDATE', obj, sidecar(oldSpec)), obj);
        const d = runMutator(defaultSidecarSpec, request('CREATE', obj), obj);
        patchedCopy(obj, d.patch);
        return out.patch.length === 0 && (out.denial === undefined || out.denial.code === 422);
      }),
      { numRuns: 300 },
    );
    t.pass('property held');
  });
});
