// `secret` mode: the CA is shared through a Secret, each replica issues its
// own serving certificate in memory, the caBundle of the webhook
// configurations is kept current, and both are renewed before they expire.
//
// CA rotation with overlap: the new CA joins the bundle next to the old one;
// a replica serves from the new CA only once every managed bundle has held it
// for `propagationMs` (API servers pick configuration changes up through a
// watch); the old CA leaves the bundle when it expires.
import type { Logger } from 'pino';
import type { TlsMaterial } from '../server/tls-server.js';
import type { CertApi } from './api.js';
import { syncCaSecret, CA_COMMON_NAME, type CaEntry } from './ca-secret.js';
import { injectCaBundle, refName, type InjectOutcome, type ServiceRef, type WebhookRef } from './inject.js';
import { issueCa, issueServing } from './issue.js';
import { checkPair, type CertFacts } from './pem.js';
import { caRotationAt, servingRenewalAt } from './renewal.js';
import { Listeners, noCertEvents, type CertEvents, type CertSource } from './source.js';

export interface SecretModeOptions {
  api: CertApi;
  namespace: string;
  secretName: string;
  serviceName: string;
  /** Configurations whose webhooks calling our Service get the bundle. */
  webhookConfigurations: readonly WebhookRef[];
  extraSans?: readonly string[];
  caValidityMs: number;
  certValidityMs: number;
  /** Re-read of the Secret and the bundles (repairs a wiped caBundle); renewals are timed exactly. Default 30 s. */
  checkIntervalMs?: number;
  /** How long a new CA must have been in every bundle before serving certificates switch to it. Default 10 s. */
  propagationMs?: number;
  log: Logger;
  events?: CertEvents;
}

export interface SecretCertSource extends CertSource {
  /** PEM of the CAs the bundles should hold now, newest first. */
  caBundle(): string;
  /** Runs one check now (tests; also what the timer runs). */
  reconcile(): Promise<void>;
}

/** The SANs the API server may use to reach the Service, plus configured extras. */
export function serviceSans(svc: ServiceRef, extra: readonly string[] = []): string[] {
  const { name, namespace } = svc;
  return [
    ...new Set([
      name,
      `${name}.${namespace}`,
      `${name}.${namespace}.svc`,
      `${name}.${namespace}.svc.cluster.local`,
      ...extra,
    ]),
  ];
}

type View = Exclude<InjectOutcome, { kind: 'stale' }>;
interface Serving {
  material: TlsMaterial;
  facts: CertFacts;
  issuer: string;
  temporary: boolean;
  issuedAt: number;
}

const MIN_DELAY_MS = 50;

