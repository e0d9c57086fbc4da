// Manifests in: YAML or JSON streams of Kubernetes objects, one parser for
// every reader (serve --resources for the in-memory store, mutate and explain
// -f for their input).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject } from '../json.js';

type Json = Record<string, unknown>;

/** A document that is not a Kubernetes object, named by its source and position. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

function checkObject(v: unknown, where: string): Json {
  if (!isObject(v)) throw new ManifestError(`${where} is not a Kubernetes object (a mapping with apiVersion and kind)`);
  for (const field of ['apiVersion', 'kind']) {
    if (typeof v[field] !== 'string' || v[field] === '')
      throw new ManifestError(`${where} has no ${field}: every object needs apiVersion and kind`);
  }
  if (v.kind === 'List' && Array.isArray(v.items))
    v.items.forEach((item, i) => checkObject(item, `${where} items[${i}]`));
  return v;
}

/** The objects of a YAML or JSON stream, empty documents skipped, Lists as they are. */
export function parseManifests(text: string, source: string): Json[] {
  const out: Json[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    const where = `${source}: document ${i + 1}`;
    if (doc.errors.length) throw new ManifestError(`${where}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJSON();
    if (value === null || value === undefined) continue;
    out.push(checkObject(value, where));
  }
  return out;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/**
 * The file itself, or the YAML and JSON files of a directory in name order;
 * when recursive, those of its subdirectories too (depth first, in name
 * order, as kubectl -R), hidden ones (.git) left out.
 */
export async function manifestFiles(path: string, recursive = false): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const out: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      if (recursive && !e.name.startsWith('.')) out.push(...(await manifestFiles(full, true)));
    } else if (MANIFEST.test(e.name)) out.push(full);
  }
  return out;
}

/** Every object of the manifests at `path` (a file or a directory), the items of Lists included. */
export async function readManifests(path: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const file of await manifestFiles(path)) {
    for (const v of parseManifests(await readFile(file, 'utf8'), file)) {
      if (v.kind === 'List' && Array.isArray(v.items)) out.push(...(v.items as unknown[]));
      else out.push(v);
    }
  }
  return out;
}
