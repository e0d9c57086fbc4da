// Every fixture directory is a test: the patch applied to the request's
// object gives expected.yaml (or the denial is the expected one), and the
// result sent through the same endpoint again gives no patch (reinvocation).
import t from 'tap';
import { basename } from 'node:path';
import { endpoints } from '../src/endpoints/table.js';
import { runPipeline } from '../src/admission/run.js';
import type { AdmissionReview } from '../src/admission/types.js';
import { fixtureDirs, fixtureStore, loadFixture, writeExpected } from './helpers/fixtures.js';
import { patchedCopy } from '../src/jsonpatch/patched-copy.js';

const update = process.env.UPDATE_FIXTURES === '1';

for (const endpoint of endpoints) {
  const dirs = fixtureDirs(endpoint.name);
  if (!dirs.length) continue;
  t.test(endpoint.name, async t => {
    for (const dir of dirs) {
      t.test(basename(dir), async t => {
        const fx = loadFixture(endpoint as never, dir);
        const store = fixtureStore(fx.resources);
        const deps = { store, config: fx.config };
        const out = await runPipeline(endpoint, fx.review.request, deps);
        for (const w of fx.expectedWarnings) {
          t.ok((out.response.warnings ?? []).some(x => x.includes(w)), `a warning contains ${JSON.stringify(w)}`, { found: out.response.warnings });
        }
        if (fx.expectedDenial !== undefined) {
          t.equal(out.response.allowed, false, 'denied');
          t.match(out.response.status?.message ?? '', fx.expectedDenial, 'denial message');
          t.same(out.patch, [], 'a denial carries no patch');
          return;
        }
        t.equal(out.response.allowed, true, `allowed (${out.response.status?.message ?? ''})`);
        t.equal(!!out.response.patch, out.patch.length > 0, 'patch field only with a change');
        t.equal(!!out.response.patchType, out.patch.length > 0, 'patchType only with a patch');
        const result = patchedCopy(fx.review.request.object, out.patch);
        if (update) writeExpected(dir, result);
        else t.same(result, fx.expected, 'patched object is expected.yaml');

        const writes = store.writes.length;
        const again: AdmissionReview = { ...fx.review, request: { ...fx.review.request, uid: `${fx.review.request.uid}-again`, object: result } };
        const second = await runPipeline(endpoint, again.request, deps);
        t.equal(second.response.allowed, true, 'reinvocation allowed');
        t.same(second.patch, [], 'reinvocation gives no patch');
        t.equal(store.writes.length, writes, 'reinvocation writes nothing');
      });
    }
  });
}
