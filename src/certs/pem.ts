// Reading certificates we did not just build: bundles, validity, fingerprints,
// and the check that a key and a certificate belong together.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, each ending in a newline. */
export function splitPem(text: string): string[] {
  return (text.match(PEM_CERT) ?? []).map(b => `${b}\n`);
}

export interface CertFacts {
  pem: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint: the identity used to compare bundles. */
  fingerprint: string;
  subject: string;
}

export function certFacts(pem: string): CertFacts {
  const x = new X509Certificate(pem);
  return {
    pem,
    notBefore: x.validFromDate,
    notAfter: x.validToDate,
    fingerprint: x.fingerprint256,
    subject: x.subject,
  };
}

/** Certificates of a PEM bundle that parse; garbage between them is ignored. */
export function bundleFacts(text: string): CertFacts[] {
  const out: CertFacts[] = [];
  for (const block of splitPem(text)) {
    try {
      out.push(certFacts(block));
    } catch {
      /* not a certificate: skip it */
    }
  }
  return out;
}

export interface PairFacts extends CertFacts {
  chain: number;
}

/**
 * Throws with a reason when `cert` and `key` cannot serve together: no
 * certificate, a truncated or garbled block, a key of another certificate,
 * or anything OpenSSL refuses.
 */
export function checkPair(pair: { key: string; cert: string }): PairFacts {
  const blocks = splitPem(pair.cert);
  if (blocks.length === 0) throw new Error('no complete PEM CERTIFICATE block in the certificate');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0]!);
  } catch (e) {
    throw new Error(`the certificate does not parse: ${(e as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch (e) {
    throw new Error(`the private key does not parse: ${(e as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
  try {
    createSecureContext({ key: pair.key, cert: pair.cert });
  } catch (e) {
    throw new Error(`TLS refuses the pair: ${(e as Error).message}`);
  }
  return { ...certFacts(blocks[0]!), chain: blocks.length };
}
