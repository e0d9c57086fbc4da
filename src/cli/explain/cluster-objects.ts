// The objects `explain pod/NAME` reads, read-only and with the user's own
// credentials (kubectl's): the pod and the webhook configurations. The
// answers are kept as the API server sent them (the webhooks get the pod as
// JSON, unknown fields included). A 404 naming the object is an answer
// (null); anything else is an error naming the object, the cluster and,
// for a refusal, the permission to check.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { KubeCaller } from '../../cluster/kube-call.js';
import { objectOrNull } from '../../cluster/kube-errors.js';
import { ApiError } from '../../cluster/store.js';
import { requireName, requireSegment } from '../../cluster/kube-store.js';
import type { Json } from '../mutate/pod-templates.js';

export interface ClusterObjects {
  pod(namespace: string, name: string): Promise<Json | null>;
  mutatingWebhookConfiguration(name: string): Promise<V1MutatingWebhookConfiguration | null>;
}

export function clusterObjects(kc: KubeConfig, timeoutMs = 10_000): ClusterObjects {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const caller = new KubeCaller(timeoutMs);
  const server = kc.getCurrentCluster()?.server ?? 'the cluster';
  const explained = (e: unknown, verb: string): Error => {
    if (!(e instanceof ApiError)) return e as Error;
    const hint =
      e.status === 401
        ? " (the kubeconfig's credentials are not accepted)"
        : e.status === 403
          ? ` (check your permissions: kubectl auth can-i ${verb})`
          : '';
    return new Error(`cannot read from ${server}: ${e.message}${hint}`);
  };
  return {
    async pod(namespace, name) {
      const call = `get pods ${namespace}/${name}`;
      requireSegment(call, 'namespace', namespace);
      requireName(call, name);
      try {
        return objectOrNull<Json>(
          call,
          await caller.send({ call }, o => core.readNamespacedPod({ namespace, name }, o)),
          name,
          'pods',
        );
      } catch (e) {
        throw explained(e, `get pods -n ${namespace}`);
      }
    },
    async mutatingWebhookConfiguration(name) {
      const call = `get mutatingwebhookconfigurations ${name}`;
      requireName(call, name);
      try {
        return objectOrNull<V1MutatingWebhookConfiguration>(
          call,
          await caller.send({ call }, o => admission.readMutatingWebhookConfiguration({ name }, o)),
          name,
          'mutatingwebhookconfigurations',
        );
      } catch (e) {
        throw explained(e, 'get mutatingwebhookconfigurations');
      }
    },
  };
}
