// Where the server's log lines go: stdout, in batches. Lines logged during one
// turn of the event loop are joined and handed to one SonicBoom write at the
// end of it; SonicBoom writes asynchronously and sends whatever piled up while
// a write was in flight with the next. A busy server makes one write for many
// reviews, a quiet one writes each line at once. (SonicBoom's own buffering,
// minLength, measured the byte length of its whole pending buffer on every
// line: 4 us a line, more than formatting it.)
import sonicBoom, { type SonicBoom } from 'sonic-boom';

// A CommonJS module whose class is module.exports itself.
const SonicBoomClass = sonicBoom as unknown as typeof SonicBoom;

export class BatchedDestination {
  private pending: string[] = [];
  private scheduled = false;
  private readonly boom: SonicBoom;

  constructor(fd = 1) {
    this.boom = new SonicBoomClass({ fd, sync: false, minLength: 0 });
    // Lines still pending when the process exits are written synchronously.
    process.once('exit', () => this.flushSync());
  }

  /** What pino calls with each line. */
  write(line: string): boolean {
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.handOver);
    }
    return true;
  }

  private readonly handOver = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.boom.write(data);
  };

  /**
   * pino's logger.flush(): everything logged so far goes to SonicBoom now,
   * which writes it once its write in flight (if any) is done; `cb` does not
   * wait for that. flushSync() is the one that waits.
   */
  flush(cb?: (err?: Error) => void): void {
    this.handOver();
    this.boom.flush((err?: Error) => cb?.(err ?? undefined));
  }

  /** For exit paths: everything logged so far is written before this returns. */
  flushSync(): void {
    this.handOver();
    try {
      this.boom.flushSync();
    } catch {
      // Nothing more can be done about stdout at exit (closed pipe, EAGAIN past retries).
    }
  }
}
