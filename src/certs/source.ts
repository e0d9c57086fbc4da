// What the server needs from the certificate manager, whatever the mode.
import type { TlsMaterial } from '../server/tls-server.js';

export interface CertSource {
  /** The serving key and certificate to use now. */
  current(): TlsMaterial;
  /** Called with new material whenever it changes (renewal, file reload). */
  onChange(listener: (m: TlsMaterial) => void): void;
  /** A reason while not ready (no certificate yet, caBundle not injected), else undefined. */
  notReady(): string | undefined;
  /** Stops timers and watchers. */
  close(): Promise<void>;
}

/** A fixed pair that never changes (self mode, tests). */
export function staticCertSource(m: TlsMaterial): CertSource {
  return { current: () => m, onChange: () => {}, notReady: () => undefined, close: async () => {} };
}
