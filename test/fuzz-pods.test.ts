// Property-based tests of the three pod endpoints over generated reviews and
// clusters (test/helpers/arbitraries.ts): whatever the pod, the store and the
// config, the properties of test/helpers/fuzz-checks.ts hold. FUZZ_RUNS sets
// the runs per endpoint (default 2000), FUZZ_SEED replays a failure.
import t from 'tap';
import fc from 'fast-check';
import { endpointByName } from './helpers/fixtures.js';
import { fuzzCase, fuzzParams, fuzzRuns } from './helpers/arbitraries.js';
import { checkCase } from './helpers/fuzz-checks.js';

for (const name of ['sidecar', 'operation', 'scheduling']) {
  t.test(`${name}: any review keeps the admission properties`, async t => {
    const endpoint = endpointByName(name);
    const seen = { patched: 0, denied: 0, allowed: 0 };
    await fc.assert(
      fc.asyncProperty(fuzzCase(endpoint), async c => {
        const { first } = await checkCase(endpoint, c, { structural: true });
        seen[first.response.allowed ? (first.patch.length ? 'patched' : 'allowed') : 'denied']++;
      }),
      fuzzParams(),
    );
    t.comment(`${name}: ${JSON.stringify(seen)}`);
    // The generators must reach the interesting paths, or the property proves little.
    t.ok(seen.patched > fuzzRuns() / 10, `at least a tenth of the reviews were patched (${seen.patched})`);
    t.ok(seen.denied > 0, `some were denied (${seen.denied})`);
  });
}
