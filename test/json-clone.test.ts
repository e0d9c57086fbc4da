// The fast copies stand in for structuredClone and for fast-json-patch's JSON
// round trip: they must give exactly what those give, on plain data and on
// anything odd (which they hand over).
import t from 'tap';
import fc from 'fast-check';
import { cloneJson, jsonCopy } from '../src/json-clone.js';

const roundTrip = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.parse(JSON.stringify(v)) : v === undefined ? null : v);

// Plain data with what JSON and structuredClone treat differently mixed in.
const odd = fc.oneof(fc.constant(undefined), fc.constant(NaN), fc.constant(Infinity), fc.date({ noInvalidDate: true }), fc.constant(-0));
const value = fc.letrec(tie => ({
  v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), odd,
    fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('v'), { maxKeys: 4 })),
})).v;

t.test('jsonCopy is JSON.parse(JSON.stringify()), member for member', async t => {
  fc.assert(fc.property(value, (v) => {
    t.same(jsonCopy(v), roundTrip(v));
    return JSON.stringify(jsonCopy(v)) === JSON.stringify(roundTrip(v));
  }), { numRuns: 2000 });
  t.equal(jsonCopy(undefined), null, 'undefined becomes null, as in fast-json-patch');
  t.same(jsonCopy([1, , 3]), [1, null, 3], 'a hole becomes null');
  t.same(jsonCopy({ a: { toJSON: () => 'x' } }), { a: 'x' }, 'toJSON is honoured');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.throws(() => jsonCopy(cyclic), TypeError, 'a cycle is refused as JSON.stringify refuses it');
});

t.test('cloneJson is structuredClone', async t => {
  fc.assert(fc.property(value, (v) => {
    const a = cloneJson(v);
    const b = structuredClone(v);
    t.same(a, b);
    return Object.is(JSON.stringify(a), JSON.stringify(b));
  }), { numRuns: 2000 });
  const v = JSON.parse('{"a":[1,{"b":null}],"__proto__":{"x":1},"u":"s"}');
  const c = cloneJson(v);
  t.not(c.a, v.a, 'a deep copy');
  t.ok(Object.hasOwn(c, '__proto__'), 'an own __proto__ key stays an own key');
  t.equal(Object.getPrototypeOf(c), Object.prototype, 'and the prototype is not changed');
  t.same(cloneJson({ u: undefined }), { u: undefined });
  t.ok(Object.hasOwn(cloneJson({ u: undefined }), 'u'), 'undefined members are kept, as structuredClone keeps them');
  t.throws(() => cloneJson({ f: () => 1 }), { name: 'DataCloneError' }, 'functions are refused as structuredClone refuses them');
});
