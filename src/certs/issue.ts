// Issues certificates that Go's x509 (kube-apiserver's TLS client) accepts:
// SHA-256 signatures, positive serials, SANs, serverAuth EKU. node-forge
// builds the certificate; Node's native crypto makes the keys and signatures
// (in the thread pool: issuing never blocks the event loop).
import {
  createPrivateKey,
  generateKeyPair as generateKeyPairCb,
  randomBytes,
  sign as signCb,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import forge from 'node-forge';

const generateKeyPair = promisify(generateKeyPairCb);
const signAsync = promisify(signCb);

/** notBefore lies this far in the past: nodes whose clocks run behind still accept a fresh certificate. */
export const BACKDATE_MS = 3_600_000;

export interface KeyPairPem {
  key: string;
  cert: string;
}

export interface IssueOptions {
  /** Validity in milliseconds from now. */
  validityMs: number;
  now?: Date;
}

interface NewKey {
  native: KeyObject;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
}

/** RSA-2048 with Node's native async generator, imported into forge for the certificate body. */
async function newKey(): Promise<NewKey> {
  const { privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return {
    native: createPrivateKey(privateKey),
    publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e),
    pem: forge.pki.privateKeyToPem(priv),
  };
}

/** 16 random bytes, top bit cleared: a leading byte >= 0x80 is a negative serial, rejected by Go >= 1.23. */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  // A leading zero byte would be a non-minimal DER INTEGER, which Go rejects too.
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString('hex');
}

/** A certificate body for `key`: a fresh serial and the validity, never past `notAfterCap` (its CA's expiry). */
function newCertificate(key: NewKey, opts: IssueOptions, notAfterCap?: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  const now = opts.now ?? new Date();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  let notAfter = new Date(now.getTime() + opts.validityMs);
  if (notAfterCap && notAfter > notAfterCap) notAfter = new Date(notAfterCap.getTime());
  cert.validity.notAfter = notAfter;
  return cert;
}

const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 })
  .getTBSCertificate;

/** sha256WithRSAEncryption, signed natively off the event loop; forge only serialises. */
async function signCertificate(cert: forge.pki.Certificate, key: KeyObject): Promise<string> {
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.tbsCertificate = getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = (await signAsync('sha256', tbs, key)).toString('binary');
  return forge.pki.certificateToPem(cert);
}

export async function issueCa(commonName: string, opts: IssueOptions): Promise<KeyPairPem> {
  const key = await newKey();
  const cert = newCertificate(key, opts);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'vineyard-webhook' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  // Only what a CA that signs certificates needs: it never takes part in a handshake itself.
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { key: key.pem, cert: await signCertificate(cert, key.native) };
}

export interface ServingOptions extends IssueOptions {
  commonName: string;
  /** DNS names and IP addresses. */
  sans: readonly string[];
}

/** The CA's subject key identifier as bytes; computed from its key when the extension is absent. */
function keyIdentifier(ca: forge.pki.Certificate): string {
  const ski = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  return ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : ca.generateSubjectKeyIdentifier().getBytes();
}

export async function issueServing(ca: KeyPairPem, opts: ServingOptions): Promise<KeyPairPem> {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  if (caCert.subject.getField('CN')?.value === opts.commonName)
    throw new Error(`serving certificate subject ${opts.commonName} must differ from its CA's`);
  if (opts.sans.length === 0) throw new Error('a serving certificate needs at least one subject alternative name');
  const key = await newKey();
  const cert = newCertificate(key, opts, caCert.validity.notAfter);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...new Set(opts.sans)].map(s => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(caCert) },
  ]);
  return { key: key.pem, cert: await signCertificate(cert, createPrivateKey(ca.key)) };
}
