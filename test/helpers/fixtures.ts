// Fixture discovery and loading: test/fixtures/<endpoint>/<case>/ holds
// request.yaml (an AdmissionReview, or the shorthand {namespace, operation,
// dryRun, object, oldObject}), optional resources.yaml (objects in the store),
// optional config.yaml (pipeline config), and expected.yaml (the object after
// the patch) or expected-denial.txt (a substring of the denial message);
// optional expected-warnings.txt (one substring per line).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { AdmissionRequest, AdmissionReview, JsonObject } from '../../src/admission/types.js';
import { MemoryStore, sequentialUids } from '../../src/cluster/memory-store.js';
import { endpoints } from '../../src/endpoints/table.js';
import type { Endpoint, PipelineConfig } from '../../src/admission/endpoint.js';
import { defaultPipelineConfig } from '../../src/admission/endpoint.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export function fixtureDirs(endpointName: string): string[] {
  const root = join(FIXTURES, endpointName);
  if (!existsSync(root)) return [];
  return readdirSync(root).filter(d => statSync(join(root, d)).isDirectory()).sort().map(d => join(root, d));
}

export interface Fixture {
  dir: string;
  review: AdmissionReview;
  resources: unknown[];
  config: PipelineConfig;
  expected?: JsonObject;
  expectedDenial?: string;
  expectedWarnings: string[];
}

const read = (dir: string, f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);

let uidCounter = 0;
export function reviewFor(endpoint: Endpoint<unknown>, r: Record<string, unknown>, uid = `fixture-${++uidCounter}`): AdmissionReview {
  if (r.apiVersion && r.kind === 'AdmissionReview') return r as unknown as AdmissionReview;
  const object = (r.object ?? null) as JsonObject | null;
  const request: AdmissionRequest = {
    uid,
    kind: { group: endpoint.expects.group, version: endpoint.expects.group ? 'v1alpha1' : 'v1', kind: endpoint.expects.kind },
    resource: { group: endpoint.expects.group, version: endpoint.expects.group ? 'v1alpha1' : 'v1', resource: endpoint.expects.kind === 'Pod' ? 'pods' : 'sidecars' },
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
  const resources = resText ? parseAllDocuments(resText).map(d => d.toJSON()).filter(Boolean) : [];
  const cfgText = read(dir, 'config.yaml');
  const expText = read(dir, 'expected.yaml');
  return {
    dir,
    review: reviewFor(endpoint, req, `fixture-${dir.split('/').slice(-2).join('-')}`),
    resources,
    config: { ...defaultPipelineConfig, ...(cfgText ? parse(cfgText) : {}) },
    expected: expText ? parse(expText) : undefined,
    expectedDenial: read(dir, 'expected-denial.txt')?.trim(),
    expectedWarnings: (read(dir, 'expected-warnings.txt') ?? '').split('\n').map(s => s.trim()).filter(Boolean),
  };
}

/** A store seeded with the fixture's resources and uids that do not change between runs. */
export function fixtureStore(resources: readonly unknown[]): MemoryStore {
  return new MemoryStore(resources, sequentialUids());
}

export function writeExpected(dir: string, obj: unknown): void {
  writeFileSync(join(dir, 'expected.yaml'), stringify(obj, { lineWidth: 0 }));
}

export const endpointByName = (name: string): Endpoint<unknown> => {
  const e = endpoints.find(x => x.name === name);
  if (!e) throw new Error(`no endpoint named ${name}`);
  return e as Endpoint<unknown>;
};
