// The frame: this webhook's own server (fastify, the body checks, the
// AdmissionReview envelope, the deadline, metrics, the log line per review)
// with every endpoint at its path doing nothing: same kinds and operations,
// no shape check, no lookups, no mutators, every object allowed unchanged.
// Next to the ceiling it is what the server costs before any Vineyard work;
// the webhook next to it is what that work costs.
//
// node bench/frame.js --cert-dir DIR
// Prints {"port": N} on stdout once listening (its review lines follow, as
// the webhook's do); stops on SIGTERM. Needs `npm run build`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../dist/server/app.js';
import { createLogger } from '../dist/serve.js';
import { MemoryStore } from '../dist/cluster/memory-store.js';
import { defaultPipelineConfig } from '../dist/admission/endpoint.js';
import { endpoints } from '../dist/endpoints/table.js';
import { parseServeArgs } from '../dist/config.js';

const { values } = parseArgs({ options: { 'cert-dir': { type: 'string' } } });
if (!values['cert-dir']) {
  process.stderr.write('usage: node bench/frame.js --cert-dir DIR\n');
  process.exit(2);
}
const dir = values['cert-dir'];

const idle = endpoints.map(e => ({
  path: e.path,
  name: e.name,
  expects: e.expects,
  operations: e.operations,
  mutating: e.mutating,
  resolve: async () => ({ ctx: undefined }),
  mutators: [],
}));

const { log } = createLogger('info', 'json');
const app = buildApp({
  tls: { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8') },
  endpoints: idle,
  store: new MemoryStore([]),
  config: defaultPipelineConfig,
  logger: log,
  bodyLimit: parseServeArgs([], {}).bodyLimit, // the server's default
});
await app.fastify.ready();
app.server.listen({ host: '127.0.0.1', port: 0 }, () => {
  process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\n');
});
process.once('SIGTERM', () => void app.shutdown(5_000));
