// The request body parser: strict UTF-8, JSON as JSON.parse reads it, and a
// nesting limit so that no recursive walk after the parse can exhaust the stack.
import t from 'tap';
import fc from 'fast-check';
import { parseJsonBody, MAX_JSON_DEPTH } from '../src/server/body.js';
import { BadReview } from '../src/admission/review.js';

const parse = (text: string | Buffer): unknown => parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text));

t.test('metadata.managedFields is parsed like every other field', async t => {
  const mf = [
    { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } },
  ];
  const text = JSON.stringify({ request: { object: { metadata: { name: 'p', managedFields: mf } } } });
  t.same(parse(text), JSON.parse(text));
});

t.test('bytes that are not UTF-8 JSON are refused', async t => {
  t.throws(() => parse(Buffer.alloc(0)), { name: 'BadReview', message: /empty/ }, 'an empty body');
  const invalidUtf8 = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
  t.throws(() => parse(invalidUtf8), { message: /not valid UTF-8/ }, 'invalid UTF-8');
  const bomFirst = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
  t.same(parse(bomFirst), { a: 1 }, 'a byte order mark first is dropped');
  const bomInside = Buffer.concat([Buffer.from('{"a":1}'), Buffer.from([0xef, 0xbb, 0xbf])]);
  t.throws(
    () => parse(bomInside),
    { message: /not valid JSON/ },
    'a U+FEFF after the value is a character, not a byte order mark',
  );
  t.throws(() => parse('{"a":1,}'), BadReview, 'a trailing comma');
});

t.test('nesting is limited', async t => {
  const nested = (levels: number) => `{"request":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
  t.ok(parse(nested(MAX_JSON_DEPTH)), 'at the limit: accepted');
  t.throws(() => parse(nested(MAX_JSON_DEPTH + 1)), { message: /deeper than 200 levels/ }, 'one more: refused');
  t.throws(
    () => parse('{"a":' + '{"b":'.repeat(100_000) + '1' + '}'.repeat(100_001)),
    { message: /deeper than 200 levels/ },
    'far deeper: refused, not a stack overflow',
  );
});

t.test('any JSON within the limit: what JSON.parse gives', async t => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), v => {
      const text = JSON.stringify(v);
      t.same(parse(text), JSON.parse(text));
      return true;
    }),
    { numRuns: 300 },
  );
});
