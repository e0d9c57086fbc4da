// Shared by the certificate tests: webhook configurations as the manifests
// declare them, and reading back what a bundle trusts.
import { X509Certificate } from 'node:crypto';
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { splitPem } from '../../src/certs/pem.js';

export const NS = 'vineyard-system';
export const SVC = 'vineyard-webhook';
export const CONFIG = 'vineyard-webhook';
export const SNI = `${SVC}.${NS}.svc`;

const hook = (name: string, service: { name: string; namespace: string } | undefined, caBundle?: string) => ({
  name,
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  clientConfig: {
    ...(service ? { service: { ...service, path: `/${name}` } } : { url: `https://${name}/` }),
    ...(caBundle !== undefined ? { caBundle } : {}),
  },
});

/** Two webhooks calling our Service (one without a caBundle, one with a placeholder), one calling another Service, one by URL. */
export function mutatingConfig(): V1MutatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: CONFIG },
    webhooks: [
      hook('sidecar.vineyard.io', { name: SVC, namespace: NS }),
      hook('scheduling.vineyard.io', { name: SVC, namespace: NS }, 'Cg=='),
      hook('other.example.com', { name: 'other', namespace: NS }, 'b3RoZXI='),
      hook('url.example.com', undefined, 'dXJs'),
    ],
  };
}

export function validatingConfig(): V1ValidatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: CONFIG },
    webhooks: [hook('sidecar-validate.vineyard.io', { name: SVC, namespace: NS })],
  };
}

export const decodeBundle = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');

/** Fingerprints of the certificates a bundle (base64, as in clientConfig.caBundle) holds. */
export const bundleFingerprints = (b64: string | undefined): string[] =>
  splitPem(decodeBundle(b64)).map(p => new X509Certificate(p).fingerprint256);

/** The certificate in `bundle` (PEM) that signed `cert`, if any. */
export function issuerIn(bundlePem: string, cert: string): X509Certificate | undefined {
  const leaf = new X509Certificate(cert);
  return splitPem(bundlePem)
    .map(p => new X509Certificate(p))
    .find(ca => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}