export async function startSecretMode(o: SecretModeOptions): Promise<SecretCertSource> {
  const log = o.log.child({ component: 'certs', mode: 'secret' });
  const events = o.events ?? noCertEvents;
  const checkIntervalMs = o.checkIntervalMs ?? 30_000;
  const propagationMs = o.propagationMs ?? 10_000;
  const svc: ServiceRef = { name: o.serviceName, namespace: o.namespace };
  const sans = serviceSans(svc, o.extraSans);
  const commonName = `${svc.name}.${svc.namespace}.svc`;
  const secretRef = `Secret ${o.namespace}/${o.secretName}`;
  const listeners = new Listeners();

  let cas: CaEntry[] = [];
  let serving: Serving | undefined;
  const views = new Map<string, View>();
  /** When this replica first saw each CA (by fingerprint) in every managed bundle. */
  const trustedSince = new Map<string, number>();
  let lastError: string | undefined;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const byFp = (fp: string) => cas.find(c => c.facts.fingerprint === fp);
  // A certificate capped by an expiring CA that the bundles never came to
  // replace would otherwise be renewed ever sooner; space renewals out.
  const renewalDue = (s: Serving) => Math.max(servingRenewalAt(s.facts), s.issuedAt + o.certValidityMs / 20);

  async function injectAll(): Promise<void> {
    for (const ref of o.webhookConfigurations) {
      const key = refName(ref);
      try {
        let out = await injectCaBundle(
          o.api,
          ref,
          svc,
          cas.map(c => c.facts),
        );
        if (out.kind === 'stale') {
          log.info(
            { webhookConfiguration: key, newer: out.newer.subject },
            'the caBundle holds a newer CA than ours; re-reading the CA Secret',
          );
          cas = (await syncCaSecret(caOpts)).cas;
          out = await injectCaBundle(
            o.api,
            ref,
            svc,
            cas.map(c => c.facts),
            { overrideNewer: true },
          );
        }
        const before = views.get(key);
        if (out.kind === 'stale') throw new Error('unreachable: stale after override');
        if (out.kind === 'missing' && before?.kind !== 'missing')
          log.warn(
            { webhookConfiguration: key },
            `${key} does not exist (yet): its caBundle will be injected once it does; create it or correct the flag naming it`,
          );
        if (out.kind === 'present' && out.ours === 0 && !(before?.kind === 'present' && before.ours === 0))
          log.warn(
            { webhookConfiguration: key, service: `${svc.namespace}/${svc.name}` },
            `no webhook of ${key} calls Service ${svc.namespace}/${svc.name}: nothing to inject; check --service-name and --namespace`,
          );
        if (out.kind === 'present' && out.patched)
          log.info({ webhookConfiguration: key, cas: cas.length }, 'caBundle injected');
        views.set(key, out);
      } catch (err) {
        events.injectionFailed();
        log.warn(
          { webhookConfiguration: key, err: (err as Error).message },
          `caBundle injection into ${key} failed; retrying`,
        );
        // Keep what we last saw: an API hiccup must not flip readiness or the issuer.
      }
    }
  }

  /** Trusted by every managed configuration that exists; unknown (never read) counts as not trusted. */
  function trustedEverywhere(fp: string): boolean {
    for (const ref of o.webhookConfigurations) {
      const v = views.get(refName(ref));
      if (!v) return false;
      if (v.kind === 'present' && v.trusted && !v.trusted.has(fp)) return false;
    }
    return true;
  }

  function updateTrust(now: number): void {
    for (const fp of [...trustedSince.keys()]) if (!byFp(fp)) trustedSince.delete(fp);
    for (const c of cas) {
      const fp = c.facts.fingerprint;
      if (!trustedEverywhere(fp)) trustedSince.delete(fp);
      else if (!trustedSince.has(fp)) trustedSince.set(fp, now);
    }
  }

  function chooseIssuer(now: number): CaEntry {
    const propagated = (c: CaEntry) => now - (trustedSince.get(c.facts.fingerprint) ?? Infinity) >= propagationMs;
    return (
      cas.find(propagated) ??
      (serving && !serving.temporary ? byFp(serving.issuer) : undefined) ??
      cas.find(c => trustedSince.has(c.facts.fingerprint)) ??
      cas[0]!
    );
  }

  async function issue(issuer: CaEntry, why: string): Promise<void> {
    const material = await issueServing(issuer.pair, { commonName, sans, validityMs: o.certValidityMs });
    const facts = checkPair(material);
    serving = { material, facts, issuer: issuer.facts.fingerprint, temporary: false, issuedAt: Date.now() };
    events.rotated('serving');
    events.expiry('serving', facts.notAfter);
    events.expiry('ca', issuer.facts.notAfter);
    log.info(
      { reason: why, expires: facts.notAfter, issuerExpires: issuer.facts.notAfter },
      'serving certificate issued',
    );
    listeners.emit(material, err => log.error({ err }, 'applying the new serving certificate failed'));
  }

  const caOpts = {
    api: o.api,
    namespace: o.namespace,
    name: o.secretName,
    caValidityMs: o.caValidityMs,
    log,
    onIssued: () => events.rotated('ca'),
  };

  async function check(): Promise<void> {
    cas = (await syncCaSecret(caOpts)).cas;
    if (cas.length === 0) throw new Error(`${secretRef} holds no valid CA after syncing it`);
    await injectAll();
    const now = Date.now();
    updateTrust(now);
    const issuer = chooseIssuer(now);
    const why = !serving
      ? 'first certificate'
      : serving.temporary
        ? 'replacing the temporary certificate'
        : serving.issuer !== issuer.facts.fingerprint
          ? 'switching to the CA every bundle now holds'
          : now >= renewalDue(serving)
            ? 'two thirds of its life have passed'
            : undefined;
    if (why) await issue(issuer, why);
  }

  function nextDelay(now: number): number {
    if (lastError) return Math.min(checkIntervalMs, 1000 * 2 ** Math.min(failures - 1, 5));
    const at = [now + checkIntervalMs];
    if (serving && !serving.temporary) {
      at.push(renewalDue(serving));
      const issuer = byFp(serving.issuer);
      // A newer CA waiting for its propagation time: switch as soon as it is over.
      for (const c of cas) {
        if (c === issuer) break;
        const since = trustedSince.get(c.facts.fingerprint);
        if (since !== undefined) at.push(since + propagationMs);
      }
    }
    if (cas[0]) at.push(caRotationAt(cas[0].facts));
    for (const c of cas.slice(1)) at.push(c.facts.notAfter.getTime() + 1000);
    return Math.max(MIN_DELAY_MS, Math.min(...at) - now);
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void reconcile();
    }, nextDelay(Date.now()));
    timer.unref();
  }

  function reconcile(): Promise<void> {
    if (closed) return Promise.resolve();
    if (running) return running.then(() => reconcile());
    running = (async () => {
      try {
        await check();
        lastError = undefined;
        failures = 0;
      } catch (err) {
        failures++;
        lastError = (err as Error).message;
        log.warn({ err: lastError, secret: secretRef }, 'certificate check failed; retrying');
      } finally {
        running = undefined;
        schedule();
      }
    })();
    return running;
  }

  await reconcile();
  if (!serving) {
    // The API is unreachable or refuses us: serve a throwaway certificate so
    // /healthz answers and /readyz explains, and keep retrying.
    const ca = await issueCa(`${CA_COMMON_NAME}-temporary`, { validityMs: o.certValidityMs });
    const material = await issueServing(ca, { commonName, sans, validityMs: o.certValidityMs });
    serving = { material, facts: checkPair(material), issuer: '', temporary: true, issuedAt: Date.now() };
    log.error(
      { secret: secretRef, err: lastError },
      'no CA from the cluster yet: serving a temporary certificate, not ready until the CA Secret can be read',
    );
  }

  return {
    current: () => serving!.material,
    onChange: fn => listeners.add(fn),
    caBundle: () => cas.map(c => c.pair.cert).join(''),
    reconcile,
    notReady(): string | undefined {
      if (!serving || serving.temporary)
        return `no serving certificate from the CA in ${secretRef} yet${lastError ? `: ${lastError}` : ''}`;
      for (const ref of o.webhookConfigurations) {
        const v = views.get(refName(ref));
        if (!v) return `the caBundle of ${refName(ref)} has not been read yet`;
        if (v.kind === 'present' && v.trusted && !v.trusted.has(serving.issuer))
          return `the caBundle of ${refName(ref)} does not hold the CA of the serving certificate yet`;
      }
      return undefined;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
