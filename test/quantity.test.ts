import t from 'tap';
import fc from 'fast-check';
import { isQuantity, parseQuantity, quantitySuggestions } from '../src/vineyard/quantity.js';

t.test('accepts the quantities users write', async t => {
  const valid = [
    '1024Mi',
    '2Gi',
    '500m',
    '1e3',
    '0.5',
    '+1',
    '1.5Gi',
    '1E',
    '100k',
    '0',
    '1',
    '-1',
    '+0',
    '-0',
    '123456789012345678901234567890',
    '1Ki',
    '1Mi',
    '1Gi',
    '1Ti',
    '1Pi',
    '1Ei',
    '1n',
    '1u',
    '1m',
    '1k',
    '1M',
    '1G',
    '1T',
    '1P',
    '1E',
    '1e0',
    '1e-3',
    '1e+3',
    '1E3',
    '1E-3',
    '1E+3',
    '2.5e10',
    '.5e1',
    '.5',
    '5.',
    '5.Gi',
    '0.001',
    '00012',
    '+.5Mi',
    '-1.5Gi',
    '1.0000000001',
  ];
  for (const q of valid) t.ok(isQuantity(q), q);
});

t.test('rejects what the API server rejects', async t => {
  const invalid = [
    '',
    ' ',
    '1.5.2',
    'Mi',
    'Gi',
    'k',
    'e3',
    'E',
    '.',
    '+',
    '-',
    '+.',
    '.Mi',
    '1MB',
    '1 Gi',
    ' 1Gi',
    '1Gi ',
    '1Gi\n',
    '\t1',
    '--1',
    '+-1',
    '-+1',
    '++1',
    '1KI',
    '1K',
    '1gi',
    '1mi',
    '1g',
    '1Ki1',
    '1iB',
    '1i',
    '1ki',
    '1Mii',
    '1MM',
    '1kk',
    '1e',
    '1E+',
    '1e-',
    '1e1.5',
    '1e1Mi',
    '1Mie3',
    '1e 3',
    '1e--3',
    '1ee3',
    '1,000',
    '1_000',
    '0x10',
    '1b',
    'one',
    'NaN',
    'Infinity',
    '1,5',
    '½',
    '١',
    '1\u00a0Gi',
    '1.5.Gi',
  ];
  for (const q of invalid) t.notOk(isQuantity(q), JSON.stringify(q));
});

t.test('tells the parts apart', async t => {
  t.same(parseQuantity('1.5Gi'), {
    negative: false,
    whole: '1',
    fraction: '5',
    suffix: { kind: 'binary', text: 'Gi' },
  });
  t.same(parseQuantity('500m'), {
    negative: false,
    whole: '500',
    fraction: '',
    suffix: { kind: 'decimal', text: 'm' },
  });
  t.same(parseQuantity('3'), { negative: false, whole: '3', fraction: '', suffix: { kind: 'decimal', text: '' } });
  t.same(
    parseQuantity('1E'),
    { negative: false, whole: '1', fraction: '', suffix: { kind: 'decimal', text: 'E' } },
    'E alone is exa',
  );
  t.same(
    parseQuantity('1E3'),
    { negative: false, whole: '1', fraction: '', suffix: { kind: 'exponent', text: 'E3', exponent: 3 } },
    'E with digits is an exponent',
  );
  t.same(parseQuantity('-.25e-2'), {
    negative: true,
    whole: '',
    fraction: '25',
    suffix: { kind: 'exponent', text: 'e-2', exponent: -2 },
  });
  t.equal(parseQuantity('-0')?.negative, false, 'minus zero is not negative');
  t.equal(parseQuantity('-0.000Gi')?.negative, false, 'a zero with a fraction is not negative');
  t.equal(parseQuantity('-0.001')?.negative, true);
  t.equal(parseQuantity('+5')?.negative, false);
});

const digits = fc.stringMatching(/^[0-9]{1,12}$/);
const number = fc.oneof(
  digits,
  digits.map(d => `${d}.`),
  fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`),
  digits.map(d => `.${d}`),
);
const suffix = fc.oneof(
  fc.constantFrom('Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'),
  fc.constantFrom('n', 'u', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E'),
  fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits).map(([e, s, d]) => `${e}${s}${d}`),
);
const quantity = fc.tuple(fc.constantFrom('', '+', '-'), number, suffix).map(([s, n, x]) => `${s}${n}${x}`);

t.test('every string the grammar produces parses back into its parts', async t => {
  fc.assert(
    fc.property(fc.constantFrom('', '+', '-'), number, suffix, (sign, n, x) => {
      const q = parseQuantity(`${sign}${n}${x}`);
      if (!q) return false;
      const [whole = '', fraction = ''] = n.split('.');
      return q.whole === whole && q.fraction === fraction && q.suffix.text === x;
    }),
  );
  t.pass('property held');
});

t.test('whitespace, a second sign or a second decimal point anywhere breaks a quantity', async t => {
  const position = (s: string) => fc.nat({ max: s.length });
  fc.assert(
    fc.property(
      quantity.chain(q => fc.tuple(fc.constant(q), position(q), fc.constantFrom(' ', '\t', '\n'))),
      ([q, at, ws]) => !isQuantity(q.slice(0, at) + ws + q.slice(at)),
    ),
  );
  fc.assert(
    fc.property(quantity, fc.constantFrom('+', '-'), (q, sign) => !isQuantity(sign + sign + q.replace(/^[+-]/, ''))),
  );
  fc.assert(
    fc.property(
      quantity.filter(q => q.includes('.')),
      q => !isQuantity(q.replace('.', '.1.')),
    ),
  );
  t.pass('properties held');
});

t.test('suggests what a common mistake probably meant', async t => {
  t.same(quantitySuggestions('1GB'), ['1G', '1Gi']);
  t.same(quantitySuggestions('512mb'), ['512M', '512Mi']);
  t.same(quantitySuggestions('2gi'), ['2Gi']);
  t.same(quantitySuggestions('1KiB'), ['1Ki']);
  t.same(quantitySuggestions('1K'), ['1k', '1Ki']);
  t.same(quantitySuggestions('1 Gi'), ['1Gi']);
  t.same(quantitySuggestions(' 1Gi '), ['1Gi']);
  t.same(quantitySuggestions('1.5 G bytes'), [], 'a space inside the unit is not a typo we guess at');
  t.same(quantitySuggestions('1Gi'), [], 'nothing to suggest for a valid quantity');
  t.same(quantitySuggestions('lots'), []);
  t.same(quantitySuggestions('1.5.2'), []);
  fc.assert(fc.property(fc.string(), s => quantitySuggestions(s).every(isQuantity)));
});
