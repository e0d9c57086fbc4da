// Reads the YAML manifests given with --resources (Sidecar and Vineyardd CRs,
// optionally Pods) for the in-memory store.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export async function readManifests(path: string): Promise<unknown[]> {
  const info = await stat(path);
  const files = info.isDirectory()
    ? (await readdir(path)).filter(f => /\.(ya?ml|json)$/i.test(f)).sort().map(f => join(path, f))
    : [path];
  const out: unknown[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const value: unknown = doc.toJSON();
      if (value === null || value === undefined) continue;
      const v = value as { kind?: string; items?: unknown[] };
      if (v.kind === 'List' && Array.isArray(v.items)) out.push(...v.items);
      else out.push(value);
    }
  }
  return out;
}
