// The version users see (--version, the first log line, build_info metric):
// package.json's, read at start-up so a release needs one edit. The image
// copies package.json next to dist/ for this (and for "type": "module").
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
