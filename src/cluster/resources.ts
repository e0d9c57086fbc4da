// Reads the YAML manifests given with --resources (Sidecar and Vineyardd CRs,
// optionally Pods) for the in-memory store.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The file itself, or the YAML and JSON files of a directory in name order (not its subdirectories). */
export async function manifestFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path))
    .filter(f => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map(f => join(path, f));
}

export async function readManifests(path: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const file of await manifestFiles(path)) {
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
