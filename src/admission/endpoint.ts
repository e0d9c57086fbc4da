// What an endpoint is: the object kind it accepts, the operations it acts on,
// how it resolves its context (the only place with I/O), its ordered pure
// mutators, and its policy hooks (shape, limits, skip reasons, events). The
// runner and the server call the hooks and know nothing of what they check:
// the endpoint table is the only place the server and Vineyard meet.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { AdmissionRequest, JsonObject, Operation } from './types.js';
import type { ClusterStore, CallOptions } from '../cluster/store.js';
import type { SidecarMode } from '../vineyard/sidecar.js';
import type { NamedMutator, Verdict } from './mutator.js';
import type { Outcome } from './run.js';

export interface PipelineConfig {
  sidecarMode: SidecarMode;
  /** When set, pods still on `default-scheduler` are moved to this scheduler. */
  schedulerName: string;
  /** Where injected vineyardd keeps its metadata unless the pod or its Sidecar says: the Sidecar's etcd, or in the process. */
  sidecarMeta?: SidecarMeta;
  /** How a workflow pod's node is written: a required node affinity, or spec.nodeName (upstream's). */
  placement?: 'affinity' | 'node-name';
  /** A pod whose required job has no data yet: refused (the controller retries), or admitted with a warning. */
  schedulingNoData?: 'deny' | 'allow';
  /** How long an assembly or repartition consumer is refused as waiting for its Operation, from the Operation's creation; then refused as timed out. */
  operationTimeoutMs?: number;
  /** A fixed time (RFC 3339) instead of the clock, for fixtures and previews that must not depend on when they run. */
  now?: string;
}

export const defaultPipelineConfig: PipelineConfig = {
  sidecarMode: 'injected',
  schedulerName: '',
  placement: 'affinity',
  sidecarMeta: 'etcd',
};

/** `etcd`: the Sidecar's etcd (`<cr>-etcd-service`, created by the Vineyard operator); `local`: in the vineyardd process (`--meta local`), enough for the containers of one pod. */
export type SidecarMeta = 'etcd' | 'local';
export const SIDECAR_METAS: readonly SidecarMeta[] = ['etcd', 'local'];

/** Records what the pipeline is waiting on, so a deadline denial can say it. */
export interface Progress {
  step: string;
}

export interface ResolveInput {
  req: AdmissionRequest;
  /** request.object, checked to be an object of the endpoint's kind. */
  obj: JsonObject;
  store: ClusterStore;
  config: PipelineConfig;
  progress: Progress;
  call: CallOptions;
}

/**
 * Why an allowed review got no patch, as a category a metric label can carry
 * (each endpoint's are a fixed few) and a sentence a person can read.
 */
export interface Skip {
  reason: string;
  message: string;
}

/**
 * Either the mutators' context, or a final answer reached while resolving (a
 * denial, or a skip the resolver decided, which the skip hook is not asked again).
 */
export type Resolved<C> = { ctx: C; warnings?: string[] } | { done: Verdict; skip?: Skip };

export interface EventInput {
  endpoint: AnyEndpoint;
  request: AdmissionRequest;
  outcome: Outcome;
  now: Date;
  /** This replica (the pod's hostname): reportingInstance. */
  instance: string;
}

export interface Endpoint<C = unknown> {
  path: string;
  /** Short name used in logs, metrics and fixture directories. */
  name: string;
  /** The kind the webhook configuration sends here. */
  expects: { group: string; kind: string };
  /** Operations the pipeline runs on; any other is allowed without a patch. */
  operations: readonly Operation[];
  /** Validating endpoints may deny but never patch. */
  mutating: boolean;
  resolve(input: ResolveInput): Promise<Resolved<C>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mutators: ReadonlyArray<NamedMutator<any, C>>;
  /** Why the object cannot be admitted as sent (a field of the wrong JSON type); checked before any work. */
  shapeProblem?(endpoint: Endpoint<C>, req: AdmissionRequest, obj: Readonly<JsonObject>): string | undefined;
  /** Why the review asks more than the webhook's limits allow; checked after the shape, before any API call. */
  limitProblem?(endpoint: Endpoint<C>, req: AdmissionRequest, obj: Readonly<JsonObject>): string | undefined;
  /**
   * Why a review this endpoint allowed got no patch (`ctx` is undefined when
   * the resolver answered); endpoints without it report no skips. Called only
   * for handled operations: the runner reports the others.
   */
  skip?(endpoint: Endpoint<C>, req: AdmissionRequest, ctx: C | undefined): Skip;
  /** The Kubernetes Event this admission leaves behind, if any; sent after the answer. Pure. */
  event?(input: EventInput): CoreV1Event | undefined;
}

/**
 * An endpoint whatever its context type: the table, the server and the shared
 * hooks hold endpoints whose contexts differ, and only the endpoint's own
 * resolver and mutators ever see its context.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEndpoint = Endpoint<any>;

/** The event to record for this admission, or undefined: the endpoint's hook decides. */
export const admissionEvent = (input: EventInput): CoreV1Event | undefined => input.endpoint.event?.(input);

export const noContext = async (): Promise<Resolved<undefined>> => ({ ctx: undefined });
