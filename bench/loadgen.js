// A load generator worker thread: holds some of the kept-alive HTTP/1.1 + TLS
// connections and drives them the way kube-apiserver does (one review in
// flight per connection, never pipelined). A raw client (request bytes
// prepared once, a minimal response parser) keeps the generator's own cost
// per request far below the server's.
//
// Phases, sent by the main thread:
// - closed: each connection sends its next review as soon as the previous
//   answer arrives (saturation: the most the server can answer);
// - open: reviews are due at a fixed rate whatever the server does; latency
//   is measured from the time a review was due, so a slow answer also counts
//   against the reviews queued behind it (no coordinated omission).
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { makeChecker } from './check.js';

const { id, ca } = workerData;
const CRLF2 = Buffer.from('\r\n\r\n');
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_PROBLEMS_KEPT = 5;

/** One kept-alive connection with at most one request in flight. */
class Connection {
  constructor(port, onAnswer, onBroken) {
    this.port = port;
    this.onAnswer = onAnswer;
    this.onBroken = onBroken;
    this.buf = null;
    this.pending = null; // {uid, intended, sent}
    this.head = null; // {status, bodyStart, length, chunked}
  }

  open() {
    return new Promise((resolve, reject) => {
      const sock = connect({
        host: '127.0.0.1',
        port: this.port,
        ca,
        servername: 'localhost',
        ALPNProtocols: ['http/1.1'],
      });
      this.sock = sock;
      sock.setNoDelay(true);
      sock.once('secureConnect', () => {
        if (sock.alpnProtocol && sock.alpnProtocol !== 'http/1.1')
          reject(new Error(`ALPN chose ${sock.alpnProtocol}, not http/1.1`));
        else resolve(this);
      });
      sock.on('data', chunk => this.onData(chunk));
      sock.on('error', err => {
        reject(err);
        this.broken(`connection error: ${err.message}`);
      });
      sock.on('close', () => this.broken('the server closed the connection'));
    });
  }

  broken(reason) {
    if (this.closed) return;
    this.closed = true;
    const p = this.pending;
    this.pending = null;
    this.onBroken(this, p, reason);
  }

  send(bytes, uid, intended) {
    const sent = performance.now();
    this.pending = { uid, intended: intended ?? sent, sent };
    this.sock.write(bytes);
  }

