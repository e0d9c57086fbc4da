// The load generator's worker threads, driven in lock step: each holds its
// share of the connections, and every phase starts on all of them at once.
import { Worker } from 'node:worker_threads';

const LOADGEN = new URL('./loadgen.js', import.meta.url);

export class GeneratorPool {
  constructor(workers, connections, ca) {
    if (connections < workers) workers = connections;
    this.shares = Array.from(
      { length: workers },
      (_, i) => Math.floor(connections / workers) + (i < connections % workers ? 1 : 0),
    );
    this.connections = connections;
    this.workers = this.shares.map((_, id) => new Worker(LOADGEN, { workerData: { id, ca } }));
    for (const w of this.workers) w.unref();
  }

  call(worker, msg, transfer) {
    return new Promise((resolve, reject) => {
      const onMessage = m => {
        worker.off('error', onError);
        worker.off('message', onMessage);
        if (m.type === 'error') reject(new Error(`generator worker: ${m.message}`));
        else resolve(m);
      };
      const onError = err => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.postMessage(msg, transfer);
    });
  }

  all(make) {
    return Promise.all(this.workers.map((w, i) => this.call(w, make(i))));
  }

  /** Hands every worker the scenario (plain data: its review text and check rule). */
  async scenario(s) {
    await this.all(() => ({ type: 'scenario', scenario: s }));
  }

  /** Opens the kept-alive connections to `port` (closing the previous ones). */
  async connect(port) {
    await this.all(i => ({ type: 'connect', port, connections: this.shares[i] }));
  }

  /**
   * One phase on every worker. `rate` (open mode) is the total; each worker
   * takes the share of it that its share of the connections gives.
   */
  async run({ mode, port, durationMs, rate, ceiling = false }) {
    const startAt = Date.now() + 100;
    const replies = await this.all(i => ({
      type: 'run',
      mode,
      port,
      durationMs,
      ceiling,
      startAt,
      rate: rate ? (rate * this.shares[i]) / this.connections : undefined,
    }));
    return replies.map(r => r.result);
  }

  async close() {
    await this.all(() => ({ type: 'close' })).catch(() => {});
    await Promise.all(this.workers.map(w => w.terminate()));
  }
}
