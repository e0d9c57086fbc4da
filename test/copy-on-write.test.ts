// Patches are applied copy-on-write (src/jsonpatch/copy-on-write.ts) instead of
// on deep clones: the draft must always be what fast-json-patch makes of the
// operations, and nothing the pipeline is given may ever be written to.
import t from 'tap';
import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { basename } from 'node:path';
import { PatchBuilder } from '../src/jsonpatch/patch.js';
import type { PatchOperation } from '../src/admission/mutator.js';
import { endpoints } from '../src/endpoints/table.js';
import { runPipeline } from '../src/admission/run.js';
import { fixtureDirs, fixtureStore, loadFixture } from './helpers/fixtures.js';

/** Freezes parsed JSON all the way down, so a write to it throws. */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

const pod = () => ({
  metadata: { name: 'p', labels: { app: 'x' }, annotations: {} },
  spec: { containers: [{ name: 'a', env: [{ name: 'A', value: '1' }] }, { name: 'b' }], volumes: [] as unknown[] },
});

t.test('a value added by one operation is not rewritten by a later one', async t => {
  const value = { name: 'c', env: [] as unknown[] };
  const b = new PatchBuilder(pod());
  b.append(['spec', 'containers'], value);
  b.append(['spec', 'containers', 2, 'env'], { name: 'later' });
  t.same(value, { name: 'c', env: [] }, 'the first operation still adds an empty env');
  t.same(b.get(['spec', 'containers', 2]), { name: 'c', env: [{ name: 'later' }] });
});

t.test('a snapshot stays as it was while later operations write', async t => {
  const b = new PatchBuilder(deepFreeze(pod()));
  b.append(['spec', 'containers', 0, 'env'], { name: 'B', value: '2' });
  const seen = b.snapshot() as ReturnType<typeof pod>;
  const copy = structuredClone(seen);
  b.append(['spec', 'containers', 0, 'env'], { name: 'C', value: '3' });
  b.set(['metadata', 'labels', 'app'], 'y');
  t.same(seen, copy, 'what the next mutator reads does not change under it');
  t.equal((b.doc as ReturnType<typeof pod>).spec.containers[0]!.env!.length, 3);
});

t.test('PatchBuilder leaves the object it is given alone', async t => {
  const input = deepFreeze(pod());
  const b = new PatchBuilder(input);
  b.append(['spec', 'containers', 0, 'env'], { name: 'B', value: '2' });
  b.set(['metadata', 'annotations', 'k'], 'v');
  b.append(['spec', 'containers'], { name: 'c' });
  b.append(['spec', 'containers', 2, 'env'], { name: 'C' });
  t.same(input, pod());
  t.same(
    b.ops[2],
    { op: 'add', path: '/spec/containers/-', value: { name: 'c' } },
    'an earlier operation keeps its value',
  );
  t.same(b.get(['spec', 'containers', 2, 'env']), [{ name: 'C' }]);
});

// Random PatchBuilder calls, for the property tests below.
interface BuilderCall {
  kind: 'set' | 'append' | 'prepend';
  segs: Array<string | number>;
  value: unknown;
}
const builderCall = (seg: fc.Arbitrary<string | number>, value: fc.Arbitrary<unknown>): fc.Arbitrary<BuilderCall> =>
  fc.record({
    kind: fc.constantFrom<BuilderCall['kind']>('set', 'append', 'prepend'),
    segs: fc.array(seg, { minLength: 1, maxLength: 5 }),
    value,
  });
function callBuilder(b: PatchBuilder, c: BuilderCall): void {
  b[c.kind](c.segs, c.value);
}

// PatchBuilder applies its operations to its working copy directly (not
// through fast-json-patch) where it can: the working copy must always be what
// fast-json-patch makes of the operations, and the input stay untouched.
t.test("random PatchBuilder calls: the working copy is fast-json-patch's result of its operations", async t => {
  const seg = fc.constantFrom<string | number>(
    'metadata',
    'labels',
    'spec',
    'containers',
    'env',
    'name',
    0,
    1,
    2,
    5,
    '0',
    '1',
    '01',
    '-',
    'a/b',
    'a~b',
    '',
    'constructor',
    'toString',
    'length',
  );
  const call = builderCall(seg, fc.jsonValue({ maxDepth: 2 }));
  // Unvalidated, prototype keys unbanned: how the builder always applied its operations.
  const reference = (ops: PatchOperation[]) =>
    fjp.applyPatch(fjp.deepClone(pod()), fjp.deepClone(ops), false, true, false).newDocument;
  fc.assert(
    fc.property(fc.array(call, { maxLength: 8 }), calls => {
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
    }),
    { numRuns: 2000 },
  );
});

// Mutators are given the request's object itself (no deep copy any more): any
// write to it would throw here, where every fixture runs on a frozen object.
for (const endpoint of endpoints) {
  t.test(`${endpoint.name} fixtures on a frozen request: same outcome`, async t => {
    for (const dir of fixtureDirs(endpoint.name)) {
      const fx = loadFixture(endpoint as never, dir);
      const plain = await runPipeline(endpoint, structuredClone(fx.review.request), {
        store: fixtureStore(fx.resources),
        config: fx.config,
      });
      const frozen = await runPipeline(endpoint, deepFreeze(structuredClone(fx.review.request)), {
        store: fixtureStore(fx.resources),
        config: fx.config,
      });
      t.same(frozen, plain, basename(dir));
    }
  });
}
