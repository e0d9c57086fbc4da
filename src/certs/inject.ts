// caBundle injection: every webhook of one configuration that calls our
// Service gets the CA bundle, by a JSON Patch that first tests the
// resourceVersion it was computed from, and only when it differs.
import { retryOnConflict } from '../cluster/retry-on-conflict.js';
import { isApiError } from '../cluster/store.js';
import { resourceOf, type CertApi, type JsonPatchOp, type WebhookConfiguration, type WebhookKind } from './api.js';
import { bundleFacts, type CertFacts } from './pem.js';

const MAX_ATTEMPTS = 4;

export interface WebhookRef {
  kind: WebhookKind;
  name: string;
}
export interface ServiceRef {
  name: string;
  namespace: string;
}

export type InjectOutcome =
  | { kind: 'missing' }
  /**
   * `trusted`: fingerprints every one of our webhooks trusts now; null when no
   * webhook of the configuration calls our Service (nothing to constrain).
   */
  | { kind: 'present'; ours: number; trusted: Set<string> | null; patched: boolean }
  /** The bundle holds a CA newer than any we know: our copy of the Secret is stale; nothing was written. */
  | { kind: 'stale'; newer: CertFacts };

export const refName = (r: WebhookRef): string => `${r.kind} ${r.name}`;

const encodeBundle = (cas: readonly CertFacts[]): string =>
  Buffer.from(cas.map(c => c.pem).join(''), 'utf8').toString('base64');

/** Indexes of the webhooks whose clientConfig.service is ours. */
function ourWebhooks(cfg: WebhookConfiguration, svc: ServiceRef): number[] {
  const out: number[] = [];
  (cfg.webhooks ?? []).forEach((w, i) => {
    const s = w.clientConfig?.service;
    if (s && s.name === svc.name && s.namespace === svc.namespace) out.push(i);
  });
  return out;
}

/** The certificates in the caBundle of webhook `i`. */
const bundleOf = (cfg: WebhookConfiguration, i: number): CertFacts[] =>
  bundleFacts(Buffer.from(cfg.webhooks![i]!.clientConfig.caBundle ?? '', 'base64').toString('utf8'));

function trustedBy(cfg: WebhookConfiguration, indexes: number[]): Set<string> | null {
  if (indexes.length === 0) return null;
  let common: Set<string> | undefined;
  for (const i of indexes) {
    const fps = new Set(bundleOf(cfg, i).map(f => f.fingerprint));
    common = common ? new Set([...common].filter(fp => fps.has(fp))) : fps;
  }
  return common!;
}

function newerThanOurs(
  cfg: WebhookConfiguration,
  indexes: number[],
  cas: readonly CertFacts[],
  now: number,
): CertFacts | undefined {
  const known = new Set(cas.map(c => c.fingerprint));
  const newest = Math.max(...cas.map(c => c.notBefore.getTime()));
  for (const i of indexes) {
    for (const f of bundleOf(cfg, i)) {
      if (!known.has(f.fingerprint) && f.notBefore.getTime() > newest && f.notAfter.getTime() > now) return f;
    }
  }
  return undefined;
}

export interface InjectOptions {
  /** Replace the bundle even if it holds a CA newer than ours (after re-reading the Secret did not explain it). */
  overrideNewer?: boolean;
}

/**
 * Makes every webhook of `ref` that calls `svc` trust exactly `cas`. A
 * concurrent change (failed `test`, 409) means read again and recompute.
 */
export async function injectCaBundle(
  api: CertApi,
  ref: WebhookRef,
  svc: ServiceRef,
  cas: readonly CertFacts[],
  opts: InjectOptions = {},
): Promise<InjectOutcome> {
  const desired = encodeBundle(cas);
  // 422: our `test` failed; 409: the server saw a newer resourceVersion. Either way, someone else wrote: read again.
  const raced = (e: unknown) => isApiError(e) && (e.status === 409 || e.status === 422);
  return retryOnConflict(
    `${refName(ref)} (${resourceOf(ref.kind)}): caBundle`,
    { attempts: MAX_ATTEMPTS, raced },
    async (): Promise<InjectOutcome> => {
      const cfg = await api.readWebhookConfiguration(ref.kind, ref.name);
      if (!cfg) return { kind: 'missing' };
      const ours = ourWebhooks(cfg, svc);
      const stale = ours.filter(i => cfg.webhooks![i]!.clientConfig.caBundle !== desired);
      if (stale.length === 0)
        return { kind: 'present', ours: ours.length, trusted: trustedBy(cfg, ours), patched: false };
      if (!opts.overrideNewer) {
        const newer = newerThanOurs(cfg, stale, cas, Date.now());
        if (newer) return { kind: 'stale', newer };
      }
      const patch: JsonPatchOp[] = [
        { op: 'test', path: '/metadata/resourceVersion', value: cfg.metadata?.resourceVersion },
        ...stale.map(i => ({
          op: cfg.webhooks![i]!.clientConfig.caBundle === undefined ? ('add' as const) : ('replace' as const),
          path: `/webhooks/${i}/clientConfig/caBundle`,
          value: desired,
        })),
      ];
      try {
        const after = await api.patchWebhookConfiguration(ref.kind, ref.name, patch);
        return {
          kind: 'present',
          ours: ours.length,
          trusted: trustedBy(after, ourWebhooks(after, svc)),
          patched: true,
        };
      } catch (e) {
        if (isApiError(e) && e.notFound) return { kind: 'missing' };
        throw e;
      }
    },
  );
}
