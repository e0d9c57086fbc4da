// Read-modify-write against the API server with optimistic concurrency: each
// attempt reads the object afresh, computes, and writes with the
// resourceVersion it read. When someone else wrote first, the work is redone
// on what they wrote; a bounded number of times, since a writer that keeps
// winning is a fight to report rather than to join forever.

export class ConflictError extends Error {
  constructor(what: string, attempts: number, cause: unknown) {
    super(`${what}: still conflicting after ${attempts} attempts; another writer keeps changing it`, { cause });
    this.name = 'ConflictError';
  }
}

export interface RetryOnConflictOptions {
  /** At most this many attempts. */
  attempts: number;
  /** Whether an error means another writer came first (then the attempt is redone); any other error is thrown as is. */
  raced: (err: unknown) => boolean;
}

/** Runs `attempt` until it returns, redoing it after a lost race; throws ConflictError naming `what` when every attempt lost. */
export async function retryOnConflict<T>(
  what: string,
  opts: RetryOnConflictOptions,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  let last: unknown;
  for (let n = 1; n <= opts.attempts; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!opts.raced(err)) throw err;
      last = err;
    }
  }
  throw new ConflictError(what, opts.attempts, last);
}
