// The API server's admission of one pod, offline: the pod webhooks in the
// MutatingWebhookConfiguration's order, each called when its selectors match
// the namespace and the pod as it is at that point, through the same
// pipelines the server runs (runPipeline and the endpoint table).
//
// Reinvocation, simplified. The API server calls a webhook whose
// reinvocationPolicy is IfNeeded once more when a webhook after it changed
// the object, at most once. Here: run the sequence; when a webhook changed
// the pod, run once more, in order, every IfNeeded webhook that was called
// before the last change and still matches. Unlike the API server, nothing
// else changes the pod in between (no in-tree admission plugins, no defaults),
// so a webhook only sees what the webhooks before it did.
import { randomUUID } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmissionRequest, JsonObject } from '../../admission/types.js';
import type { ClusterStore } from '../../cluster/store.js';
import { podLabels } from '../../endpoints/pod/pod-helpers.js';
import type { PipelineConfig } from '../../admission/endpoint.js';
import { endpointByPath } from '../../endpoints/table.js';
import { runPipeline } from '../../admission/run.js';
import { patchedCopy } from '../../jsonpatch/patched-copy.js';
import { POD_WEBHOOKS, reaches, type PodWebhook } from './pod-webhooks.js';
import type { Json } from './pod-templates.js';

export interface AdmitDeps {
  store: ClusterStore;
  config: PipelineConfig;
  /** The webhooks that exist, in call order; default: those of deploy/. */
  webhooks?: readonly PodWebhook[];
}

export interface WebhookDenial {
  webhook: string;
  code: number;
  message: string;
}

/** One call of a webhook, as the report and `--explain` tell it. */
export interface WebhookCall {
  webhook: string;
  result: 'changed' | 'unchanged' | 'denied';
  /** JSON-pointer paths the webhook's patch wrote. */
  paths: string[];
  /** Why an unchanged pod was left alone, from endpoints that report skips. */
  skip?: string;
  /** The pod after this call. */
  pod: Json;
}

export interface PodAdmission {
  /** The pod after every webhook (the input when denied). */
  pod: Json;
  /** Every webhook's warnings, each once (the API server also drops repeats). */
  warnings: string[];
  denial?: WebhookDenial;
  /** Names of the webhooks called, in order; a reinvoked one appears twice. */
  calls: string[];
  /** What each of those calls did, in the same order. */
  steps: WebhookCall[];
}

function createRequest(pod: Json, namespace: string): AdmissionRequest {
  const name = (pod.metadata as { name?: unknown } | undefined)?.name;
  return {
    uid: randomUUID(),
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    ...(typeof name === 'string' && name ? { name } : {}),
    namespace,
    operation: 'CREATE',
    userInfo: { username: 'vineyard-webhook-mutate' },
    object: pod as JsonObject,
    oldObject: null,
    // Not a dry run: a pod that uses the default Sidecar creates or counts it,
    // in the caller's store (memory, for the CLI), exactly as in a cluster.
    dryRun: false,
  };
}

export async function admitPod(
  pod: Json,
  namespace: string,
  nsLabels: Readonly<Record<string, string>>,
  deps: AdmitDeps,
): Promise<PodAdmission> {
  const hooks = deps.webhooks ?? POD_WEBHOOKS;
  const warnings = new Set<string>();
  const calls: string[] = [];
  const steps: WebhookCall[] = [];
  let current = pod;

  const call = async (hook: PodWebhook): Promise<WebhookDenial | 'changed' | 'unchanged'> => {
    const endpoint = endpointByPath.get(hook.path);
    if (!endpoint) throw new Error(`webhook ${hook.name} calls ${hook.path}, which is not in the endpoint table`);
    calls.push(hook.name);
    const out = await runPipeline(endpoint, createRequest(current, namespace), deps);
    for (const w of out.response.warnings ?? []) warnings.add(w);
    if (!out.response.allowed) {
      steps.push({ webhook: hook.name, result: 'denied', paths: [], pod: current });
      return {
        webhook: hook.name,
        code: out.response.status?.code ?? 403,
        message: out.response.status?.message ?? 'denied',
      };
    }
    if (!out.patch.length) {
      steps.push({
        webhook: hook.name,
        result: 'unchanged',
        paths: [],
        ...(out.skip ? { skip: out.skip.message } : {}),
        pod: current,
      });
      return 'unchanged';
    }
    current = patchedCopy(current, out.patch, false);
    steps.push({ webhook: hook.name, result: 'changed', paths: out.patch.map(op => op.path), pod: current });
    return 'changed';
  };
  const matches = (hook: PodWebhook) => reaches(hook, nsLabels, podLabels(current as V1Pod));
  const denied = (denial: WebhookDenial): PodAdmission => ({ pod, warnings: [...warnings], denial, calls, steps });

  const called: number[] = [];
  let lastChange = -1;
  for (const [i, hook] of hooks.entries()) {
    if (!matches(hook)) continue;
    const r = await call(hook);
    if (typeof r === 'object') return denied(r);
    called.push(i);
    if (r === 'changed') lastChange = i;
  }
  for (const i of called) {
    const hook = hooks[i]!;
    if (i >= lastChange || hook.reinvocationPolicy !== 'IfNeeded' || !matches(hook)) continue;
    const r = await call(hook);
    if (typeof r === 'object') return denied(r);
  }
  return { pod: current, warnings: [...warnings], calls, steps };
}
