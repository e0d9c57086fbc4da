// Multi-document manifests out: a YAML stream or JSON (one object, or a v1
// List); in, through the one parser in cluster/resources.ts. Objects are
// re-serialized from their values, so comments and formatting are lost.
import { stringify } from 'yaml';

export type OutputFormat = 'yaml' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['yaml', 'json'];

export function formatManifests(docs: readonly unknown[], format: OutputFormat): string {
  if (format === 'json') {
    const value = docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs };
    return `${JSON.stringify(value, null, 2)}\n`;
  }
  // lineWidth 0: never fold long strings (the socket-wait commands) across lines.
  return docs.map(d => stringify(d, { lineWidth: 0, indentSeq: false })).join('---\n');
}
