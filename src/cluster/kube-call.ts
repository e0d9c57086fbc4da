// One Kubernetes API call through @kubernetes/client-node, with what the
// generated client does not give us:
// - the answer exactly as sent (status + text): the client deserializes into
//   model classes (Date fields, unknown fields dropped), so a per-call
//   middleware keeps the raw body and the model result is ignored;
// - the request body exactly as given (no model round-trip) and a chosen
//   Content-Type (patches: the client defaults to json-patch);
// - cancellation: the caller's AbortSignal and a per-call timeout both abort
//   the underlying fetch, so a hung API server cannot hold a review;
// - connection reuse: client-node 2.0 builds a new undici Agent (a new TLS
//   connection) per request when the kubeconfig has TLS settings; the first
//   one is kept for every later call of this caller.
// No retries here: whether a call is safe to repeat is the caller's decision.
import {
  Observable,
  ResponseContext,
  SelfDecodingBody,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { ApiError } from './store.js';
import { noAnswerError, type NoAnswer, type RawAnswer } from './kube-errors.js';

export const DEFAULT_CALL_TIMEOUT_MS = 5000;
const USER_AGENT = 'vineyard-webhook';

export interface CallSpec {
  /** Names the call in errors, e.g. `get sidecars vineyard-job/sidecar-sample`. */
  call: string;
  signal?: AbortSignal | undefined;
  /** Replaces the client's Content-Type (e.g. `application/merge-patch+json`). */
  contentType?: string;
  /** Sent as JSON.stringify(body), bypassing the client's model serializer. */
  body?: unknown;
  /** Replaces the client's Accept (e.g. metadata only: `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`). */
  accept?: string;
}

/**
 * Told of every call that was sent: its verb and resource (the first two
 * words of CallSpec.call, e.g. `get sidecars`) and the HTTP status, or
 * `<error>` when no answer came (client-go's label for it).
 */
export type CallObserver = (verb: string, resource: string, code: string) => void;

// Process-wide: every KubeCaller (store, certificates, caches) is counted
// without each of their constructors having to carry it.
let observer: CallObserver | undefined;

/** serve.ts sets the metrics' counter here; undefined stops observing. */
export function observeKubeCalls(fn: CallObserver | undefined): void {
  observer = fn;
}

/** Runs a client-node method with the per-call options this caller builds. */
export type ClientCall = (options: ConfigurationOptions) => Promise<unknown>;

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

export class KubeCaller {
  private dispatcher: Dispatcher;

  constructor(readonly timeoutMs: number = DEFAULT_CALL_TIMEOUT_MS) {}

  /** Every HTTP answer resolves (errors included); no answer rejects with an ApiError of status 0. */
  async send(spec: CallSpec, run: ClientCall): Promise<RawAnswer> {
    if (spec.signal?.aborted) throw noAnswerError(spec.call, { kind: 'aborted', reason: spec.signal.reason });
    const controller = new AbortController();
    let why: NoAnswer | undefined;
    const onAbort = () => {
      why ??= { kind: 'aborted', reason: spec.signal?.reason };
      controller.abort(spec.signal?.reason);
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      why ??= { kind: 'timeout', ms: this.timeoutMs };
      controller.abort(new Error(`timed out after ${this.timeoutMs} ms`));
    }, this.timeoutMs);

    let answer: RawAnswer | undefined;
    const middleware: ObservableMiddleware = {
      pre: ctx => new Observable(Promise.resolve(this.prepare(ctx, spec, controller.signal))),
      post: rsp =>
        new Observable(
          (async () => {
            // undici's Response has no buffer(), which the client's binary() calls: read text.
            const text = await rsp.body.text();
            answer = { status: rsp.httpStatusCode, text };
            return new ResponseContext(
              rsp.httpStatusCode,
              rsp.headers,
              new SelfDecodingBody(Promise.resolve(Buffer.from(text))),
            );
          })(),
        ),
    };

    try {
      await run({ middleware: [middleware], middlewareMergeStrategy: 'append' });
    } catch (err) {
      // With the answer in hand, the client's own complaint (ApiException for a
      // non-2xx, a model it could not build) is not ours: the answer decides.
      if (!answer) throw why ? noAnswerError(spec.call, why) : asNoAnswer(spec.call, err);
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      if (observer) {
        const [verb = '', resource = ''] = spec.call.split(' ', 2);
        observer(verb, resource, answer ? String(answer.status) : '<error>');
      }
    }
    if (!answer)
      throw noAnswerError(spec.call, { kind: 'failed', error: new Error('the client finished without an answer') });
    return answer;
  }

  private prepare(ctx: RequestContext, spec: CallSpec, signal: AbortSignal): RequestContext {
    ctx.setSignal(signal);
    ctx.setHeaderParam('User-Agent', USER_AGENT);
    if (spec.contentType) ctx.setHeaderParam('Content-Type', spec.contentType);
    if (spec.accept) ctx.setHeaderParam('Accept', spec.accept);
    if (spec.body !== undefined) ctx.setBody(JSON.stringify(spec.body));
    const d = ctx.getDispatcher();
    if (d) {
      this.dispatcher ??= d;
      ctx.setDispatcher(this.dispatcher!);
    }
    return ctx;
  }
}

function asNoAnswer(call: string, err: unknown): ApiError {
  return err instanceof ApiError ? err : noAnswerError(call, { kind: 'failed', error: err });
}
