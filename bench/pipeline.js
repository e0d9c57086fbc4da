// node bench/pipeline.js [scenario...]: what one review costs inside the
// process, without HTTP or TLS: parsing its body and running its endpoint's
// pipeline on the in-memory store, best of 7 rounds of 1,000 (so the
// figure holds on a busy machine). Needs `npm run build`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, writeResources } from './scenarios.js';
import { MemoryStore } from '../dist/cluster/memory-store.js';
import { readManifests } from '../dist/cluster/resources.js';
import { endpoints } from '../dist/endpoints/table.js';
import { runPipeline } from '../dist/admission/run.js';
import { parseJsonBody } from '../dist/server/body.js';

const ROUNDS = 7,
  N = 1000;
const dir = mkdtempSync(join(tmpdir(), 'vineyard-bench-pipeline-'));
const store = new MemoryStore(await readManifests(writeResources(join(dir, 'resources'))));
rmSync(dir, { recursive: true, force: true });
const config = { sidecarMode: 'injected', schedulerName: '' };
const names = process.argv.slice(2);
for (const s of names.length ? SCENARIOS.filter(x => names.includes(x.name)) : SCENARIOS) {
  const endpoint = endpoints.find(e => e.path === s.path);
  const text = JSON.stringify(s.review);
  const body = Buffer.from(text);
  for (let i = 0; i < 500; i++) await runPipeline(endpoint, JSON.parse(text).request, { store, config });
  let parse = Infinity,
    pipeline = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) parseJsonBody(body);
    parse = Math.min(parse, ((performance.now() - t) * 1000) / N);
    const requests = Array.from({ length: N }, () => JSON.parse(text).request);
    t = performance.now();
    for (let i = 0; i < N; i++) await runPipeline(endpoint, requests[i], { store, config });
    pipeline = Math.min(pipeline, ((performance.now() - t) * 1000) / N);
  }
  console.log(
    `${s.name.padEnd(20)} ${(s.bytes / 1024).toFixed(1).padStart(5)} KB  parse body ${parse.toFixed(1).padStart(6)} us  pipeline ${pipeline.toFixed(1).padStart(6)} us`,
  );
}
