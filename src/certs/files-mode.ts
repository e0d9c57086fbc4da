// `files` mode: tls.crt/tls.key (and optionally ca.crt) written by someone
// else, typically cert-manager through a mounted Secret. The kubelet updates
// such a volume by swapping the `..data` symlink, so we watch the directories
// (not the files, whose inodes never change), debounce, and reload. A pair
// that is half-written or mismatched is rejected and the old one kept.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../server/tls-server.js';
import { bundleFacts, checkPair, type PairFacts } from './pem.js';
import { readIfExists } from './read-if-exists.js';
import { Listeners, noCertEvents, type CertEvents, type CertSource } from './source.js';

export interface FilesModeOptions {
  certFile: string;
  keyFile: string;
  /** Optional CA certificate (cert-manager writes ca.crt): only reported, never required. */
  caFile?: string;
  log: Logger;
  events?: CertEvents;
  /** Quiet time after the last file event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Safety net when a watch misses an event (a replaced directory, a network file system). Default 60 s. */
  pollIntervalMs?: number;
  /** How long the first load may retry a missing or half-written pair before giving up. Default 10 s. */
  startTimeoutMs?: number;
}

export type ReloadResult = { changed: boolean } | { rejected: string };

export interface FilesCertSource extends CertSource {
  /** Reads the files now; what the watcher and the poll run. */
  reload(): Promise<ReloadResult>;
}

/** Directory layout of --cert-dir: what the kubelet mounts from a cert-manager Secret. */
export function filesInDir(dir: string): { certFile: string; keyFile: string; caFile: string } {
  return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caFile: join(dir, 'ca.crt') };
}

export async function startFilesMode(o: FilesModeOptions): Promise<FilesCertSource> {
  const log = o.log.child({ component: 'certs', mode: 'files' });
  const events = o.events ?? noCertEvents;
  const debounceMs = o.debounceMs ?? 200;
  const listeners = new Listeners();
  const files = { cert: resolve(o.certFile), key: resolve(o.keyFile) };
  let material: TlsMaterial | undefined;
  let facts: PairFacts | undefined;
  let lastRejected: string | undefined;
  let closed = false;

  async function load(): Promise<{ material: TlsMaterial; facts: PairFacts } | { rejected: string }> {
    let cert: string, key: string;
    try {
      [cert, key] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
    } catch (e) {
      return { rejected: `cannot read the certificate pair: ${(e as Error).message}` };
    }
    try {
      return { material: { cert, key }, facts: checkPair({ cert, key }) };
    } catch (e) {
      return { rejected: `${files.cert} and ${files.key} are not a usable pair: ${(e as Error).message}` };
    }
  }

  async function reportCa(): Promise<void> {
    if (!o.caFile) return;
    let text: string | undefined;
    try {
      text = await readIfExists(o.caFile);
    } catch (e) {
      // Only the CA's expiry metric depends on it; serving goes on.
      log.warn({ err: (e as Error).message }, 'CA file unreadable: its expiry is not reported');
      return;
    }
    const ca = bundleFacts(text ?? '');
    if (ca.length > 0) events.expiry('ca', new Date(Math.min(...ca.map(c => c.notAfter.getTime()))));
  }

  let reloading: Promise<ReloadResult> | undefined;
  function reload(): Promise<ReloadResult> {
    // One read at a time; a request during a read waits for it and reads again.
    const next: Promise<ReloadResult> = (reloading ?? Promise.resolve()).then(async () => {
      const r = await load();
      if ('rejected' in r) {
        if (r.rejected !== lastRejected)
          log.error({ err: r.rejected }, 'new certificate files rejected; still serving the previous pair');
        lastRejected = r.rejected;
        return { rejected: r.rejected };
      }
      lastRejected = undefined;
      if (material && r.material.cert === material.cert && r.material.key === material.key) return { changed: false };
      material = r.material;
      facts = r.facts;
      events.rotated('serving');
      events.expiry('serving', facts.notAfter);
      await reportCa();
      if (facts.notAfter.getTime() <= Date.now())
        log.warn({ expired: facts.notAfter }, `${files.cert} has expired; the API server will refuse it`);
      log.info(
        { cert: files.cert, subject: facts.subject, expires: facts.notAfter },
        'serving certificate loaded from files',
      );
      listeners.emit(material, err => log.error({ err }, 'applying the new serving certificate failed'));
      return { changed: true };
    });
    reloading = next;
    return next;
  }

  // First load: the volume may still be filling; retry briefly, then fail with the reason.
  const deadline = Date.now() + (o.startTimeoutMs ?? 10_000);
  for (;;) {
    const r = await reload();
    if (!('rejected' in r)) break;
    if (Date.now() >= deadline) {
      throw new Error(
        `--cert-mode files: ${r.rejected}. Mount the Secret holding tls.crt and tls.key at --cert-dir (cert-manager: the Certificate's secretName), or give --tls-cert-file and --tls-key-file`,
      );
    }
    await new Promise(res => setTimeout(res, Math.max(debounceMs, 100)));
  }

  let debounce: NodeJS.Timeout | undefined;
  const kick = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      void reload();
    }, debounceMs);
    debounce.unref();
  };
  const dirs = [...new Set([files.cert, files.key, ...(o.caFile ? [resolve(o.caFile)] : [])].map(f => dirname(f)))];
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, kick);
      w.on('error', err =>
        log.warn(
          { dir, err: err.message },
          'watching the certificate directory failed; relying on the periodic re-read',
        ),
      );
      watchers.push(w);
    } catch (err) {
      log.warn(
        { dir, err: (err as Error).message },
        'cannot watch the certificate directory; relying on the periodic re-read',
      );
    }
  }
  const poll = setInterval(() => {
    void reload();
  }, o.pollIntervalMs ?? 60_000);
  poll.unref();

  return {
    current: () => material!,
    onChange: fn => listeners.add(fn),
    notReady: () => (material ? undefined : 'no serving certificate loaded from files yet'),
    reload,
    async close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poll);
      for (const w of watchers) w.close();
      await reloading;
    },
  };
}
