// Puts a new key and certificate on the listening server: new handshakes get
// them, established connections keep the ones they negotiated, nothing restarts.
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../server/tls-server.js';
import type { CertSource } from './source.js';

export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * Follows `certs` on `server`. Each new pair is built into a secure context
 * first: one OpenSSL refuses is logged and the old context stays in use.
 */
export function followCertificates(
  certs: CertSource,
  server: SecureContextTarget,
  toOptions: (m: TlsMaterial) => SecureContextOptions,
  log: Logger,
): void {
  certs.onChange(m => {
    const options = toOptions(m);
    try {
      createSecureContext(options);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'new serving certificate rejected by TLS; keeping the previous one');
      return;
    }
    server.setSecureContext(options);
    log.info('serving certificate reloaded');
  });
}
