// Property-based tests of the Sidecar CR endpoints (defaulting and
// validation) over generated Sidecars: any spec, any JSON type in it, any
// name, CREATE and UPDATE with any stored version. The properties are those
// of test/helpers/fuzz-checks.ts; FUZZ_RUNS and FUZZ_SEED as in fuzz-pods.
import t from 'tap';
import fc from 'fast-check';
import { endpointByName } from './helpers/fixtures.js';
import { fuzzCase, fuzzParams, fuzzRuns } from './helpers/arbitraries.js';
import { checkCase } from './helpers/fuzz-checks.js';

const expectations: Record<string, (seen: Record<string, number>) => Array<[boolean, string]>> = {
  'sidecar-default': seen => [[seen.patched! > fuzzRuns() / 4, 'at least a quarter were defaulted']],
  'sidecar-validate': seen => [
    [seen.denied! > fuzzRuns() / 4, 'at least a quarter were refused'],
    [seen.allowed! > fuzzRuns() / 20, 'some were accepted'],
  ],
};

for (const [name, expect] of Object.entries(expectations)) {
  t.test(`${name}: any review keeps the admission properties`, async t => {
    const endpoint = endpointByName(name);
    const seen: Record<string, number> = { patched: 0, denied: 0, allowed: 0 };
    await fc.assert(
      fc.asyncProperty(fuzzCase(endpoint), async c => {
        const { first } = await checkCase(endpoint, c);
        seen[first.response.allowed ? (first.patch.length ? 'patched' : 'allowed') : 'denied']!++;
      }),
      fuzzParams(),
    );
    t.comment(`${name}: ${JSON.stringify(seen)}`);
    for (const [ok, what] of expect(seen)) t.ok(ok, `${what} (${JSON.stringify(seen)})`);
  });
}
