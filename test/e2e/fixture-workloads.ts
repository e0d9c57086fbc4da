// Fixtures of test/fixtures/ replayed through the real API server: the
// fixture's resources are created, its object is created as a controller
// would, and the stored object must contain everything expected.yaml says.
// "Contain", because the API server adds its own defaults and metadata
// (uid, creationTimestamp, terminationMessagePath...) after our patch.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from './kube-client.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export interface WorkloadFixture {
  name: string;
  namespace: string;
  object: KubeObject;
  resources: KubeObject[];
  expected?: KubeObject;
  expectedDenial?: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Loads test/fixtures/<name>; `renames` maps namespace names to the ones to
 * use, in every file of the fixture alike (a namespace name is also in env
 * values, owner namespaces and the like).
 */
export function loadWorkloadFixture(name: string, renames: Record<string, string> = {}): WorkloadFixture {
  const dir = join(FIXTURES, name);
  const rename = (text: string | undefined) =>
    Object.entries(renames).reduce<string | undefined>(
      (acc, [from, to]) => acc?.replace(new RegExp(`(?<![\\w.-])${escape(from)}(?![\\w.-])`, 'g'), to),
      text,
    );
  const read = (d: string, f: string) => rename(existsSync(join(d, f)) ? readFileSync(join(d, f), 'utf8') : undefined);
  const req = parse(read(dir, 'request.yaml') ?? '') as {
    namespace?: string;
    object?: KubeObject;
    operation?: string;
    dryRun?: boolean;
    kind?: string;
  };
  if (req.kind === 'AdmissionReview' || !req.object)
    throw new Error(`${name}: the e2e suite replays fixtures in the {namespace, object} form only`);
  if ((req.operation ?? 'CREATE') !== 'CREATE' || req.dryRun)
    throw new Error(`${name}: only CREATE fixtures without dryRun can be replayed as a create`);
  const namespace = req.namespace ?? 'default';
  const object = { ...req.object, metadata: { ...req.object.metadata, namespace } };
  const resText = read(dir, 'resources.yaml');
  const resources = resText
    ? parseAllDocuments(resText)
        .map(d => d.toJSON() as KubeObject)
        .filter(Boolean)
    : [];
  const exp = read(dir, 'expected.yaml');
  return {
    name,
    namespace,
    object,
    resources,
    expected: exp ? (parse(exp) as KubeObject) : undefined,
    expectedDenial: read(dir, 'expected-denial.txt')?.trim(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Where `actual` fails to contain `expected`: objects by key (extra keys in
 * `actual` allowed), arrays element by element with the same length, scalars
 * equal. A uid in `expected` matches any uid: the API server assigns them.
 */
export function notContained(
  actual: unknown,
  expected: unknown,
  path = '',
  opts: { extraNamed?: boolean } = {},
): string[] {
  if (typeof expected === 'string' && UUID.test(expected)) {
    return typeof actual === 'string' && UUID.test(actual)
      ? []
      : [`${path}: expected a uid, found ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, found ${JSON.stringify(actual)}`];
    const named = (a: unknown[]) =>
      a.every(x => x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string');
    if (opts.extraNamed && named(expected) && named(actual)) {
      // Another webhook that also matched the pod may add items of its own (env, volumes): each
      // expected item must be there, by name; the order and the others are not this fixture's.
      return expected.flatMap(e => {
        const name = (e as { name: string }).name;
        const found = actual.find(a => (a as { name: string }).name === name);
        return found === undefined
          ? [`${path}: no item named ${name}`]
          : notContained(found, e, `${path}/${name}`, opts);
      });
    }
    if (actual.length !== expected.length)
      return [
        `${path}: expected ${expected.length} items, found ${actual.length}: ${JSON.stringify(actual).slice(0, 400)}`,
      ];
    return expected.flatMap((e, i) => notContained(actual[i], e, `${path}/${i}`, opts));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: expected an object, found ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      notContained((actual as Record<string, unknown>)[k], v, `${path}/${k}`, opts),
    );
  }
  return Object.is(actual, expected)
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, found ${JSON.stringify(actual)}`];
}
