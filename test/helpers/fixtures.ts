// Fixture discovery and loading: test/fixtures/<endpoint>/<case>/ holds
// request.yaml (an AdmissionReview, or the shorthand {namespace, operation,
// dryRun, object, oldObject}), optional resources.yaml (objects in the store),
// optional config.yaml (pipeline config), and expected.yaml (the object after
// the patch) or expected-denial.txt (a substring of the denial message);
// optional expected-warnings.txt (the exact warnings, one a line, in order;
// without it the review must give none).
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { AdmissionRequest, AdmissionReview, JsonObject } from '../../src/admission/types.js';
import { MemoryStore, sequentialUids } from '../../src/cluster/memory-store.js';
import { endpoints } from '../../src/endpoints/table.js';
import type { Endpoint, PipelineConfig } from '../../src/admission/endpoint.js';
import { defaultPipelineConfig } from '../../src/admission/endpoint.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/** The files a case directory may hold: anything else is a typo that would silently not be read. */
export const FIXTURE_FILES = [
  'request.yaml',
  'resources.yaml',
  'config.yaml',
  'expected.yaml',
  'expected-denial.txt',
  'expected-warnings.txt',
] as const;

/**
 * Directories of test/fixtures/ that are not an endpoint's cases: the mutate
 * CLI's manifest cases, the store seed `npm start` and the bench load, and the
 * sample reviews docs/development.md sends with curl.
 */
export const NON_ENDPOINT_DIRS = ['mutate', 'resources', 'samples'] as const;

const isDir = (p: string) => statSync(p).isDirectory();

export function fixtureDirs(endpointName: string): string[] {
  const root = join(FIXTURES, endpointName);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter(d => isDir(join(root, d)))
    .sort()
    .map(d => join(root, d));
}

/**
 * Everything under test/fixtures/ that no test would read: a directory named
 * after no endpoint, a stray file, a case with an unknown file or without its
 * request or expectation. Endpoint names come from the table, so a new
 * endpoint's directory is accepted as soon as the endpoint exists.
 */
export function fixtureLayoutProblems(opts: { updating?: boolean; root?: string } = {}): string[] {
  const root = opts.root ?? FIXTURES;
  const names = new Set(endpoints.map(e => e.name));
  const problems: string[] = [];
  for (const top of readdirSync(root).sort()) {
    const path = join(root, top);
    if ((NON_ENDPOINT_DIRS as readonly string[]).includes(top)) continue;
    if (!isDir(path)) {
      problems.push(`test/fixtures/${top}: a file where only endpoint directories belong`);
      continue;
    }
    if (!names.has(top)) {
      problems.push(
        `test/fixtures/${top}: no endpoint is named ${top} (endpoints: ${[...names].join(', ')}; other directories: ${NON_ENDPOINT_DIRS.join(', ')})`,
      );
      continue;
    }
    for (const c of readdirSync(path).sort()) {
      const dir = join(path, c);
      const at = `test/fixtures/${top}/${c}`;
      if (!isDir(dir)) {
        problems.push(`${at}: a file where only case directories belong`);
        continue;
      }
      const files = readdirSync(dir);
      for (const f of files) {
        if (!(FIXTURE_FILES as readonly string[]).includes(f))
          problems.push(`${at}/${f}: not a fixture file (${FIXTURE_FILES.join(', ')})`);
      }
      if (!files.includes('request.yaml')) problems.push(`${at}: no request.yaml`);
      const expectations = files.filter(f => f === 'expected.yaml' || f === 'expected-denial.txt');
      if (expectations.length > 1) problems.push(`${at}: both expected.yaml and expected-denial.txt`);
      if (expectations.length === 0 && !opts.updating)
        problems.push(`${at}: neither expected.yaml nor expected-denial.txt`);
    }
  }
  return problems;
}

export interface Fixture {
  dir: string;
  review: AdmissionReview;
  resources: unknown[];
  config: PipelineConfig;
  expected?: JsonObject;
  expectedDenial?: string;
  /** Exactly the warnings the review gives, in order. */
  expectedWarnings: string[];
}

const read = (dir: string, f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);

