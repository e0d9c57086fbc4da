// Reading a certificate file that may legitimately be absent. Only "does not
// exist" means absent: a file that exists but cannot be read (permissions, a
// symlink loop, a directory) is a fault to report, not a cue to issue and
// write a new CA over the old one.
import { readFile } from 'node:fs/promises';

/** The file's text, or undefined when there is no such file. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(
      `cannot read ${path}: ${(e as Error).message}. Fix the file's permissions or type, or remove it to have a new one issued`,
    );
  }
}
