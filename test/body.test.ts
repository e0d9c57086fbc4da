// The request body parser sets the objects' metadata.managedFields aside
// instead of building them. It must still accept and refuse exactly what
// JSON.parse accepts and refuses, and give the same document otherwise.
import t from 'tap';
import fc from 'fast-check';
import { parseJsonBody, MAX_JSON_DEPTH } from '../src/server/body.js';
import { scanReview } from '../src/server/json-scan.js';
import { BadReview } from '../src/admission/review.js';

type Doc = Record<string, any>;

const review = (object: unknown, oldObject: unknown = null) => ({
  apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'UPDATE', object, oldObject },
});
const MF = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'k:{"name":"app"}': {} } } }];
const pod = (managedFields: unknown = MF) => ({ metadata: { name: 'p', managedFields, labels: { app: 'a' } }, spec: { containers: [{ name: 'app' }] } });

/** What JSON.parse gives, with the managedFields the parser sets aside as null. */
function expected(text: string): Doc {
  const doc = JSON.parse(text);
  for (const owner of ['object', 'oldObject']) {
    const meta = doc?.request?.[owner]?.metadata;
    if (meta && typeof meta === 'object' && Array.isArray(meta.managedFields)) meta.managedFields = null;
  }
  return doc;
}

function parse(text: string | Buffer): Doc {
  return parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text)) as Doc;
}

t.test('request.object and request.oldObject managedFields are set aside', async t => {
  const text = JSON.stringify(review(pod(), pod([{ manager: 'old' }])));
  const doc = parse(text);
  t.equal(doc.request.object.metadata.managedFields, null, 'object: a placeholder');
  t.equal(doc.request.oldObject.metadata.managedFields, null, 'oldObject: a placeholder');
  t.same(doc, expected(text), 'everything else as JSON.parse gives it');
  t.equal(scanReview(Buffer.from(text), MAX_JSON_DEPTH).spans.length, 2);
});

t.test('managedFields anywhere else is parsed as usual', async t => {
  const cases: Array<[string, unknown]> = [
    ['top level', { ...review({ metadata: { name: 'p' } }), managedFields: MF }],
    ['request', { ...review(null), request: { ...review(null).request, managedFields: MF } }],
    ['object itself', review({ managedFields: MF, metadata: { name: 'p' } })],
    ['spec.metadata', review({ metadata: { name: 'p' }, spec: { template: { metadata: { managedFields: MF } } } })],
    ['metadata in an array', review([{ metadata: { managedFields: MF } }])],
    ['a string value', review({ metadata: { name: '"managedFields":[1]', annotations: { a: '{"metadata":{"managedFields":[2]}}' } } })],
    ['not an array', review(pod({ manager: 'x' }), pod('text'))],
    ['null', review(pod(null))],
    ['dryRun object', { ...review(null), request: { ...review(null).request, dryRunObject: pod() } }],
  ];
  const texts: Array<[string, string]> = [
    ...cases.map(([name, value]): [string, string] => [name, JSON.stringify(value)]),
    // The same key once unescaped; JSON.parse builds it, as any unrecognised key.
    ['an escaped key', '{"request":{"object":{"metadata":{"manag\\u0065dFields":[1]}}}}'],
  ];
  for (const [name, text] of texts) {
    t.same(parse(text), JSON.parse(text), name);
    t.equal(scanReview(Buffer.from(text), MAX_JSON_DEPTH).spans.length, 0, `${name}: nothing set aside`);
  }
});

