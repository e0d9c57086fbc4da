// One parser for every manifest the server or the CLI reads: objects in
// order, Lists expanded for the store, and a document that is not an object
// named by its file and position.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestFiles, readManifests } from '../src/cluster/resources.js';

const dir = mkdtempSync(join(tmpdir(), 'vw-manifests-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test(
  'a directory: its YAML and JSON files in name order, Lists expanded; subdirectories only when recursive',
  async t => {
    const d = join(dir, 'ok');
    mkdirSync(join(d, 'sub'), { recursive: true });
    mkdirSync(join(d, '.git'), { recursive: true });
    writeFileSync(join(d, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n# empty\n');
    writeFileSync(
      join(d, 'a.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a1' } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a2' } },
        ],
      }),
    );
    writeFileSync(join(d, 'notes.txt'), 'not a manifest');
    writeFileSync(join(d, 'sub', 'c.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    writeFileSync(join(d, '.git', 'd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n');
    const names = (await readManifests(d)).map(o => (o as { metadata: { name: string } }).metadata.name);
    t.same(names, ['a1', 'a2', 'b']);
    t.same(
      (await manifestFiles(d, true)).map(f => f.slice(d.length + 1)),
      ['a.json', 'b.yaml', 'sub/c.yml'],
    );
  },
);

t.test('a document without kind: refused, naming the file and the document', async t => {
  const f = join(dir, 'bad.yaml');
  writeFileSync(
    f,
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nmetadata: {name: nokind}\n',
  );
  await t.rejects(readManifests(f), {
    name: 'ManifestError',
    message: `${f}: document 2 has no kind: every object needs apiVersion and kind`,
  });
});
