// Secret mode's shared state: the CA in one labelled Secret of the server's
// namespace. Every replica converges on the same CA through the API server's
// optimistic concurrency: a create that loses reads the winner's, an update
// that loses re-reads and decides again.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { retryOnConflict } from '../cluster/retry-on-conflict.js';
import { isApiError } from '../cluster/store.js';
import {
  APP_COMPONENT_LABEL,
  APP_MANAGED_BY_LABEL,
  APP_NAME_LABEL,
  CA_SECRET_COMPONENT,
  WEBHOOK_APP_NAME,
} from '../vineyard/names.js';
import type { CertApi } from './api.js';
import { issueCa, type KeyPairPem } from './issue.js';
import { certFacts, type CertFacts } from './pem.js';
import { caRotationAt, expired } from './renewal.js';

export const CA_CERT_KEY = 'ca.crt';
export const CA_KEY_KEY = 'ca.key';
/** The CA that `ca.crt` replaced, kept (and trusted) until it expires. */
export const PREVIOUS_CERT_KEY = 'previous-ca.crt';
const PREVIOUS_KEY_KEY = 'previous-ca.key';

export const CA_COMMON_NAME = 'vineyard-webhook-ca';
const MAX_ATTEMPTS = 6;

export interface CaEntry {
  pair: KeyPairPem;
  facts: CertFacts;
}

export interface CaState {
  /** Newest first: the current CA, then the one it replaced while that is still valid. */
  cas: CaEntry[];
  resourceVersion: string;
}

export interface CaSecretOptions {
  api: CertApi;
  namespace: string;
  name: string;
  caValidityMs: number;
  log: Logger;
  /** Called once for every CA this replica generated and stored. */
  onIssued?: () => void;
}

const decode = (s: string | undefined): string | undefined =>
  s ? Buffer.from(s, 'base64').toString('utf8') : undefined;
const encode = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A usable CA from two data entries, or a reason it is not. */
function readEntry(data: Record<string, string>, certKey: string, keyKey: string): CaEntry | string | undefined {
  const cert = decode(data[certKey]);
  const key = decode(data[keyKey]);
  if (!cert && !key) return undefined;
  if (!cert || !key) return `${cert ? keyKey : certKey} is missing`;
  try {
    const x = new X509Certificate(cert);
    if (!x.ca) return `${certKey} is not a CA certificate`;
    if (!x.checkPrivateKey(createPrivateKey(key))) return `${keyKey} does not belong to ${certKey}`;
    return { pair: { cert, key }, facts: certFacts(cert) };
  } catch (e) {
    return `${certKey}/${keyKey} do not parse: ${(e as Error).message}`;
  }
}

interface Parsed {
  current?: CaEntry;
  previous?: CaEntry;
  problems: string[];
  hasPrevious: boolean;
}

function parseSecret(secret: V1Secret): Parsed {
  const data = secret.data ?? {};
  const problems: string[] = [];
  const cur = readEntry(data, CA_CERT_KEY, CA_KEY_KEY);
  const prev = readEntry(data, PREVIOUS_CERT_KEY, PREVIOUS_KEY_KEY);
  if (typeof cur === 'string') problems.push(cur);
  if (typeof prev === 'string') problems.push(prev);
  return {
    current: typeof cur === 'object' ? cur : undefined,
    previous: typeof prev === 'object' ? prev : undefined,
    problems,
    hasPrevious: PREVIOUS_CERT_KEY in data || PREVIOUS_KEY_KEY in data,
  };
}

function stateOf(secret: V1Secret, now: number, p: Parsed = parseSecret(secret)): CaState {
  const cas = [p.current, p.previous].filter((c): c is CaEntry => !!c && !expired(c.facts, now));
  return { cas, resourceVersion: secret.metadata?.resourceVersion ?? '' };
}

type Plan = { reason: string; newCa: boolean; keepPrevious?: CaEntry } | null;