t.test('invalid JSON inside managedFields is refused as JSON.parse refuses it', async t => {
  const bad = ['[1,]', '[01]', '[-]', '[1.]', '[1e]', '[tru]', '[nul]', '["a\\x"]', '["\\u12g4"]', '["a\tb"]', '[{"a" 1}]', '[{"a":1,}]', '[{1:2}]', '[[]', '[1 2]', '[+1]', '[.5]', '["unterminated]'];
  for (const mf of bad) {
    const text = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"metadata":{"managedFields":${mf}}}}}`;
    t.throws(() => JSON.parse(text), SyntaxError, `${mf}: JSON.parse refuses it`);
    t.throws(() => parse(text), { name: 'BadReview', message: /not valid JSON/ }, `${mf}: refused`);
  }
  const good = ['[]', '[ ]', '[0,-0,1.5e+3,2E-2,-0.0]', '["\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"]', '[{},{"a":[true,false,null]}]', '[\n\t{ "a" : 1 } ]', '["é"]'];
  for (const mf of good) {
    const text = `{"request":{"object":{"metadata":{"managedFields":${mf}}}}}`;
    const doc = parse(text);
    t.equal(doc.request.object.metadata.managedFields, null, `${mf}: set aside`);
  }
});

t.test('bytes around the set-aside value', async t => {
  const invalidUtf8 = Buffer.concat([Buffer.from('{"request":{"object":{"metadata":{"managedFields":["'), Buffer.from([0xff]), Buffer.from('"]}}}}')]);
  t.throws(() => parse(invalidUtf8), { message: /not valid UTF-8/ }, 'invalid UTF-8 inside it');
  const bomAfter = Buffer.concat([Buffer.from('{"request":{"object":{"metadata":{"managedFields":[1]'), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('}}}}')]);
  t.throws(() => parse(bomAfter), { message: /not valid JSON/ }, 'a U+FEFF right after it is a character, not a byte order mark');
  const bomFirst = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"request":{"object":{"metadata":{"managedFields":[1]}}}}')]);
  t.same(parse(bomFirst), { request: { object: { metadata: { managedFields: null } } } }, 'a byte order mark first is dropped, as before');
  t.throws(() => parse('{"request":{"object":{"metadata":{"managedFields" [1]}}}}'), BadReview, 'no colon');
  t.throws(() => parse('{"request":{"object":{"metadata":{"managedFields":[1][2]}}}}'), BadReview, 'two values');
  t.throws(() => parse('{"request":{"object":{"metadata":{,"managedFields":[1]}}}}'), BadReview, 'a comma before the key');
  t.throws(() => parse('{"request":{"object":{"metadata":["managedFields":[1]]}}}'), BadReview, 'in an array');
});

t.test('nesting is limited inside managedFields too', async t => {
  const nested = (levels: number) => `{"request":{"object":{"metadata":{"managedFields":${'['.repeat(levels)}${']'.repeat(levels)}}}}}`;
  // The metadata object is at depth 4: managedFields may nest MAX - 4 levels.
  t.equal(parse(nested(MAX_JSON_DEPTH - 4)).request.object.metadata.managedFields, null, 'at the limit: accepted');
  t.throws(() => parse(nested(MAX_JSON_DEPTH - 3)), { message: /deeper than 200 levels/ }, 'one more: refused');
  t.throws(() => parse('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)), { message: /deeper than 200 levels/ }, 'outside it too');
});

// Reviews whose managedFields are arbitrary JSON, laid out in any style.
const layout = fc.constantFrom<[number | string | undefined]>([undefined], [2], ['\t'], [' \n ']);
const reviewText = fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }), fc.boolean(), layout).map(([a, b, withOld, [indent]]) =>
  JSON.stringify(review(pod(Array.isArray(a) ? a : [a]), withOld ? pod(Array.isArray(b) ? b : [b]) : null), null, indent as never));

t.test('valid reviews: the same document as JSON.parse, managedFields set aside', async t => {
  fc.assert(fc.property(reviewText, (text) => {
    t.same(parse(text), expected(text));
    return true;
  }), { numRuns: 300 });
});

// Edits that break JSON in the ways that matter: structure and string boundaries.
// Most land in or next to the first managedFields (from its key to the labels after it).
const edit = fc.tuple(fc.nat(), fc.boolean(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom(...'[]{}:,"\\ 0-1.eE+tnf\u0001x'.split('')));

t.test('edited reviews: refused exactly when JSON.parse refuses them, the same document otherwise', async t => {
  fc.assert(fc.property(reviewText, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
    let s = text;
    for (const [at, anywhere, kind, ch] of edits) {
      const from = s.indexOf('"managedFields"'), to = s.indexOf('"labels"', from);
      const i = anywhere || from < 0 || to < 0 ? at % (s.length + 1) : from + (at % (to - from));
      s = kind === 'delete' ? s.slice(0, i) + s.slice(i + 1) : kind === 'insert' ? s.slice(0, i) + ch + s.slice(i) : s.slice(0, i) + ch + s.slice(i + 1);
    }
    let want: Doc | undefined;
    try { want = expected(s); } catch { want = undefined; }
    let got: Doc | undefined;
    try { got = parse(s); } catch (e) {
      if (!(e instanceof BadReview)) throw e;
      got = undefined;
    }
    if (want === undefined) return got === undefined;
    t.same(got, want);
    return got !== undefined;
  }), { numRuns: 5000 });
});
