// Multi-document manifests in and out: YAML or JSON documents read in order,
// written back as a YAML stream or JSON (one object, or a v1 List). Objects
// are re-serialized from their values, so comments and formatting are lost.
import { parseAllDocuments, stringify } from 'yaml';
import { isObject } from '../../json.js';
import type { Json } from './pod-templates.js';

/** A document that is not a Kubernetes object, named by its source and position. */
class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export type OutputFormat = 'yaml' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['yaml', 'json'];

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

/** The objects of a YAML or JSON stream, empty documents skipped. */
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

export function formatManifests(docs: readonly unknown[], format: OutputFormat): string {
  if (format === 'json') {
    const value = docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs };
    return `${JSON.stringify(value, null, 2)}\n`;
  }
  // lineWidth 0: never fold long strings (the socket-wait commands) across lines.
  return docs.map(d => stringify(d, { lineWidth: 0, indentSeq: false })).join('---\n');
}
