// CertApi over the Kubernetes API with @kubernetes/client-node 2.x, through the
// cluster layer's KubeCaller: per-call timeout (a hung API server cannot stall
// renewal), objects as the server sent them, errors as ApiErrors naming the call.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  PatchStrategy,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { DEFAULT_CALL_TIMEOUT_MS, KubeCaller } from '../cluster/kube-call.js';
import { expectOk, objectOrNull } from '../cluster/kube-errors.js';
import { resourceOf, type CertApi, type JsonPatchOp, type WebhookConfiguration, type WebhookKind } from './api.js';

export function createKubeCertApi(kc: KubeConfig, opts: { timeoutMs?: number } = {}): CertApi {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const caller = new KubeCaller(opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  const mutating = (kind: WebhookKind) => kind === 'MutatingWebhookConfiguration';

  return {
    async readSecret(namespace, name) {
      const call = `get secrets ${namespace}/${name}`;
      const a = await caller.send({ call }, o => core.readNamespacedSecret({ namespace, name }, o));
      return objectOrNull<V1Secret>(call, a, name, 'secrets');
    },
    async createSecret(namespace, body) {
      const call = `create secrets ${namespace}/${body.metadata?.name}`;
      return expectOk<V1Secret>(
        call,
        await caller.send({ call, body }, o => core.createNamespacedSecret({ namespace, body }, o)),
      );
    },
    async replaceSecret(namespace, body) {
      const name = body.metadata!.name!;
      const call = `update secrets ${namespace}/${name}`;
      return expectOk<V1Secret>(
        call,
        await caller.send({ call, body }, o => core.replaceNamespacedSecret({ namespace, name, body }, o)),
      );
    },
    async readWebhookConfiguration(kind, name) {
      const call = `get ${resourceOf(kind)} ${name}`;
      const a = await caller.send({ call }, o =>
        mutating(kind)
          ? admission.readMutatingWebhookConfiguration({ name }, o)
          : admission.readValidatingWebhookConfiguration({ name }, o),
      );
      return objectOrNull<WebhookConfiguration>(call, a, name, resourceOf(kind));
    },
    async patchWebhookConfiguration(kind, name, body: JsonPatchOp[]) {
      const call = `patch ${resourceOf(kind)} ${name}`;
      const a = await caller.send({ call, body, contentType: PatchStrategy.JsonPatch }, o =>
        mutating(kind)
          ? admission.patchMutatingWebhookConfiguration({ name, body }, o)
          : admission.patchValidatingWebhookConfiguration({ name, body }, o),
      );
      return expectOk<WebhookConfiguration>(call, a);
    },
  };
}