/** What, if anything, the Secret needs: a first CA, a replacement, a rotation, or dropping an expired previous CA. */
function planCa(p: Parsed, now: number): Plan {
  const cur = p.current;
  if (!cur)
    return {
      reason: p.problems.length
        ? `the CA in the Secret is unusable (${p.problems.join('; ')})`
        : 'the Secret holds no CA',
      newCa: true,
      keepPrevious: p.previous && !expired(p.previous.facts, now) ? p.previous : undefined,
    };
  if (expired(cur.facts, now)) return { reason: `the CA expired at ${cur.facts.notAfter.toISOString()}`, newCa: true };
  if (now >= caRotationAt(cur.facts))
    return {
      reason: `less than a third of the CA's life remains (expires ${cur.facts.notAfter.toISOString()})`,
      newCa: true,
      keepPrevious: cur,
    };
  if (p.hasPrevious && (!p.previous || expired(p.previous.facts, now)))
    return { reason: 'the previous CA expired', newCa: false };
  return null;
}

function withCaData(secret: V1Secret, current: CaEntry, previous: CaEntry | undefined): V1Secret {
  const data: Record<string, string> = { ...(secret.data ?? {}) };
  delete data[PREVIOUS_CERT_KEY];
  delete data[PREVIOUS_KEY_KEY];
  data[CA_CERT_KEY] = encode(current.pair.cert);
  data[CA_KEY_KEY] = encode(current.pair.key);
  if (previous) {
    data[PREVIOUS_CERT_KEY] = encode(previous.pair.cert);
    data[PREVIOUS_KEY_KEY] = encode(previous.pair.key);
  }
  return {
    ...secret,
    metadata: {
      ...secret.metadata,
      labels: {
        ...secret.metadata?.labels,
        [APP_NAME_LABEL]: WEBHOOK_APP_NAME,
        [APP_COMPONENT_LABEL]: CA_SECRET_COMPONENT,
        [APP_MANAGED_BY_LABEL]: WEBHOOK_APP_NAME,
      },
    },
    data,
  };
}

async function newCa(o: CaSecretOptions): Promise<CaEntry> {
  const pair = await issueCa(CA_COMMON_NAME, { validityMs: o.caValidityMs });
  return { pair, facts: certFacts(pair.cert) };
}

/**
 * Reads the CA Secret and brings it to a usable state: creates it when
 * missing, replaces an unusable or expiring CA (keeping the old one next to
 * it), drops a previous CA once expired. Writes nothing when the Secret is
 * already fine, so a restart changes nothing in the cluster.
 */
export async function syncCaSecret(o: CaSecretOptions): Promise<CaState> {
  const ref = `Secret ${o.namespace}/${o.name}`;
  // AlreadyExists: another replica created it first, read theirs; Conflict: it changed under us, read it again.
  const raced = (e: unknown) => {
    const lost = isApiError(e) && (e.alreadyExists || e.conflict);
    if (lost)
      o.log.debug(
        { secret: ref, reason: (e as { reason?: string }).reason },
        'another writer changed the CA Secret first; reading it again',
      );
    return lost;
  };
  return retryOnConflict(ref, { attempts: MAX_ATTEMPTS, raced }, async () => {
    const secret = await o.api.readSecret(o.namespace, o.name);
    if (!secret) {
      const ca = await newCa(o);
      const body = withCaData(
        { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: o.name, namespace: o.namespace } },
        ca,
        undefined,
      );
      const created = await o.api.createSecret(o.namespace, body);
      o.onIssued?.();
      o.log.info({ secret: ref, expires: ca.facts.notAfter }, 'created the webhook CA');
      return stateOf(created, Date.now());
    }
    const now = Date.now();
    const parsed = parseSecret(secret);
    const plan = planCa(parsed, now);
    if (!plan) return stateOf(secret, now, parsed);
    const current = plan.newCa ? await newCa(o) : parsed.current!;
    const previous = plan.newCa ? plan.keepPrevious : undefined;
    const updated = await o.api.replaceSecret(o.namespace, withCaData(secret, current, previous));
    if (plan.newCa) o.onIssued?.();
    o.log.info(
      { secret: ref, reason: plan.reason, expires: current.facts.notAfter, keptPrevious: !!previous },
      plan.newCa ? 'rotated the webhook CA' : 'removed the expired previous CA',
    );
    return stateOf(updated, Date.now());
  });
}
