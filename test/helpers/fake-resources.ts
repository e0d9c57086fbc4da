// The resource types the fake API server serves and how its URLs map onto
// them, the way kube-apiserver's discovery does: a path names a group,
// version, resource, and optionally a namespace, name and subresource.
import {
  SIDECAR_KIND,
  SIDECAR_PLURAL,
  VINEYARD_GROUP,
  VINEYARD_VERSION,
  VINEYARDD_KIND,
  VINEYARDD_PLURAL,
} from '../../src/vineyard/names.js';

export interface ResourceType {
  /** '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Custom resources keep kind/apiVersion on list items; built-in types do not. */
  custom?: boolean;
}

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  namespaced,
});

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  core('Pod', 'pods'),
  core('Event', 'events'),
  core('Secret', 'secrets'),
  core('ConfigMap', 'configmaps'),
  core('Service', 'services'),
  core('ServiceAccount', 'serviceaccounts'),
  core('Namespace', 'namespaces', false),
  core('Node', 'nodes', false),
  { group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'ValidatingWebhookConfiguration',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
];

export const VINEYARD_RESOURCES: readonly ResourceType[] = [
  {
    group: VINEYARD_GROUP,
    version: VINEYARD_VERSION,
    kind: SIDECAR_KIND,
    plural: SIDECAR_PLURAL,
    namespaced: true,
    custom: true,
  },
  {
    group: VINEYARD_GROUP,
    version: VINEYARD_VERSION,
    kind: VINEYARDD_KIND,
    plural: VINEYARDD_PLURAL,
    namespaced: true,
    custom: true,
  },
];

export const DEFAULT_RESOURCES: readonly ResourceType[] = [...BUILTIN_RESOURCES, ...VINEYARD_RESOURCES];

export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** `sidecars.k8s.v6d.io` or `pods`: how the API server names a resource in messages. */
export const qualifiedName = (t: ResourceType): string => (t.group ? `${t.plural}.${t.group}` : t.plural);

/** What a request path addresses. `namespace` is undefined for cluster scope or all namespaces. */
export interface ResourcePath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export class ResourceTable {
  private readonly types: ResourceType[];
  constructor(types: readonly ResourceType[]) {
    this.types = [...types];
  }

  all(): readonly ResourceType[] {
    return this.types;
  }

  add(t: ResourceType): void {
    const i = this.types.findIndex(x => x.group === t.group && x.plural === t.plural);
    if (i >= 0) this.types[i] = t;
    else this.types.push(t);
  }

  byPlural(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find(t => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find(t => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  /** Undefined when the path names no served resource (the server answers 404 with empty details). */
  parse(pathname: string): ResourcePath | undefined {
    const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    if (rest.length === 0) return undefined;

    // /namespaces/{ns}/{resource}[/{name}[/{sub}]] — but /namespaces[/{name}] is the Namespace resource itself.
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const type = this.byPlural(group, version, rest[2]!);
      if (!type?.namespaced || rest.length > 5) return undefined;
      return { type, namespace: rest[1]!, name: rest[3], subresource: rest[4] };
    }
    const type = this.byPlural(group, version, rest[0]!);
    if (!type || rest.length > 3) return undefined;
    // A namespaced resource without a namespace is only a list across namespaces.
    if (type.namespaced && rest.length > 1) return undefined;
    return { type, name: rest[1], subresource: rest[2] };
  }
}
