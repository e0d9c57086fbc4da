// Schema validation of manifests, offline, in two passes:
// - the Kubernetes OpenAPI schema of the object's kind (kubernetes-models and
//   @kubernetes-models/cert-manager, compiled ajv validators): required
//   fields, types, enums, formats;
// - unknown fields, which the OpenAPI schemas allow but `kubectl apply
//   --validate=strict` rejects (a misspelt `readinesProbe` is otherwise
//   silently dropped): every key is looked up in @kubernetes/client-node's
//   model attribute maps, which mirror the same OpenAPI definitions.
//   cert-manager kinds have no such map and get the first pass only.
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from './kustomize.js';

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { attributeTypeMap?: Attribute[] };
type Validatable = { validate(): void };
type ModelCtor = new (data: unknown) => Validatable;

/** The module of kubernetes-models holding the kinds of an apiVersion. */
function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return `kubernetes-models/${version}`;
  if (group === 'cert-manager.io') return `@kubernetes-models/cert-manager/cert-manager.io/${version}`;
  return `kubernetes-models/${group}/${version}`;
}

async function openApiErrors(obj: KubeObject): Promise<string[]> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modelModule(obj.apiVersion))) as Record<string, unknown>;
  } catch {
    return [`no schema for apiVersion ${obj.apiVersion}`];
  }
  const Model = mod[obj.kind] as ModelCtor | undefined;
  if (typeof Model !== 'function') return [`no schema for ${obj.kind} in ${obj.apiVersion}`];
  try {
    new Model(structuredClone(obj)).validate();
    return [];
  } catch (e) {
    return (e as Error).message.split(', ');
  }
}

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** client-node's model name for a kind: `apps/v1` Deployment is V1Deployment. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}/${i}`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}/${k}`, out);
    return;
  }
  const attributes = models[type]?.attributeTypeMap;
  if (!attributes || typeof value !== 'object' || Array.isArray(value)) return; // primitives, IntOrString, any
  for (const [key, v] of Object.entries(value)) {
    const attr = attributes.find(a => a.baseName === key);
    if (!attr) out.push(`${path}/${key}: unknown field (not in ${type})`);
    else unknownFields(v, attr.type, `${path}/${key}`, out);
  }
}

/** Every schema problem of `obj`, as `path: message`; empty when valid. */
export async function schemaErrors(obj: KubeObject): Promise<string[]> {
  const errors = await openApiErrors(obj);
  const type = modelName(obj.apiVersion, obj.kind);
  if (models[type]?.attributeTypeMap) unknownFields(obj, type, '', errors);
  return errors;
}
