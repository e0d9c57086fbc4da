// The ceiling: the least an admission webhook can do on Node, with the same
// TLS material and the same kept-alive HTTP/1.1 connections as the real
// server. It parses the review and answers a canned allow echoing the uid, so
// the webhook's throughput divided by this one's is the share of the
// per-request budget that is spent above the bare minimum.
//
// node bench/ceiling.js --cert-dir DIR [--port 0] [--host 127.0.0.1]
// Prints {"port": N} on stdout once listening; stops on SIGTERM.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'cert-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values['cert-dir']) {
  process.stderr.write('usage: node bench/ceiling.js --cert-dir DIR [--port N] [--host ADDR]\n');
  process.exit(2);
}
const dir = values['cert-dir'];

const server = createServer(
  { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')), keepAliveTimeout: 120_000 },
  (req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      let review;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":400}');
        return;
      }
      const body = JSON.stringify({
        apiVersion: review.apiVersion,
        kind: 'AdmissionReview',
        response: { uid: review.request?.uid, allowed: true },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  },
);
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
