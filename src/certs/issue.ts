// Issues certificates that Go's x509 (kube-apiserver's TLS client) accepts:
// SHA-256 signatures, positive serials, SANs, serverAuth EKU.
import { generateKeyPair as generateKeyPairCb, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import forge from 'node-forge';

const generateKeyPair = promisify(generateKeyPairCb);
const HOUR = 3_600_000;

export interface KeyPairPem { key: string; cert: string }

export interface IssueOptions {
  /** Validity in milliseconds from now. */
  validityMs: number;
  now?: Date;
}

/** RSA-2048 with Node's native async generator: never blocks the event loop. */
async function newKey(): Promise<{ privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string }> {
  const { privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e);
  return { privateKey: priv, publicKey: pub, pem: forge.pki.privateKeyToPem(priv) };
}

/** 16 random bytes, top bit cleared: a leading byte >= 0x80 is a negative serial, rejected by Go >= 1.23. */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01; // keep 16 significant bytes
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, opts: IssueOptions, notAfterCap?: Date): void {
  const now = opts.now ?? new Date();
  cert.validity.notBefore = new Date(now.getTime() - HOUR); // clock skew between nodes
  let notAfter = new Date(now.getTime() + opts.validityMs);
  if (notAfterCap && notAfter > notAfterCap) notAfter = new Date(notAfterCap.getTime());
  cert.validity.notAfter = notAfter;
}

export async function issueCa(commonName: string, opts: IssueOptions): Promise<KeyPairPem> {
  const key = await newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, opts);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'vineyard-webhook' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { key: key.pem, cert: forge.pki.certificateToPem(cert) };
}

export interface ServingOptions extends IssueOptions {
  commonName: string;
  /** DNS names and IP addresses. */
  sans: readonly string[];
}

export async function issueServing(ca: KeyPairPem, opts: ServingOptions): Promise<KeyPairPem> {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const key = await newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, opts, caCert.validity.notAfter);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...new Set(opts.sans)].map(s => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s }));
  const caSki = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    ...(caSki?.subjectKeyIdentifier ? [{ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki.subjectKeyIdentifier) }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { key: key.pem, cert: forge.pki.certificateToPem(cert) };
}

export interface CertInfo { notBefore: Date; notAfter: Date; subject: string; sans: string[]; issuer: string }

export function certInfo(pem: string): CertInfo {
  const c = forge.pki.certificateFromPem(pem);
  const san = c.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string; ip?: string }> } | null;
  return {
    notBefore: c.validity.notBefore,
    notAfter: c.validity.notAfter,
    subject: c.subject.getField('CN')?.value ?? '',
    issuer: c.issuer.getField('CN')?.value ?? '',
    sans: (san?.altNames ?? []).map(a => a.ip ?? a.value ?? ''),
  };
}