  onData(chunk) {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.head) {
        const end = this.buf.indexOf(CRLF2);
        if (end < 0) return;
        const text = this.buf.toString('latin1', 0, end);
        const status = Number(text.slice(9, 12));
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
        this.close = /\r\nconnection:\s*close/i.test(text);
        this.head = { status, bodyStart: end + 4, length: cl ? Number(cl[1]) : chunked ? -1 : 0 };
      }
      const body = this.head.length >= 0 ? this.fixedBody() : this.chunkedBody();
      if (!body) return;
      const { status } = this.head;
      this.head = null;
      const p = this.pending;
      this.pending = null;
      if (!p) {
        this.onBroken(this, null, 'an answer came with no request in flight');
        return;
      }
      this.onAnswer(this, p, status, body);
      if (this.close) {
        this.sock.destroy();
        this.broken('the server asked to close the connection');
        return;
      }
      if (!this.buf || this.buf.length === 0) {
        this.buf = null;
        return;
      }
    }
  }

  fixedBody() {
    const { bodyStart, length } = this.head;
    if (this.buf.length < bodyStart + length) return undefined;
    const body = this.buf.subarray(bodyStart, bodyStart + length);
    this.buf = this.buf.length > bodyStart + length ? this.buf.subarray(bodyStart + length) : null;
    return body;
  }

  chunkedBody() {
    const parts = [];
    let at = this.head.bodyStart;
    for (;;) {
      const eol = this.buf.indexOf('\r\n', at);
      if (eol < 0) return undefined;
      const size = parseInt(this.buf.toString('latin1', at, eol), 16);
      if (this.buf.length < eol + 2 + size + 2) return undefined;
      if (size === 0) {
        const end = eol + 4;
        this.buf = this.buf.length > end ? this.buf.subarray(end) : null;
        return Buffer.concat(parts);
      }
      parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
}

/** Latencies in milliseconds, in a growable typed array. */
class Samples {
  constructor() {
    this.a = new Float64Array(1 << 14);
    this.n = 0;
  }
  push(v) {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  take() {
    return this.a.slice(0, this.n);
  }
}

let conns = [];
let scenario;

function requestHead(s, host) {
  const length = s.bodyParts.reduce((n, p) => n + Buffer.byteLength(p), 0) + 36 * (s.bodyParts.length - 1);
  return `POST ${s.path}?timeout=10s HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: kube-apiserver-admission\r\nAccept: application/json, */*\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${s.bodyParts[0]}`;
}

/** Runs one phase on this worker's connections; resolves with its counts and samples. */
async function runPhase(msg) {
  const { mode, durationMs, rate, startAt, ceiling } = msg;
  const head = Buffer.from(requestHead(scenario, `localhost:${msg.port}`));
  const rest = scenario.bodyParts.slice(1).map(p => Buffer.from(p));
  const check = makeChecker(scenario, { ceiling });
  const latency = new Samples();
  const service = new Samples();
  const problems = [];
  const errorCounts = {};
  let sent = 0,
    answered = 0,
    inWindow = 0,
    failed = 0;
  let inFlight = 0;
  const fail = reason => {
    failed++;
    const kind = reason.replace(/[:(].*$/s, '').trim();
    errorCounts[kind] = (errorCounts[kind] ?? 0) + 1;
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push(reason);
  };

  await new Promise(r => setTimeout(r, Math.max(0, startAt - Date.now())));
  const t0 = performance.now();
  const end = t0 + durationMs;
  let stopped = false;
  let finish;
  const finished = new Promise(r => {
    finish = r;
  });
  const maybeFinish = () => {
    if (stopped && inFlight === 0) finish();
  };

  const free = [];
  const due = []; // open loop: due times of reviews not sent yet
  const sendOn = (c, intended) => {
    const uid = randomUUID();
    const id = Buffer.from(uid);
    const pieces = [head];
    for (const part of rest) pieces.push(id, part);
    c.send(Buffer.concat(pieces), uid, intended);
    sent++;
    inFlight++;
  };

  const onAnswer = (c, p, status, body) => {
    inFlight--;
    const now = performance.now();
    answered++;
    const problem = check(p.uid, status, body);
    if (problem) fail(`wrong answer: ${problem}`);
    else if (now <= end || mode === 'open') {
      latency.push(now - p.intended);
      service.push(now - p.sent);
      if (now <= end) inWindow++;
    }
    if (stopped) {
      maybeFinish();
      return;
    }
    if (mode === 'closed') {
      if (now < end) sendOn(c, undefined);
      else maybeFinish();
    } else if (due.length) sendOn(c, due.shift());
    else free.push(c);
  };
  const onBroken = (c, p, reason) => {
    conns = conns.filter(x => x !== c);
    const idle = free.indexOf(c);
    if (idle >= 0) free.splice(idle, 1);
    if (p) {
      inFlight--;
      fail(reason);
    } else if (!stopped) redial();
    maybeFinish();
  };
  // An idle connection the server closed (its keep-alive timeout, 120 s for the
  // webhook: an open-loop phase leaves most connections idle) is no error: a
  // client dials a new one, as kube-apiserver's does.
  const redial = () => {
    // Handlers only once connected: a failed dial is one error, not another redial.
    new Connection(
      msg.port,
      () => {},
      () => {},
    )
      .open()
      .then(
        n => {
          n.onAnswer = onAnswer;
          n.onBroken = onBroken;
          conns.push(n);
          if (stopped) return;
          if (mode === 'closed') {
            if (performance.now() < end) sendOn(n, undefined);
          } else if (due.length) sendOn(n, due.shift());
          else free.push(n);
        },
        err => {
          if (!stopped) fail(`reconnecting: ${err.message}`);
        },
      );
  };
  for (const c of conns) {
    c.onAnswer = onAnswer;
    c.onBroken = onBroken;
  }

  let timer;
  if (mode === 'closed') {
    for (const c of conns) sendOn(c, undefined);
    timer = setTimeout(() => {
      stopped = true;
      maybeFinish();
    }, durationMs);
  } else {
    const interval = 1000 / rate;
    const total = Math.floor((durationMs / 1000) * rate);
    let next = 0;
    free.push(...conns);
    const tick = () => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) due.push(t0 + next++ * interval);
      while (due.length && free.length) sendOn(free.pop(), due.shift());
      if (next < total) timer = setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
      else {
        stopped = due.length === 0;
        if (stopped) maybeFinish();
        else timer = setTimeout(tick, 1);
      }
    };
    tick();
  }
  const watchdog = setTimeout(() => {
    for (let i = 0; i < inFlight; i++) fail(`timeout: no answer within ${REQUEST_TIMEOUT_MS} ms after the phase ended`);
    inFlight = 0;
    stopped = true;
    finish();
  }, durationMs + REQUEST_TIMEOUT_MS);
  await finished;
  clearTimeout(timer);
  clearTimeout(watchdog);
  // Answers that never came leave their connections unusable: drop them.
  for (const c of conns)
    if (c.pending) {
      c.sock.destroy();
      c.closed = true;
    }
  conns = conns.filter(c => !c.closed);
  const lat = latency.take(),
    svc = service.take();
  return {
    id,
    sent,
    answered,
    inWindow,
    failed,
    errorCounts,
    problems,
    elapsedMs: Math.min(performance.now(), end) - t0,
    latency: lat,
    service: svc,
  };
}

async function openConnections(port, count) {
  for (const c of conns) c.sock.destroy();
  conns = [];
  const opened = await Promise.all(
    Array.from({ length: count }, () =>
      new Connection(
        port,
        () => {},
        () => {},
      ).open(),
    ),
  );
  conns = opened;
}

parentPort.on('message', async msg => {
  try {
    if (msg.type === 'scenario') {
      scenario = msg.scenario;
      parentPort.postMessage({ type: 'ok' });
    } else if (msg.type === 'connect') {
      await openConnections(msg.port, msg.connections);
      parentPort.postMessage({ type: 'ok' });
    } else if (msg.type === 'run') {
      const result = await runPhase(msg);
      parentPort.postMessage({ type: 'result', result }, [result.latency.buffer, result.service.buffer]);
    } else if (msg.type === 'close') {
      for (const c of conns) {
        c.closed = true;
        c.sock.destroy();
      }
      conns = [];
      parentPort.postMessage({ type: 'ok' });
    }
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err?.stack ?? String(err) });
  }
});
