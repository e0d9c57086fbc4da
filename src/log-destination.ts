// Where the server's log lines go: a file descriptor (stdout), written
// asynchronously. Logging must never stop serving: in a cluster stdout is a
// pipe owned by the container runtime, and a webhook with failurePolicy Fail
// that hangs blocks every pod creation it matches. Hence:
// - writes go through libuv's thread pool (fs.write), never blocking the
//   event loop, and at most one write is made per FLUSH_MS: each write costs
//   a hand-off to a pool thread and back, which under a burst of reviews (a
//   line each) cost more than the reviews' own logging; lines wait at most
//   FLUSH_MS, and the exit handler writes what is queued;
// - stdout and stderr are made non-blocking when they are pipes, so that no
//   write waits in a thread either: Node joins its thread pool on exit, and a
//   write blocked on a pipe nobody reads would hold the process forever;
// - a write error other than EAGAIN/EBUSY (EPIPE when the reader is gone,
//   EBADF when the descriptor was closed) stops logging for good and says so
//   once on stderr; the server goes on;
// - a reader that is slow or stalled lets lines queue up to a bound, past
//   which lines are dropped and counted (`dropped`);
// - on exit, what is queued is written synchronously, giving up on EAGAIN
//   after a moment.
// Not pino.destination (sonic-boom): its flushSync retries a failed write
// forever whatever the error, EPIPE included, and pino's guard handles EPIPE
// only, so a dead stdout froze the server in its exit handler.
import { write, writeSync } from 'node:fs';

/** Characters queued behind a stalled reader before lines are dropped. */
export const MAX_QUEUED_CHARS = 8 * 1024 * 1024;
const RETRY_MS = 50;
/** Longest a line waits before it is written; lines logged meanwhile share the write. */
const FLUSH_MS = 10;
/** Longest an exit path waits on a full pipe. */
const EXIT_RETRY_MS = 500;

type State = 'idle' | 'writing' | 'waiting' | 'stopped';

export interface LogDestinationOptions {
  maxQueuedChars?: number;
  /** Told once when logging stops; default: one line on stderr. */
  onStop?: (err: NodeJS.ErrnoException) => void;
}

export class LogDestination {
  /** Lines refused because the queue was full (a stalled reader). */
  dropped = 0;
  private queue: string[] = [];
  private queuedChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private state: State = 'idle';
  /** The bytes of the write in flight ('writing') or waiting to be retried ('waiting'). */
  private pending: Buffer | undefined;
  private waiters: Array<() => void> = [];
  private readonly maxQueuedChars: number;
  private readonly onStop: (err: NodeJS.ErrnoException) => void;

  constructor(
    private readonly fd = 1,
    opts: LogDestinationOptions = {},
  ) {
    this.maxQueuedChars = opts.maxQueuedChars ?? MAX_QUEUED_CHARS;
    // Node's stdio streams open a pipe through libuv, which sets O_NONBLOCK on
    // it: a full pipe then answers EAGAIN (retried here) instead of blocking.
    if (fd === 1) void process.stdout;
    void process.stderr;
    this.onStop =
      opts.onStop ??
      (err => {
        const text = `vineyard-webhook: cannot write logs to file descriptor ${fd} (${err.code ?? err.message}): logging stopped, the server keeps serving\n`;
        // Asynchronous and unchecked: stderr may be the same dead pipe.
        try {
          write(2, text, () => {});
        } catch {
          /* nowhere left to say it */
        }
      });
    process.once('exit', () => this.flushSync());
  }

  get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** What pino calls with each line. */
  write(line: string): boolean {
    if (this.state === 'stopped') return true;
    if (this.queuedChars + line.length > this.maxQueuedChars) {
      this.dropped++;
      return true;
    }
    this.queue.push(line);
    this.queuedChars += line.length;
    if (this.state === 'idle') this.schedule();
    return true;
  }

  private schedule(): void {
    this.timer ??= setTimeout(this.next, FLUSH_MS);
  }

  private readonly next = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'idle') return;
    if (this.queue.length === 0) return this.wake();
    const data = Buffer.from(this.queue.length === 1 ? this.queue[0]! : this.queue.join(''));
    this.queue = [];
    this.queuedChars = 0;
    this.send(data);
  };

  private send(data: Buffer): void {
    this.pending = data;
    this.state = 'writing';
    write(this.fd, data, 0, data.length, null, (err, n) => this.written(err, n));
  }

  private written(err: NodeJS.ErrnoException | null, n: number): void {
    if (this.state !== 'writing') return;
    const data = this.pending!;
    if (err) {
      if (err.code !== 'EAGAIN' && err.code !== 'EBUSY') return this.stop(err);
      this.state = 'waiting';
      // Unref'd: a full pipe must not keep a finished process alive; the exit handler writes what is left.
      setTimeout(() => {
        if (this.state === 'waiting') this.send(data);
      }, RETRY_MS).unref();
      return;
    }
    if (n < data.length) return this.send(data.subarray(n));
    this.pending = undefined;
    this.state = 'idle';
    // Lines logged while this write was in flight go out with the next batch.
    if (this.queue.length) this.schedule();
    else this.wake();
  }

  private stop(err: NodeJS.ErrnoException): void {
    this.state = 'stopped';
    this.queue = [];
    this.queuedChars = 0;
    this.pending = undefined;
    this.wake();
    this.onStop(err);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Resolves once everything logged so far is written (or logging stopped),
   * or after `timeoutMs`: a stalled reader must not hold a shutdown. True
   * when everything was written.
   */
  drained(timeoutMs: number): Promise<boolean> {
    const done = () => this.state === 'stopped' || (this.state === 'idle' && this.queue.length === 0);
    if (done()) return Promise.resolve(true);
    return new Promise(resolve => {
      // Ref'd: whoever waits is owed an answer, and the wait is bounded.
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve(true);
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
      // Now rather than at the end of the batching delay: whoever waits is shutting down.
      if (this.state === 'idle') this.next();
    });
  }

  /** pino's logger.flush(cb): `cb` runs once what was logged so far is written. */
  flush(cb?: (err?: Error) => void): void {
    void this.drained(EXIT_RETRY_MS * 4).then(() => cb?.());
  }

  /**
   * For exit paths: what is queued is written before this returns. Not when a
   * write is still in flight: its thread may be blocked on a full pipe, and a
   * second write would wait behind it for as long, so those lines are lost.
   */
  flushSync(): void {
    if (this.state === 'stopped' || this.state === 'writing') return;
    const parts = this.pending ? [this.pending, Buffer.from(this.queue.join(''))] : [Buffer.from(this.queue.join(''))];
    this.queue = [];
    this.queuedChars = 0;
    this.pending = undefined;
    let data = Buffer.concat(parts);
    const giveUpAt = Date.now() + EXIT_RETRY_MS;
    while (data.length > 0) {
      try {
        data = data.subarray(writeSync(this.fd, data));
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if ((err.code !== 'EAGAIN' && err.code !== 'EBUSY') || Date.now() > giveUpAt) {
          this.state = 'stopped';
          return;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }
}
