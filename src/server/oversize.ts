// Closing a connection whose request body is still arriving makes the kernel
// answer the client's next bytes with a reset, and a reset can throw away the
// 413 before the client has read it (and the unsent part of the 413 with it).
// So after answering 413 on HTTP/1.1 the server keeps reading and drops the
// rest of the body, up to a bound and for a while, and closes only once the
// body is complete; a client that sends more than that is cut off. HTTP/2
// needs none of this: the stream is reset with NO_ERROR after the answer,
// which clients read first.
import type { IncomingMessage } from 'node:http';

const MiB = 1024 * 1024;

/** How much more of an oversized body is read and dropped before the connection is cut. */
export const oversizeDrainBound = (bodyLimit: number): number => Math.max(2 * bodyLimit, 4 * MiB);

/** How long the rest of an oversized body may take to arrive. */
export const OVERSIZE_DRAIN_MS = 10_000;

/**
 * Call before the 413 (which says `Connection: close`) is sent: Node closes
 * such a connection as soon as the answer is written, through the socket's
 * destroySoon. Here the connection stays open, so the client can go on
 * sending and read the answer when it wants, and is closed when the body has
 * ended, the bound is passed or the time is up.
 */
export function drainOversizedBody(req: IncomingMessage, bound: number, timeoutMs = OVERSIZE_DRAIN_MS): void {
  const socket = req.socket;
  if (req.complete || socket.destroyed) return;
  const close = () => {
    socket.end();
    socket.once('finish', () => socket.destroy());
  };
  let dropped = 0;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > bound) socket.destroy();
  });
  // Nothing unread is left for a reset to come from: close as Node would have.
  req.once('end', () => {
    if (answered) close();
  });
  let answered = false;
  socket.destroySoon = () => {
    answered = true;
    if (req.complete) close();
  };
}
