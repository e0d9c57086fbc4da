// What an endpoint is: the object kind it accepts, the operations it acts on,
// how it resolves its context (the only place with I/O), and its ordered pure
// mutators. The endpoint table is the only place the server and Vineyard meet.
import type { AdmissionRequest, JsonObject, Operation } from './types.js';
import type { ClusterStore, CallOptions } from '../cluster/store.js';
import type { SidecarMode } from '../vineyard/sidecar.js';
import type { NamedMutator, Verdict } from './mutator.js';

export interface PipelineConfig {
  sidecarMode: SidecarMode;
  /** When set, pods still on `default-scheduler` are moved to this scheduler. */
  schedulerName: string;
}

export const defaultPipelineConfig: PipelineConfig = { sidecarMode: 'injected', schedulerName: '' };

/** Records what the pipeline is waiting on, so a deadline denial can say it. */
export interface Progress { step: string }

export interface ResolveInput {
  req: AdmissionRequest;
  /** request.object, checked to be an object of the endpoint's kind. */
  obj: JsonObject;
  store: ClusterStore;
  config: PipelineConfig;
  progress: Progress;
  call: CallOptions;
}

/** Either the mutators' context, or a final answer reached while resolving (e.g. a denial). */
export type Resolved<C> = { ctx: C; warnings?: string[] } | { done: Verdict };

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
}

export const noContext = async (): Promise<Resolved<undefined>> => ({ ctx: undefined });