let uidCounter = 0;
export function reviewFor(
  endpoint: Endpoint<unknown>,
  r: Record<string, unknown>,
  uid = `fixture-${++uidCounter}`,
): AdmissionReview {
  if (r.apiVersion && r.kind === 'AdmissionReview') return r as unknown as AdmissionReview;
  const object = (r.object ?? null) as JsonObject | null;
  const { group, kind } = endpoint.expects;
  const version = group ? 'v1alpha1' : 'v1';
  const request: AdmissionRequest = {
    uid,
    kind: { group, version, kind },
    resource: { group, version, resource: `${kind.toLowerCase()}s` },
    operation: (r.operation as AdmissionRequest['operation']) ?? 'CREATE',
    namespace: (r.namespace as string) ?? 'default',
    object,
    ...(r.oldObject ? { oldObject: r.oldObject as JsonObject } : {}),
    dryRun: r.dryRun === true,
    userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
  };
  if (r.name) request.name = r.name as string;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

export function loadFixture(endpoint: Endpoint<unknown>, dir: string): Fixture {
  const req = parse(read(dir, 'request.yaml') ?? '') as Record<string, unknown>;
  const resText = read(dir, 'resources.yaml');
  const resources = resText
    ? parseAllDocuments(resText)
        .map(d => d.toJSON())
        .filter(Boolean)
    : [];
  const cfgText = read(dir, 'config.yaml');
  const expText = read(dir, 'expected.yaml');
  const warnText = read(dir, 'expected-warnings.txt');
  return {
    dir,
    review: reviewFor(endpoint, req, `fixture-${dir.split('/').slice(-2).join('-')}`),
    resources,
    config: { ...defaultPipelineConfig, ...(cfgText ? parse(cfgText) : {}) },
    expected: expText ? parse(expText) : undefined,
    expectedDenial: read(dir, 'expected-denial.txt')?.trim(),
    expectedWarnings: warnText === undefined ? [] : warnText.replace(/\n$/, '').split('\n'),
  };
}

/** A store seeded with the fixture's resources and uids that do not change between runs. */
export function fixtureStore(resources: readonly unknown[]): MemoryStore {
  return new MemoryStore(resources, sequentialUids());
}

export function writeExpected(dir: string, obj: unknown): void {
  writeFileSync(join(dir, 'expected.yaml'), stringify(obj, { lineWidth: 0 }));
}

/** expected-warnings.txt as the review gave them; no file when it gave none. */
export function writeExpectedWarnings(dir: string, warnings: readonly string[]): void {
  const file = join(dir, 'expected-warnings.txt');
  const multiLine = warnings.find(w => w.includes('\n') || w === '');
  if (multiLine !== undefined)
    throw new Error(`${dir}: a warning of one line per line cannot hold ${JSON.stringify(multiLine)}`);
  if (warnings.length) writeFileSync(file, `${warnings.join('\n')}\n`);
  else rmSync(file, { force: true });
}

export const endpointByName = (name: string): Endpoint<unknown> => {
  const e = endpoints.find(x => x.name === name);
  if (!e) throw new Error(`no endpoint named ${name}`);
  return e as Endpoint<unknown>;
};

const MANAGED_FIELDS_TIME = '2024-05-06T07:08:09Z';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fieldsV1 of a manager that set every member of `value`, as the API
 * server tracks it: `f:<key>` per member, `k:{"name":...}` per item of a list
 * keyed by name (containers, volumes, env), `.` for a map or item itself;
 * other lists are atomic.
 */
function fieldsOf(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsOfValue(v);
  return out;
}

function fieldsOfValue(v: unknown): Record<string, unknown> {
  if (isPlainObject(v)) return { '.': {}, ...fieldsOf(v) };
  if (!Array.isArray(v)) return {};
  const out: Record<string, unknown> = {};
  for (const item of v) {
    if (isPlainObject(item) && typeof item.name === 'string')
      out[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, ...fieldsOf(item) };
  }
  return out;
}

/**
 * `obj` as the API server sends it after a controller and kubectl wrote it:
 * metadata.managedFields with a kube-controller-manager Update entry (the
 * spec) and a kubectl-client-side-apply entry (the metadata). Objects without
 * a metadata object are returned as they are: no API server sends one, and
 * such fixtures test exactly that.
 */
export function withManagedFields<T>(obj: T): T {
  if (!isPlainObject(obj)) return obj;
  const o: Record<string, unknown> = obj;
  const metadata = o.metadata;
  if (!isPlainObject(metadata) || 'managedFields' in metadata) return obj;
  const { metadata: _m, apiVersion, kind: _k, ...rest } = o;
  const entry = (manager: string, fields: Record<string, unknown>) => ({
    manager,
    operation: 'Update',
    apiVersion: typeof apiVersion === 'string' ? apiVersion : 'v1',
    time: MANAGED_FIELDS_TIME,
    fieldsType: 'FieldsV1',
    fieldsV1: fields,
  });
  const managedFields = [
    entry('kube-controller-manager', fieldsOf(rest)),
    entry('kubectl-client-side-apply', { 'f:metadata': fieldsOf(metadata) }),
  ];
  return { ...o, metadata: { ...metadata, managedFields } } as T;
}

/** `obj` without what withManagedFields added. */
export function withoutManagedFields<T>(obj: T, original: unknown): T {
  if (
    !isPlainObject(obj) ||
    (isPlainObject(original) && isPlainObject(original.metadata) && 'managedFields' in original.metadata)
  )
    return obj;
  const metadata = obj.metadata;
  if (!isPlainObject(metadata) || !('managedFields' in metadata)) return obj;
  const { managedFields: _mf, ...rest } = metadata;
  return { ...obj, metadata: rest } as T;
}
