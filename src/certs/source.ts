// What the server needs from the certificate manager, whatever the mode, and
// what the manager reports (the server turns reports into metrics).
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

export type CertRole = 'serving' | 'ca';

export interface CertEvents {
  /** The certificate of `role` in use now expires at `notAfter`. */
  expiry(role: CertRole, notAfter: Date): void;
  /** A certificate of `role` was issued or reloaded. */
  rotated(role: CertRole): void;
  /** A caBundle injection call failed (a missing configuration is not a failure). */
  injectionFailed(): void;
}

export const noCertEvents: CertEvents = { expiry: () => {}, rotated: () => {}, injectionFailed: () => {} };

/** A fixed pair that never changes (self mode, tests). */
export function staticCertSource(m: TlsMaterial): CertSource {
  return { current: () => m, onChange: () => {}, notReady: () => undefined, close: async () => {} };
}

/** Fans changes out to listeners; a throwing listener does not stop the others. */
export class Listeners {
  private readonly fns: Array<(m: TlsMaterial) => void> = [];
  add(fn: (m: TlsMaterial) => void): void {
    this.fns.push(fn);
  }
  emit(m: TlsMaterial, onError: (err: unknown) => void): void {
    for (const fn of this.fns) {
      try {
        fn(m);
      } catch (err) {
        onError(err);
      }
    }
  }
}
