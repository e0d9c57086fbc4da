import t from 'tap';
import {
  equalitySelectorErrors,
  isLabelValue,
  isQualifiedName,
  isSubdomain,
  qualifiedNameErrors,
} from '../src/vineyard/label-rules.js';

t.test('DNS-1123 subdomains', async t => {
  for (const s of ['a', 'example.com', 'k8s.v6d.io', '0', 'a-b.c-d', 'a'.repeat(63) + '.' + 'b'.repeat(63)])
    t.ok(isSubdomain(s), s);
  for (const s of ['', 'Example.com', '-a', 'a-', 'a..b', '.a', 'a.', 'a_b', 'a b', 'a/b'])
    t.notOk(isSubdomain(s), JSON.stringify(s));
  t.ok(isSubdomain(('a'.repeat(49) + '.').repeat(5) + 'abc'), '253 characters');
  t.notOk(isSubdomain(('a'.repeat(49) + '.').repeat(5) + 'abcd'), '254 characters');
});

t.test('label keys are qualified names', async t => {
  const valid = [
    'app',
    'App',
    'a',
    '9',
    'my.name',
    'my_name',
    'my-name',
    'MyName_1.x-y',
    'app.kubernetes.io/name',
    'sidecar.v6d.io/enabled',
    'example.com/A_b',
    'a'.repeat(63),
    'x.io/' + 'a'.repeat(63),
  ];
  for (const k of valid) t.ok(isQualifiedName(k), k);
  const invalid = [
    '',
    '/',
    'a/',
    '/a',
    'a/b/c',
    '-app',
    'app-',
    '_app',
    'app.',
    'my name',
    'app=1',
    'a'.repeat(64),
    'Example.com/app',
    'exa_mple.com/app',
    'x.io/' + 'a'.repeat(64),
    'x.io/-a',
    'ü',
    'a:b',
  ];
  for (const k of invalid) t.notOk(isQualifiedName(k), JSON.stringify(k));
  t.ok(isQualifiedName('a'.repeat(253) + '/b'), 'prefix of 253 characters');
  t.notOk(isQualifiedName('a'.repeat(254) + '/b'), 'prefix of 254 characters');
});

t.test('key errors say which part is wrong', async t => {
  t.match(qualifiedNameErrors('Bad.Prefix/name'), [/prefix/]);
  t.match(qualifiedNameErrors('ok.io/-name'), [/name part/]);
  t.match(qualifiedNameErrors('/name'), [/prefix .* must not be empty/]);
  t.match(qualifiedNameErrors('a'.repeat(64)), [/no more than 63/]);
  t.match(qualifiedNameErrors('a/b/c'), [/single "\/"/]);
});

t.test('label values', async t => {
  for (const v of ['', 'a', 'job-deployment', 'My_Value.1', '12345', 'a'.repeat(63)])
    t.ok(isLabelValue(v), JSON.stringify(v));
  for (const v of ['-a', 'a-', '.a', 'a b', 'a/b', 'a=b', 'a,b', 'a'.repeat(64)])
    t.notOk(isLabelValue(v), JSON.stringify(v));
});

t.test('equality selectors in the Sidecar form k=v[,k=v]', async t => {
  for (const s of ['', 'app=job', 'app=', 'app=job,tier=web', 'app.kubernetes.io/name=x', 'a=b,c=d,e=f']) {
    t.same(equalitySelectorErrors(s), [], JSON.stringify(s));
  }
  const cases: Array<[string, RegExp[]]> = [
    ['app', [/"app" is not a key=value pair/]],
    ['app==job', [/"app==job" is not a key=value pair/]],
    ['app!=job', [/label key "app!"/]],
    ['app=job,', [/"" is not a key=value pair/]],
    [',app=job', [/"" is not a key=value pair/]],
    ['app = job', [/label key "app "/, /label value " job"/]],
    ['app=job, tier=web', [/label key " tier"/]],
    ['=job', [/label key "": the name part must not be empty/]],
    ['app=bad value', [/label value "bad value" of "app"/]],
    ['app=a,app=b', [/"app" appears more than once/]],
    ['a=-x,B ad=y', [/label value "-x"/, /label key "B ad"/]],
  ];
  for (const [s, expected] of cases) {
    const errors = equalitySelectorErrors(s);
    t.equal(errors.length, expected.length, `${JSON.stringify(s)}: ${errors.length} problem(s)`, { errors });
    t.match(errors, expected, JSON.stringify(s));
  }
});
