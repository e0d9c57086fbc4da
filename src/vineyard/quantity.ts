// Kubernetes resource.Quantity strings (`1024Mi`, `500m`, `1e3`), checked with
// the grammar the API server documents, so a Sidecar CR is rejected when it is
// created rather than when the pods it injects fail to start.
//
//   quantity        ::= signedNumber suffix
//   signedNumber    ::= number | sign number
//   number          ::= digits | digits "." | digits "." digits | "." digits
//   suffix          ::= binarySI | decimalSI | decimalExponent
//   binarySI        ::= Ki | Mi | Gi | Ti | Pi | Ei
//   decimalSI       ::= n | u | m | "" | k | M | G | T | P | E
//   decimalExponent ::= ("e" | "E") sign? digits
//
// `E` alone is the exa suffix; `E` followed by digits is an exponent.

export type QuantitySuffix =
  | { kind: 'binary'; text: string }
  | { kind: 'decimal'; text: string }
  | { kind: 'exponent'; text: string; exponent: number };

export interface Quantity {
  negative: boolean;
  /** Digits before the decimal point ('' for `.5`). */
  whole: string;
  /** Digits after the decimal point ('' when there are none). */
  fraction: string;
  suffix: QuantitySuffix;
}

const QUANTITY = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:([KMGTPE]i)|([numkMGTPE]?)|([eE]([+-]?\d+)))$/;

/** The parts of a quantity string, or undefined when it is not one. */
export function parseQuantity(text: string): Quantity | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign, whole = '', wholeFraction, onlyFraction, binary, decimal, exponentText, exponent] = m;
  const suffix: QuantitySuffix =
    binary !== undefined
      ? { kind: 'binary', text: binary }
      : exponentText !== undefined
        ? { kind: 'exponent', text: exponentText, exponent: Number(exponent) }
        : { kind: 'decimal', text: decimal ?? '' };
  const fraction = wholeFraction ?? onlyFraction ?? '';
  // `-0` and `-0.0Gi` are zero, not negative.
  const negative = sign === '-' && /[1-9]/.test(whole + fraction);
  return { negative, whole, fraction, suffix };
}

export const isQuantity = (text: string): boolean => parseQuantity(text) !== undefined;

/** What a user is told a quantity looks like. */
export const QUANTITY_HINT =
  'must be a Kubernetes quantity such as "1024Mi", "2Gi", "500m" or "1e9": a number, then optionally ' +
  'a binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), a decimal suffix (n, u, m, k, M, G, T, P, E) or an exponent (e3)';

const UNIT_TYPO = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([kKmMgGtTpPE])(i?)(?:[bB]|[bB]ytes?)?\s*$/;

/**
 * The quantities a user probably meant by a common mistake (`1GB`, `2gi`,
 * `1 Gi`, `1K`), so the error can offer them. Empty when nothing is close.
 */
export function quantitySuggestions(text: string): string[] {
  if (isQuantity(text)) return [];
  const m = UNIT_TYPO.exec(text);
  if (!m) {
    const squeezed = text.replace(/\s+/g, '');
    return squeezed !== text && isQuantity(squeezed) ? [squeezed] : [];
  }
  const [, num, letter, binary] = m as unknown as [string, string, string, string];
  const upper = letter.toUpperCase();
  const decimal = upper === 'K' ? 'k' : upper;
  const out = binary ? [`${num}${upper}i`] : [`${num}${decimal}`, `${num}${upper}i`];
  return out.filter(q => q !== text && isQuantity(q));
}
