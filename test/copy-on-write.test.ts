// Patches are applied copy-on-write (src/mutators/copy-on-write.ts) instead of
// on deep clones: the results and errors must be those of fast-json-patch on
// a clone, and nothing the pipeline is given may ever be written to.
import t from 'tap';
import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { basename } from 'node:path';
import { CopyOnWrite } from '../src/mutators/copy-on-write.js';

/** Freezes parsed JSON all the way down, so a write to it throws. */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
import { PatchBuilder } from '../src/mutators/patch.js';
import type { PatchOperation } from '../src/mutators/types.js';
import { endpoints } from '../src/pipeline/endpoints.js';
import { runPipeline } from '../src/pipeline/run.js';
import { fixtureDirs, fixtureStore, loadFixture } from './helpers/fixtures.js';

const pod = () => ({
  metadata: { name: 'p', labels: { app: 'x' }, annotations: {} },
  spec: { containers: [{ name: 'a', env: [{ name: 'A', value: '1' }] }, { name: 'b' }], volumes: [] as unknown[] },
});

const reference = (doc: unknown, ops: PatchOperation[]) => fjp.applyPatch(fjp.deepClone(doc), fjp.deepClone(ops), true).newDocument;

t.test('applies like fast-json-patch on a clone and never writes to the input', async t => {
  const cases: PatchOperation[][] = [
    [{ op: 'add', path: '/metadata/labels/sidecar.v6d.io~1name', value: 'v' }],
    [{ op: 'add', path: '/spec/containers/-', value: { name: 'c', env: [] } }, { op: 'add', path: '/spec/containers/2/env/-', value: { name: 'E', value: 'e' } }],
    [{ op: 'add', path: '/spec/containers/0', value: { name: 'first' } }, { op: 'replace', path: '/spec/containers/1/env/0/value', value: '2' }],
    [{ op: 'remove', path: '/spec/containers/1' }, { op: 'add', path: '/spec/volumes/-', value: { name: 'v' } }],
    [{ op: 'replace', path: '/spec', value: { containers: [] } }, { op: 'add', path: '/spec/containers/-', value: { name: 'n' } }],
    [{ op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' }, { op: 'add', path: '/spec/containers/2/env/-', value: { name: 'C' } }],
    [{ op: 'move', from: '/spec/containers/0', path: '/spec/containers/1' }, { op: 'add', path: '/spec/containers/1/env/-', value: { name: 'M' } }],
    [{ op: 'test', path: '/metadata/name', value: 'p' }, { op: 'add', path: '/spec/containers/1/image', value: 'img' }],
    [{ op: 'replace', path: '', value: { kind: 'Other' } }, { op: 'add', path: '/x', value: 1 }],
  ];
  for (const ops of cases) {
    const input = deepFreeze(pod());
    const frozenOps = deepFreeze(structuredClone(ops));
    const cow = new CopyOnWrite(input);
    t.equal(cow.applyValidated(frozenOps), undefined, `${JSON.stringify(ops)} applies`);
    t.same(cow.root, reference(input, ops), `${JSON.stringify(ops)} gives fast-json-patch's result`);
    t.same(input, pod(), 'the input is unchanged');
  }
});

t.test('a value added by one operation is not rewritten by a later one', async t => {
  const value = { name: 'c', env: [] as unknown[] };
  const cow = new CopyOnWrite(pod());
  const ops: PatchOperation[] = [{ op: 'add', path: '/spec/containers/-', value }];
  for (const op of ops) cow.apply(op, true, 0);
  cow.apply({ op: 'add', path: '/spec/containers/2/env/-', value: { name: 'later' } }, true, 1);
  t.same(value, { name: 'c', env: [] }, 'the first operation still adds an empty env');
  t.same((cow.root as ReturnType<typeof pod>).spec.containers[2], { name: 'c', env: [{ name: 'later' }] });
});

t.test('unvalidated operations follow the index fast-json-patch reads ("01" is 1)', async t => {
  const input = deepFreeze(pod());
  const cow = new CopyOnWrite(input);
  cow.apply({ op: 'add', path: '/spec/containers/01/image', value: 'img' }, false, 0);
  t.same((cow.root as ReturnType<typeof pod>).spec.containers[1], { name: 'b', image: 'img' });
  t.same(input, pod(), 'the input is unchanged');
});

t.test('errors are the ones fast-json-patch validate gives, word for word', async t => {
  const bad: PatchOperation[][] = [
    [{ op: 'replace', path: '/spec/nodeName', value: 'n' }],
    [{ op: 'add', path: '/spec/containers/5', value: {} }],
    [{ op: 'add', path: '/spec/missing/deep', value: 1 }],
    [{ op: 'remove', path: '/spec/containers/7' }],
    [{ op: 'add', path: '/spec/containers/x', value: 1 }],
    [{ op: 'test', path: '/metadata/name', value: 'q' }],
    [{ op: 'add', path: '/metadata/labels/ok', value: 'v' }, { op: 'copy', from: '/nowhere', path: '/x' }],
    [{ op: 'add', path: 'no-slash', value: 1 }],
    [{ op: 'add', path: '/spec/containers/-', value: undefined } as unknown as PatchOperation],
  ];
  for (const ops of bad) {
    const input = deepFreeze(pod());
    const want = fjp.validate(ops, pod());
    const got = new CopyOnWrite(input).applyValidated(ops);
    t.ok(want, `fast-json-patch refuses ${JSON.stringify(ops)}`);
    t.equal(got?.name, want?.name, 'same error');
    t.equal(got?.message, want?.message, 'same message');
  }
  t.throws(() => new CopyOnWrite(pod()).applyValidated([{ op: 'add', path: '/__proto__/polluted', value: 1 }]), TypeError, 'the prototype stays banned');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('random patches of a pod: same result as fast-json-patch, input untouched', async t => {
  const seg = fc.constantFrom('metadata', 'labels', 'spec', 'containers', 'env', '0', '1', '2', '-', 'name', 'a~1b');
  const op = fc.record({
    op: fc.constantFrom('add', 'replace', 'remove', 'copy', 'move'),
    path: fc.array(seg, { minLength: 1, maxLength: 5 }).map(s => '/' + s.join('/')),
    from: fc.array(seg, { minLength: 1, maxLength: 4 }).map(s => '/' + s.join('/')),
    value: fc.jsonValue({ maxDepth: 2 }),
  }).map(o => ({ op: o.op, path: o.path, ...(o.op === 'copy' || o.op === 'move' ? { from: o.from } : { value: o.value }) }) as PatchOperation);
  // fast-json-patch itself throws a TypeError on some (a move into its own child): so must this.
  const outcome = (f: () => unknown) => {
    try { return { value: f() }; } catch (e) { return { threw: (e as Error).constructor.name, message: (e as Error).message }; }
  };
  fc.assert(fc.property(fc.array(op, { maxLength: 6 }), (ops) => {
    const input = deepFreeze(pod());
    const want = outcome(() => fjp.validate(ops, pod()));
    const got = outcome(() => new CopyOnWrite(input).applyValidated(ops));
    if ('threw' in want || want.value) return JSON.stringify(got) === JSON.stringify(want);
    const cow = new CopyOnWrite(input);
    cow.applyValidated(ops);
    t.same(input, pod());
    return JSON.stringify(cow.root) === JSON.stringify(reference(pod(), ops));
  }), { numRuns: 1000 });
});

t.test('PatchBuilder leaves the object it is given alone', async t => {
  const input = deepFreeze(pod());
  const b = new PatchBuilder(input);
  b.append(['spec', 'containers', 0, 'env'], { name: 'B', value: '2' });
  b.set(['metadata', 'annotations', 'k'], 'v');
  b.append(['spec', 'containers'], { name: 'c' });
  b.append(['spec', 'containers', 2, 'env'], { name: 'C' });
  t.same(input, pod());
  t.same(b.ops[2], { op: 'add', path: '/spec/containers/-', value: { name: 'c' } }, 'an earlier operation keeps its value');
  t.same(b.get(['spec', 'containers', 2, 'env']), [{ name: 'C' }]);
});

// Random PatchBuilder calls, for the property tests below.
interface BuilderCall { kind: 'set' | 'append' | 'prepend' | 'remove'; segs: Array<string | number>; value: unknown }
const builderCall = (seg: fc.Arbitrary<string | number>, value: fc.Arbitrary<unknown>): fc.Arbitrary<BuilderCall> => fc.record({
  kind: fc.constantFrom<BuilderCall['kind']>('set', 'append', 'prepend', 'remove'),
  segs: fc.array(seg, { minLength: 1, maxLength: 5 }),
  value,
});
function callBuilder(b: PatchBuilder, c: BuilderCall): void {
  if (c.kind === 'remove') b.remove(c.segs);
  else b[c.kind](c.segs, c.value);
}

// PatchBuilder applies its operations to its working copy directly (not
// through fast-json-patch) where it can: the working copy must always be what
// fast-json-patch makes of the operations, and the input stay untouched.
t.test('random PatchBuilder calls: the working copy is fast-json-patch\'s result of its operations', async t => {
  const seg = fc.constantFrom<string | number>('metadata', 'labels', 'spec', 'containers', 'env', 'name', 0, 1, 2, 5, '0', '1', '01', '-', 'a/b', 'a~b', '', 'constructor', 'toString', 'length');
  const call = builderCall(seg, fc.jsonValue({ maxDepth: 2 }));
  // Unvalidated, prototype keys unbanned: how the builder always applied its operations.
  const reference = (ops: PatchOperation[]) => fjp.applyPatch(fjp.deepClone(pod()), fjp.deepClone(ops), false, true, false).newDocument;
  fc.assert(fc.property(fc.array(call, { maxLength: 8 }), (calls) => {
    const input = deepFreeze(pod());
    const b = new PatchBuilder(input);
    for (const c of calls) {
      try {
        callBuilder(b, c);
      } catch {
        break; // fast-json-patch's own refusal (an array length set to a string...), as before
      }
      if (JSON.stringify(b.doc) !== JSON.stringify(reference(b.ops))) return false;
    }
    t.same(input, pod());
    return true;
  }), { numRuns: 2000 });
});

// A builder's mutation carries its result only when validation would accept
// every operation: the pipeline then takes that result instead of applying
// the operations again, so the claim must hold for any calls.
t.test('PatchBuilder#mutation: a result only for operations validation accepts, and it is theirs', async t => {
  const seg = fc.constantFrom<string | number>('metadata', 'labels', 'spec', 'containers', 'env', 'name', 0, 1, 2, 5, '0', '01', '-', 'a/b', '', '__proto__', 'constructor', 'prototype', 'length');
  const call = builderCall(seg, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constant({ a: undefined }), fc.constant([NaN])));
  let withResult = 0;
  fc.assert(fc.property(fc.array(call, { minLength: 1, maxLength: 6 }), (calls) => {
    const input = deepFreeze(pod());
    const b = new PatchBuilder(input);
    for (const c of calls) {
      try {
        callBuilder(b, c);
      } catch {
        return true; // fast-json-patch's own refusal: no mutation is made
      }
    }
    const m = b.mutation(['w']);
    t.equal(m.patch, b.ops);
    if (!m.applied) return true;
    withResult++;
    if (m.applied.base !== input || m.applied.ops !== b.ops) return false;
    const copy = fjp.deepClone(m.patch);
    if (fjp.validate(copy, fjp.deepClone(pod())) !== undefined) return false;
    return JSON.stringify(reference(pod(), copy)) === JSON.stringify(m.applied.result) && JSON.stringify(copy) === JSON.stringify(m.patch);
  }), { numRuns: 3000 });
  t.ok(withResult > 100, `many mutations carry their result (${withResult})`);

  const undef = new PatchBuilder(pod());
  undef.set(['metadata', 'labels', 'x'], { a: undefined });
  t.notOk(undef.mutation().applied, 'a value that is not plain JSON: no result');
  const proto = new PatchBuilder(pod());
  proto.set(['metadata', '__proto__'], 'x');
  t.notOk(proto.mutation().applied, 'an operation fast-json-patch applies unvalidated: no result');
  t.notOk(new PatchBuilder(pod()).mutation().applied, 'no operations: nothing to take');
});

t.test('the pipeline re-applies a mutation built on another document than the one it was given', async t => {
  const endpoint = {
    path: '/x', name: 'x', expects: { group: '', kind: 'Pod' }, operations: ['CREATE'] as const, mutating: true,
    resolve: async () => ({ ctx: undefined }),
    mutators: [{ name: 'elsewhere', mutate: () => { const b = new PatchBuilder({ spec: { nothing: { here: 0 } } }); b.set(['spec', 'nothing', 'here'], 1); return b.mutation(); } }],
  };
  const request = { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE' as const, namespace: 'default', object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'i' }] } } };
  const out = await runPipeline(endpoint as never, request, { store: fixtureStore([]), config: { sidecarMode: 'injected', schedulerName: '' } });
  t.equal(out.response.allowed, false);
  t.match(out.response.status?.message, /mutator elsewhere produced a patch that does not apply/);
});

// Mutators are given the request's object itself (no deep copy any more): any
// write to it would throw here, where every fixture runs on a frozen object.
for (const endpoint of endpoints) {
  t.test(`${endpoint.name} fixtures on a frozen request: same outcome`, async t => {
    for (const dir of fixtureDirs(endpoint.name)) {
      const fx = loadFixture(endpoint as never, dir);
      const plain = await runPipeline(endpoint, structuredClone(fx.review.request), { store: fixtureStore(fx.resources), config: fx.config });
      const frozen = await runPipeline(endpoint, deepFreeze(structuredClone(fx.review.request)), { store: fixtureStore(fx.resources), config: fx.config });
      t.same(frozen, plain, basename(dir));
    }
  });
}

// The final check against the object as sent (managedFields included) runs
// only where it can differ from the mutators' checks, which skip managedFields.
t.test('the combined patch is checked against the object with its managedFields', async t => {
  const endpoint = (patch: PatchOperation[]) => ({
    path: '/x', name: 'x', expects: { group: '', kind: 'Pod' }, operations: ['CREATE'] as const, mutating: true,
    resolve: async () => ({ ctx: undefined }),
    mutators: [{ name: 'm', mutate: () => ({ patch, warnings: [] }) }],
  });
  const request = (withManagedFields: boolean) => deepFreeze({
    uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE' as const, namespace: 'default',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(withManagedFields ? { managedFields: [{ manager: 'kubectl', operation: 'Update' }] } : {}) }, spec: { containers: [{ name: 'a', image: 'i' }] } },
  });
  const deps = { store: fixtureStore([]), config: { sidecarMode: 'injected' as const, schedulerName: '' } };
  const meta = { name: 'p' };

  const test = await runPipeline(endpoint([{ op: 'test', path: '/metadata', value: meta }]) as never, request(true), deps);
  t.equal(test.response.allowed, false, 'a test that passes only without managedFields is caught');
  t.match(test.response.status?.message, /the combined patch does not apply to the original object/);
  t.equal((await runPipeline(endpoint([{ op: 'test', path: '/metadata', value: meta }]) as never, request(false), deps)).response.allowed, true, 'and passes on an object without them');

  const writes: PatchOperation[] = [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }, { op: 'replace', path: '/spec/containers/0/image', value: 'j' }, { op: 'remove', path: '/metadata/name' }];
  const ok = await runPipeline(endpoint(writes) as never, request(true), deps);
  t.equal(ok.response.allowed, true);
  t.same(ok.patch, writes);
  t.equal(fjp.validate(writes, structuredClone(request(true).object)), undefined, 'and it does apply to the object as sent');

  const onManaged = await runPipeline(endpoint([{ op: 'add', path: '/metadata/managedFields', value: [] }]) as never, request(true), deps);
  t.equal(onManaged.response.allowed, true, 'an add over managedFields applies to both');
});
