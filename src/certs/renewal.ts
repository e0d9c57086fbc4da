// When certificates are due, as pure functions of their validity and the clock.
import { BACKDATE_MS } from './issue.js';

/** A serving certificate is renewed once 2/3 of its life has passed. */
const SERVING_RENEW_FRACTION = 2 / 3;
/** A CA is rotated once less than 1/3 of its life remains. */
const CA_ROTATE_FRACTION = 2 / 3;

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * The moment `fraction` of a certificate's life has passed. Life counts from
 * issuance, not from the back-dated notBefore, so short lifetimes (tests,
 * --cert-validity 10m) are not swallowed by the back-dating hour.
 */
function pointInLife(v: Validity, fraction: number): number {
  const end = v.notAfter.getTime();
  const backdated = v.notBefore.getTime() + BACKDATE_MS;
  const start = backdated < end ? backdated : v.notBefore.getTime();
  return start + (end - start) * fraction;
}

export const servingRenewalAt = (v: Validity): number => pointInLife(v, SERVING_RENEW_FRACTION);
export const caRotationAt = (v: Validity): number => pointInLife(v, CA_ROTATE_FRACTION);
export const expired = (v: Validity, now: number): boolean => v.notAfter.getTime() <= now;
