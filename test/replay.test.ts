// The pipeline reuses its pure work for a frozen object it has seen (the
// server's replays of identical pods). Reuse must never change an answer:
// every fixture gives the same outcome replayed as computed, a context that
// changed is not served from memory, and the replay keys leave out only what
// the mutators do not read.
import t from 'tap';
import { basename } from 'node:path';
import { endpoints } from '../src/pipeline/endpoints.js';
import { runPipeline, type Outcome } from '../src/pipeline/run.js';
import { freezeRequestObjects, PipelineReplay } from '../src/pipeline/replay.js';
import { sidecarReplayKey } from '../src/pipeline/resolve-sidecar.js';
import { injectSidecar, type SidecarContext } from '../src/mutators/inject-sidecar.js';
import type { AdmissionRequest, JsonObject } from '../src/admission/types.js';
import type { Sidecar } from '../src/vineyard/sidecar.js';
import { fixtureDirs, fixtureStore, loadFixture } from './helpers/fixtures.js';

/** The request as the server's replay cache hands it out: objects deep-frozen, a new uid. */
function frozenRequest(req: AdmissionRequest): AdmissionRequest {
  const copy = structuredClone(req);
  freezeRequestObjects(copy);
  return copy;
}
const withUid = (req: AdmissionRequest, uid: string): AdmissionRequest => ({ ...req, uid });
const answer = (o: Outcome) => ({ response: o.response, decision: o.decision, patch: o.patch, reason: o.reason, category: o.category });

for (const endpoint of endpoints) {
  const dirs = fixtureDirs(endpoint.name);
  if (!dirs.length) continue;
  t.test(`${endpoint.name}: every fixture answers the same replayed`, async t => {
    for (const dir of dirs) {
      const fx = loadFixture(endpoint as never, dir);
      const computed = await runPipeline(endpoint, fx.review.request, { store: fixtureStore(fx.resources), config: fx.config });
      const replay = new PipelineReplay();
      const deps = { store: fixtureStore(fx.resources), config: fx.config, replay };
      const base = frozenRequest(fx.review.request);
      for (let i = 1; i <= 3; i++) {
        const out = await runPipeline(endpoint, withUid(base, `${base.uid}-${i}`), deps);
        t.same(answer(out), answer(computed), `${basename(dir)}: review ${i}`);
      }
      // Mutator results are kept only when the pipeline reached the mutators.
      if (replay.hits) t.equal(replay.hits, 2, `${basename(dir)}: reviews 2 and 3 reused the mutators' work`);
    }
  });
}

t.test('the replay path is taken where it can be', async t => {
  const sidecar = endpoints.find(e => e.name === 'sidecar')!;
  const fx = loadFixture(sidecar as never, fixtureDirs('sidecar').find(d => d.endsWith('/default-deployment'))!);
  const replay = new PipelineReplay();
  const store = fixtureStore(fx.resources);
  const base = frozenRequest(fx.review.request);
  for (let i = 0; i < 4; i++) await runPipeline(sidecar, withUid(base, `u${i}`), { store, config: fx.config, replay });
  t.equal(replay.hits, 3);
  const counts = store.writes.filter(w => w.kind === 'sidecars');
  t.same(counts.map(w => w.verb), ['create', 'update', 'update', 'update'], 'every replayed pod was still counted in the default Sidecar');
  const cr = await store.getSidecar(counts[0]!.namespace, counts[0]!.name);
  t.equal(cr?.spec?.replicas, 4);
});

t.test('an object that is not frozen, or a request that differs beyond its uid, is computed', async t => {
  const sidecar = endpoints.find(e => e.name === 'sidecar')!;
  const fx = loadFixture(sidecar as never, fixtureDirs('sidecar').find(d => d.endsWith('/custom-sidecar-sample'))!);
  const replay = new PipelineReplay();
  const deps = { store: fixtureStore(fx.resources), config: fx.config, replay };
  await runPipeline(sidecar, fx.review.request, deps);
  await runPipeline(sidecar, withUid(fx.review.request, 'again'), deps);
  t.equal(replay.hits, 0, 'a plain object is never taken for the same');
  const base = frozenRequest(fx.review.request);
  await runPipeline(sidecar, base, deps);
  const dry = await runPipeline(sidecar, { ...base, uid: 'dry', dryRun: true }, deps);
  const otherNs = await runPipeline(sidecar, { ...base, uid: 'ns', namespace: 'elsewhere' }, deps);
  t.equal(replay.hits, 0, 'dryRun and namespace are part of what must match');
  t.equal(dry.response.allowed, true);
  t.equal(otherNs.response.allowed, false, 'the Sidecar CR is looked up in the other namespace, where there is none');
});

