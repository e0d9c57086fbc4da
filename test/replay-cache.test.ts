// The server's replay cache must give, for every body, exactly what parsing
// it gives (or refuse it the same way): a remembered parse is reused only for
// a body that differs from a remembered one inside request.uid's characters.
import t from 'tap';
import fc from 'fast-check';
import { ReplayCache } from '../src/server/replay-cache.js';
import { parseJsonBody, parseJsonBodyAt } from '../src/server/body.js';
import { isDeepFrozen } from '../src/immutable.js';

type Doc = Record<string, any>;

const MF = [{ manager: 'kube-controller-manager', operation: 'Update', time: '2026-11-21T10:00:00Z', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }];
const pod = { metadata: { generateName: 'web-5f7c9-', namespace: 'ns', labels: { app: 'web' }, managedFields: MF }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
const reviewText = (uid: string, object: unknown = pod, extra = '') =>
  `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":${JSON.stringify(uid)},"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"ns"${extra},"object":${JSON.stringify(object)},"oldObject":null}}`;
const UID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** What the cache must give: the parser's answer, or its error message. */
function direct(body: Buffer): Doc | string {
  try { return parseJsonBody(body) as Doc; } catch (e) { return (e as Error).message; }
}
function cached(cache: ReplayCache, body: Buffer): Doc | string {
  try { return cache.parse(body) as Doc; } catch (e) { return (e as Error).message; }
}

t.test('the same pod again with another uid: parsed twice, then replayed with the new uid', async t => {
  const cache = new ReplayCache();
  const bodies = [1, 2, 3, 4].map(n => Buffer.from(reviewText(UID(n))));
  const out = bodies.map(b => cache.parse(b) as Doc);
  t.equal(cache.hits, 2, 'the third and fourth are replays');
  for (let i = 0; i < 4; i++) t.same(out[i], parseJsonBody(bodies[i]!), `review ${i + 1} is what parsing gives`);
  t.equal(out[3]!.request.uid, UID(4));
  t.equal(out[2]!.request.object, out[3]!.request.object, 'replays share the object');
  t.ok(isDeepFrozen(out[3]!.request.object), 'which is frozen');
  t.notOk(isDeepFrozen(out[0]!.request.object), 'the first parse is the caller\'s own');
  t.throws(() => { out[3]!.request.object.spec.containers[0].image = 'evil'; }, TypeError, 'a write to a shared object throws');
  t.throws(() => { out[3]!.request.object.metadata.labels.x = 'y'; }, TypeError);
  t.equal(out[2]!.request.uid, UID(3), 'an earlier answer keeps its uid');
});

t.test('bodies that differ elsewhere, or in the uid\'s length or characters, are parsed', async t => {
  const cache = new ReplayCache();
  const seed = (text: string) => { cache.parse(Buffer.from(text)); cache.parse(Buffer.from(text)); };
  seed(reviewText(UID(1)));
  const hits = cache.hits;
  const cases: Array<[string, string]> = [
    ['another label', reviewText(UID(2), { ...pod, metadata: { ...pod.metadata, labels: { app: 'wen' } } })],
    ['a longer uid', reviewText(UID(2) + 'x')],
    ['a quote in the uid (escaped)', reviewText(UID(2).slice(0, -2) + '"')],
    ['a backslash escape of the same length', reviewText(UID(2)).replace(UID(2), UID(2).slice(0, -6) + '\\u0041')],
    ['a non-ASCII uid', reviewText(UID(2).slice(0, -2) + 'é')],
    ['another namespace of the same length', reviewText(UID(2)).replace('"namespace":"ns"', '"namespace":"nt"')],
  ];
  for (const [name, text] of cases) {
    const body = Buffer.from(text);
    t.same(cache.parse(body), parseJsonBody(body), name);
  }
  t.equal(cache.hits, hits, 'none was a replay');
});

t.test('a second uid member wins as in JSON.parse, and the replay follows it', async t => {
  const cache = new ReplayCache();
  const text = (a: string, b: string) => reviewText(a, pod, `,"uid":${JSON.stringify(b)}`);
  for (const [a, b] of [[UID(1), UID(2)], [UID(1), UID(3)], [UID(1), UID(4)], [UID(9), UID(4)]]) {
    const body = Buffer.from(text(a!, b!));
    t.same(cache.parse(body), JSON.parse(body.toString()) && parseJsonBody(body), `uid ${a} then ${b}`);
  }
  t.equal(cache.hits, 1, 'only the body equal outside the last uid was a replay');
  const { uid } = parseJsonBodyAt(Buffer.from(reviewText(UID(1), pod, ',"uid":7')));
  t.equal(uid, undefined, 'a last uid that is not a string: nothing to replay on');
});

t.test('reviews that do not decode are never replayed, and 0 entries turns replay off', async t => {
  const notReview = Buffer.from(reviewText(UID(1)).replace('"operation":"CREATE"', '"operation":"EXPLODE"'));
  const cache = new ReplayCache();
  for (let i = 0; i < 3; i++) cache.parse(notReview);
  t.equal(cache.hits, 0);
  const off = new ReplayCache(0);
  for (let i = 0; i < 3; i++) off.parse(Buffer.from(reviewText(UID(i))));
  t.equal(off.hits, 0);
});

t.test('only the most recent bodies are kept', async t => {
  const cache = new ReplayCache(2);
  const body = (app: string, n: number) => Buffer.from(reviewText(UID(n), { ...pod, metadata: { ...pod.metadata, labels: { app } } }));
  for (const app of ['a', 'b']) { cache.parse(body(app, 1)); cache.parse(body(app, 2)); }
  cache.parse(body('a', 3));
  t.equal(cache.hits, 1, 'a is still kept');
  cache.parse(body('c', 1));
  cache.parse(body('b', 4));
  t.equal(cache.hits, 1, 'b, least recently used, made way for c');
});

t.test('property: whatever the second body, the cache answers as the parser does', async t => {
  // Second bodies made from the first by edits aimed at the uid and what surrounds it.
  const uidChars = fc.constantFrom('a', 'Z', '0', '-', '"', '\\', ' ', 'é', '\u0000', '}', ',', '\u2028');
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('uid' as const), text: fc.array(uidChars, { minLength: 0, maxLength: 40 }).map(cs => cs.join('')) }),
    // The uid's own length, mostly plain characters: the cache answers from memory, or must see why not.
    fc.record({ kind: fc.constant('uid' as const), text: fc.array(fc.oneof({ weight: 30, arbitrary: fc.constantFrom('a', '0', '-') }, { weight: 1, arbitrary: uidChars }), { minLength: 36, maxLength: 36 }).map(cs => cs.join('')) }),
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  );
  let replays = 0;
  fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
    const cache = new ReplayCache();
    const first = Buffer.from(reviewText(UID(1)));
    cache.parse(first);
    cache.parse(first);
    for (const e of edits) {
      let body: Buffer;
      if (e.kind === 'uid') {
        // Raw characters between the quotes of request.uid: may break the JSON, or not.
        body = Buffer.from(reviewText(UID(1)).replace(UID(1), e.text));
      } else if (e.kind === 'byte') {
        body = Buffer.from(first);
        body[e.at % body.length] = e.byte;
      } else {
        body = first.subarray(0, e.at % first.length);
      }
      const want = direct(body);
      const got = cached(cache, body);
      if (JSON.stringify(got) !== JSON.stringify(want)) return false;
      if (typeof want !== 'string' && (want as Doc).request?.uid !== (got as Doc).request?.uid) return false;
    }
    replays += cache.hits;
    return true;
  }), { numRuns: 3000 });
  t.ok(replays > 100, `the runs replayed (${replays} times), so the replay path was checked`);
});
