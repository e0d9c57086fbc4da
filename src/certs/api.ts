// The Kubernetes calls the certificate bootstrapper makes, and nothing else.
// Implementations: @kubernetes/client-node (kube-api.ts) and memory (memory-api.ts).
// Failures are ApiErrors naming the call, e.g. `update secrets vineyard-system/vineyard-webhook-ca`.
import type {
  V1MutatingWebhookConfiguration,
  V1Secret,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';

export type WebhookKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
export type WebhookConfiguration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration;

/** RFC 6902 operations; `test` guards the patch against a concurrent writer. */
export type JsonPatchOp =
  { op: 'test' | 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface CertApi {
  /** `null` when the Secret does not exist. */
  readSecret(namespace: string, name: string): Promise<V1Secret | null>;
  /** Throws ApiError AlreadyExists (409) when another replica created it first. */
  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** Optimistic concurrency on metadata.resourceVersion: throws ApiError Conflict (409) when stale. */
  replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** `null` when the configuration does not exist. */
  readWebhookConfiguration(kind: WebhookKind, name: string): Promise<WebhookConfiguration | null>;
  /** A JSON Patch (application/json-patch+json); a failed `test` is a 409 or 422 ApiError. */
  patchWebhookConfiguration(kind: WebhookKind, name: string, patch: JsonPatchOp[]): Promise<WebhookConfiguration>;
}

export const resourceOf = (kind: WebhookKind): string =>
  kind === 'MutatingWebhookConfiguration' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations';
