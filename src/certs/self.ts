// `self` mode (standalone and development): a CA and a serving certificate in
// a directory, reused on the next start while valid and covering the SANs.
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { issueCa, issueServing, type KeyPairPem } from './issue.js';
import { readIfExists } from './read-if-exists.js';

const DEV_SANS = ['localhost', '127.0.0.1'];
const DAY = 86_400_000;

export interface SelfCerts {
  ca: string;
  serving: KeyPairPem;
  reused: boolean;
  dir: string;
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** Milliseconds until the certificate expires; 0 when it does not parse. */
function lifeLeft(pem: string, now: number): number {
  try {
    return Date.parse(new X509Certificate(pem).validTo) - now;
  } catch {
    return 0;
  }
}

/** True when the pair is still good for a day, signed by `ca`, and covers every SAN. */
function usable(ca: string, cert: string, sans: readonly string[], now: number): boolean {
  try {
    const caX = new X509Certificate(ca);
    const x = new X509Certificate(cert);
    if (!x.verify(caX.publicKey)) return false;
    if (Date.parse(x.validTo) - now < DAY || Date.parse(caX.validTo) - now < DAY) return false;
    const have = (x.subjectAltName ?? '').split(', ').map(s => s.replace(/^(DNS|IP Address):/, ''));
    return sans.every(s => have.includes(s));
  } catch {
    return false;
  }
}

export async function loadOrCreateSelfCerts(
  dir: string,
  extraSans: readonly string[] = [],
  now = Date.now(),
): Promise<SelfCerts> {
  const sans = [...new Set([...DEV_SANS, ...extraSans])];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, caKey, cert, key] = await Promise.all(
    ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map(f => readIfExists(join(dir, f))),
  );
  if (ca && cert && key && usable(ca, cert, sans, now)) return { ca, serving: { cert, key }, reused: true, dir };

  let caPair: KeyPairPem;
  if (ca && caKey && lifeLeft(ca, now) > 7 * DAY) {
    caPair = { cert: ca, key: caKey };
  } else {
    caPair = await issueCa('vineyard-webhook-dev-ca', { validityMs: 365 * DAY, now: new Date(now) });
    await writeAtomic(join(dir, 'ca.key'), caPair.key, 0o600);
    await writeAtomic(join(dir, 'ca.crt'), caPair.cert, 0o644);
  }
  const serving = await issueServing(caPair, {
    commonName: 'vineyard-webhook',
    sans,
    validityMs: 30 * DAY,
    now: new Date(now),
  });
  await writeAtomic(join(dir, 'tls.key'), serving.key, 0o600);
  await writeAtomic(join(dir, 'tls.crt'), serving.cert, 0o644);
  return { ca: caPair.cert, serving, reused: false, dir };
}