t.test('a Sidecar CR that changed is not served from memory', async t => {
  const sidecar = endpoints.find(e => e.name === 'sidecar')!;
  const fx = loadFixture(sidecar as never, fixtureDirs('sidecar').find(d => d.endsWith('/custom-sidecar-sample'))!);
  const replay = new PipelineReplay();
  const store = fixtureStore(fx.resources);
  const deps = { store, config: fx.config, replay };
  const base = frozenRequest(fx.review.request);
  const ns = base.namespace!;
  const first = await runPipeline(sidecar, withUid(base, 'u1'), deps);
  const cr = (await store.getSidecar(ns, 'sidecar-sample'))!;
  await store.updateSidecar(ns, { ...cr, spec: { ...cr.spec, vineyard: { ...cr.spec?.vineyard, image: 'registry.example/vineyardd:next' } } });
  const second = await runPipeline(sidecar, withUid(base, 'u2'), deps);
  t.equal(replay.hits, 0, 'the new spec gives another replay key');
  t.not(second.response.patch, first.response.patch);
  t.match(JSON.stringify(second.patch), /registry\.example\/vineyardd:next/, 'the patch has the new image');
  const third = await runPipeline(sidecar, withUid(base, 'u3'), deps);
  t.equal(replay.hits, 1);
  t.same(third.patch, second.patch);
});

t.test('the sidecar replay key leaves out only what injection does not read', async t => {
  const sidecar = endpoints.find(e => e.name === 'sidecar')!;
  const variants: Array<[string, (s: Sidecar) => Sidecar]> = [
    ['replicas', s => ({ ...s, spec: { ...s.spec, replicas: (s.spec?.replicas ?? 0) + 17 } })],
    ['no replicas', s => { const { replicas: _r, ...spec } = s.spec ?? {}; return { ...s, spec }; }],
    ['resourceVersion', s => ({ ...s, metadata: { ...s.metadata, resourceVersion: '98765' } })],
    ['generation', s => ({ ...s, metadata: { ...s.metadata, generation: 42 } })],
    ['managedFields', s => ({ ...s, metadata: { ...s.metadata, managedFields: [{ manager: 'vineyard-operator', operation: 'Update' }] } })],
    ['status', s => ({ ...s, status: { current: 3, ready: true } })],
  ];
  let checked = 0;
  for (const dir of fixtureDirs('sidecar')) {
    const fx = loadFixture(sidecar as never, dir);
    if (!fx.review.request.object || fx.review.request.operation !== 'CREATE') continue;
    const resolved = await sidecar.resolve({ req: fx.review.request, obj: fx.review.request.object as JsonObject, store: fixtureStore(fx.resources), config: fx.config, progress: { step: '' }, call: {} });
    if (!('ctx' in resolved)) continue;
    const ctx = resolved.ctx as SidecarContext;
    const want = injectSidecar(fx.review.request, fx.review.request.object as never, ctx);
    for (const [name, vary] of variants) {
      const other: SidecarContext = { ...ctx, sidecar: vary(ctx.sidecar) };
      t.equal(sidecarReplayKey(other), sidecarReplayKey(ctx), `${basename(dir)}: ${name} leaves the key`);
      const got = injectSidecar(fx.review.request, fx.review.request.object as never, other);
      t.same({ patch: got.patch, warnings: got.warnings, denial: got.denial }, { patch: want.patch, warnings: want.warnings, denial: want.denial }, `${basename(dir)}: ${name} leaves the injection`);
    }
    checked++;
  }
  t.ok(checked >= 10, `checked ${checked} fixtures with a context`);
  const ctx: SidecarContext = { mode: 'injected', sidecar: { metadata: { name: 'a', namespace: 'n', uid: 'u' }, spec: { selector: 'app=a' } } };
  for (const [name, other] of [
    ['mode', { ...ctx, mode: 'native' }],
    ['name', { ...ctx, sidecar: { ...ctx.sidecar, metadata: { ...ctx.sidecar.metadata, name: 'b' } } }],
    ['uid', { ...ctx, sidecar: { ...ctx.sidecar, metadata: { ...ctx.sidecar.metadata, uid: 'v' } } }],
    ['a spec field', { ...ctx, sidecar: { ...ctx.sidecar, spec: { ...ctx.sidecar.spec, selector: 'app=b' } } }],
  ] as Array<[string, SidecarContext]>) {
    t.not(sidecarReplayKey(other), sidecarReplayKey(ctx), `${name} changes the key`);
  }
});
