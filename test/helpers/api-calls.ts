// The Kubernetes API calls the server makes: the single list deploy/'s RBAC is
// checked against (test/deploy.test.ts), in both directions.
//
// How the list stays true:
// - It is keyed by the two seams every call goes through, ClusterStore
//   (admission pipelines) and CertApi (secret-mode certificates). The mapped
//   types below make the compiler reject the file when a method is added to
//   or removed from either interface until its calls are listed here.
// - scanSourceForApiCalls() greps src/ for @kubernetes/client-node API
//   methods (readNamespacedSecret, getNamespacedCustomObject, ...) and derives
//   verb, group and resource from the method name (and, for custom objects,
//   from the `plural:` written in the call, else from every *_PLURAL constant
//   the file uses). The test requires every call found there to be listed
//   here, and every call listed here to be found there, so a call that
//   bypasses the seams, or a listed call no code makes, fails the build.
import * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ClusterStore } from '../../src/cluster/store.js';
import type { CertApi } from '../../src/certs/api.js';
import * as names from '../../src/vineyard/names.js';

export interface ApiCall {
  verb: string;
  /** API group; '' for the core group. */
  group: string;
  /** Plural resource, `pods`, or `pods/status` for a subresource. */
  resource: string;
  /** Only these object names (RBAC resourceNames); absent: any name. */
  names?: readonly string[];
  /** `cluster`: every namespace (or a cluster-scoped resource); `own-namespace`: the server's namespace only. */
  where: 'cluster' | 'own-namespace';
}

const V6D = names.VINEYARD_GROUP;
const FLUID = names.FLUID_GROUP;
const ADMISSION = 'admissionregistration.k8s.io';

/** What each ClusterStore method calls (src/cluster/kube-store.ts). Pods and CRs live in users' namespaces. */
export const STORE_CALLS: { readonly [M in keyof ClusterStore]: readonly ApiCall[] } = {
  getSidecar: [{ verb: 'get', group: V6D, resource: names.SIDECAR_PLURAL, where: 'cluster' }],
  createSidecar: [{ verb: 'create', group: V6D, resource: names.SIDECAR_PLURAL, where: 'cluster' }],
  updateSidecar: [{ verb: 'update', group: V6D, resource: names.SIDECAR_PLURAL, where: 'cluster' }],
  getVineyardd: [{ verb: 'get', group: V6D, resource: names.VINEYARDD_PLURAL, where: 'cluster' }],
  // The Fluid endpoint (src/cluster/kube-fluid.ts): a pod's claims by name, live (no cache of every PVC).
  getPersistentVolumeClaim: [{ verb: 'get', group: '', resource: 'persistentvolumeclaims', where: 'cluster' }],
  getDataset: [{ verb: 'get', group: FLUID, resource: names.DATASET_PLURAL, where: 'cluster' }],
  getVineyardRuntime: [{ verb: 'get', group: FLUID, resource: names.VINEYARD_RUNTIME_PLURAL, where: 'cluster' }],
  listPods: [{ verb: 'list', group: '', resource: 'pods', where: 'cluster' }],
  // Data-aware scheduling (src/cluster/kube-data.ts): objects live only while their caches sync.
  listVineyardObjects: [names.GLOBALOBJECT_PLURAL, names.LOCALOBJECT_PLURAL].map(resource => ({
    verb: 'list',
    group: V6D,
    resource,
    where: 'cluster' as const,
  })),
  getOwnerReplicas: [
    { verb: 'get', group: 'apps', resource: 'replicasets', where: 'cluster' },
    { verb: 'get', group: 'apps', resource: 'statefulsets', where: 'cluster' },
    { verb: 'get', group: 'batch', resource: 'jobs', where: 'cluster' },
  ],
  getConfigMap: [{ verb: 'get', group: '', resource: 'configmaps', where: 'cluster' }],
  createConfigMap: [{ verb: 'create', group: '', resource: 'configmaps', where: 'cluster' }],
  updateConfigMap: [{ verb: 'update', group: '', resource: 'configmaps', where: 'cluster' }],
  // An assembly or repartition consumer's Operation: read live, created when missing.
  getOperation: [{ verb: 'get', group: V6D, resource: names.OPERATION_PLURAL, where: 'cluster' }],
  createOperation: [{ verb: 'create', group: V6D, resource: names.OPERATION_PLURAL, where: 'cluster' }],
  patchPodLabels: [{ verb: 'patch', group: '', resource: 'pods', where: 'cluster' }],
  createEvent: [{ verb: 'create', group: '', resource: 'events', where: 'cluster' }],
  patchEvent: [{ verb: 'patch', group: '', resource: 'events', where: 'cluster' }],
  serviceExists: [{ verb: 'get', group: '', resource: 'services', where: 'cluster' }],
  // GET /version: a non-resource URL every authenticated user may read
  // (system:public-info-viewer); no RBAC of ours.
  ping: [],
};

/**
 * What the watch caches call in a cluster (src/cluster/kube-caches.ts and
 * fluid-caches.ts): a list and a watch of every Sidecar and Vineyardd, of
 * Fluid's Datasets and VineyardRuntimes, and of the pods this webhook injected
 * (a label selector; RBAC cannot limit by label, so pods cluster-wide).
 */
export const CACHE_CALLS: readonly ApiCall[] = [
  ...[names.SIDECAR_PLURAL, names.VINEYARDD_PLURAL, names.GLOBALOBJECT_PLURAL, names.LOCALOBJECT_PLURAL].flatMap(
    resource => (['list', 'watch'] as const).map(verb => ({ verb, group: V6D, resource, where: 'cluster' as const })),
  ),
  ...[names.DATASET_PLURAL, names.VINEYARD_RUNTIME_PLURAL].flatMap(resource =>
    (['list', 'watch'] as const).map(verb => ({ verb, group: FLUID, resource, where: 'cluster' as const })),
  ),
  ...(['list', 'watch'] as const).map(verb => ({ verb, group: '', resource: 'pods', where: 'cluster' as const })),
];

/**
 * What `vineyard-webhook mutate --kubeconfig` and `explain pod/NAME` call
 * besides the store's reads (src/cli/mutate/cluster-reads.ts,
 * src/cli/explain/cluster-objects.ts), with the user's credentials: not the
 * server's, so deploy/'s RBAC must not grant them. (explain also gets the
 * MutatingWebhookConfiguration, which secret mode's RBAC grants by name.)
 */
export const CLI_CALLS: readonly ApiCall[] = [
  { verb: 'get', group: '', resource: 'namespaces', where: 'cluster' },
  { verb: 'get', group: '', resource: 'pods', where: 'cluster' },
];

/** The names secret mode works on: --secret-name and the two webhook configuration flags. */
export interface CertNames {
  secretName: string;
  mutatingWebhookConfiguration: string;
  validatingWebhookConfiguration: string;
}

/** What each CertApi method calls (src/certs/kube-api.ts), in secret mode only. */
export function certCalls(n: CertNames): { readonly [M in keyof CertApi]: readonly ApiCall[] } {
  const secret = { group: '', resource: 'secrets', where: 'own-namespace' } as const;
  const configs = [
    {
      group: ADMISSION,
      resource: 'mutatingwebhookconfigurations',
      names: [n.mutatingWebhookConfiguration],
      where: 'cluster',
    },
    {
      group: ADMISSION,
      resource: 'validatingwebhookconfigurations',
      names: [n.validatingWebhookConfiguration],
      where: 'cluster',
    },
  ] as const;
  return {
    readSecret: [{ verb: 'get', ...secret, names: [n.secretName] }],
    // The name of a new object is not in the request URL: RBAC cannot limit a create by name.
    createSecret: [{ verb: 'create', ...secret }],
    replaceSecret: [{ verb: 'update', ...secret, names: [n.secretName] }],
    readWebhookConfiguration: configs.map(c => ({ verb: 'get', ...c })),
    patchWebhookConfiguration: configs.map(c => ({ verb: 'patch', ...c })),
  };
}

/** Every call the server makes with this configuration. */
export function apiCalls(certMode: 'secret' | 'files' | 'self', n: CertNames): ApiCall[] {
  const store = [...Object.values(STORE_CALLS).flat(), ...CACHE_CALLS];
  const all = certMode === 'secret' ? [...store, ...Object.values(certCalls(n)).flat()] : store;
  // A call made through two seams (a pod list by the operation gate and by a cache) is one grant.
  return [...new Map(all.map(c => [JSON.stringify([c.verb, c.group, c.resource, c.names, c.where]), c])).values()];
}

export const callKey = (c: Pick<ApiCall, 'verb' | 'group' | 'resource'>) =>
  `${c.verb} ${c.group || 'core'}/${c.resource}`;

// ---- the source scanner ----

/** A client-node call site and what it calls, or why that cannot be told. */
export interface FoundCall {
  at: string;
  method: string;
  calls: Array<Pick<ApiCall, 'verb' | 'group' | 'resource'>>;
  error?: string;
}

const CUSTOM = Symbol('custom objects');
/** client-node API classes and their group; null: discovery and non-resource URLs, which need no RBAC of ours. */
const API_CLASSES: Record<string, string | null | typeof CUSTOM> = {
  CoreV1Api: '',
  AdmissionregistrationV1Api: ADMISSION,
  AppsV1Api: 'apps',
  BatchV1Api: 'batch',
  PolicyV1Api: 'policy',
  EventsV1Api: 'events.k8s.io',
  CoordinationV1Api: 'coordination.k8s.io',
  RbacAuthorizationV1Api: 'rbac.authorization.k8s.io',
  ApiextensionsV1Api: 'apiextensions.k8s.io',
  AuthenticationV1Api: 'authentication.k8s.io',
  AuthorizationV1Api: 'authorization.k8s.io',
  CustomObjectsApi: CUSTOM,
  VersionApi: null,
  ApisApi: null,
  CoreApi: null,
};
/** client-node helpers whose calls cannot be told from a method name. */
const OPAQUE = ['KubernetesObjectApi', 'ListWatch', 'Watch'];
/**
 * An informer watches what its list function lists: in a file that makes
 * informers (makeInformer, or a ListWatch over a Watch of its own), every list
 * found is also a watch, and those two are not opaque there.
 */
const INFORMER = 'makeInformer|ListWatch';
const INFORMER_PARTS = ['ListWatch', 'Watch'];

const VERBS: Record<string, string> = {
  read: 'get',
  get: 'get',
  list: 'list',
  create: 'create',
  replace: 'update',
  patch: 'patch',
  delete: 'delete',
  deleteCollection: 'deletecollection',
};
const SUBRESOURCES: Record<string, string> = {
  Status: 'status',
  Scale: 'scale',
  Log: 'log',
  Eviction: 'eviction',
  Binding: 'binding',
  Ephemeralcontainers: 'ephemeralcontainers',
  Resize: 'resize',
  Token: 'token',
  Approval: 'approval',
};

function plural(kind: string): string {
  const k = kind.toLowerCase();
  if (k === 'endpoints') return k;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/s$/.test(k)) return `${k}es`;
  return `${k}s`;
}

/** verb and resource of a typed method: readNamespacedSecret is get secrets. */
function typedCall(method: string, group: string): Pick<ApiCall, 'verb' | 'group' | 'resource'> | string {
  const m =
    /^(deleteCollection|read|list|create|replace|patch|delete)(?:Namespaced)?([A-Z]\w*?)(?:ForAllNamespaces)?$/.exec(
      method,
    );
  if (!m) return `cannot tell the verb of ${method}`;
  let kind = m[2]!;
  let sub = '';
  for (const [suffix, name] of Object.entries(SUBRESOURCES)) {
    if (kind.endsWith(suffix) && kind !== suffix) {
      kind = kind.slice(0, -suffix.length);
      sub = `/${name}`;
      break;
    }
  }
  return { verb: VERBS[m[1]!]!, group, resource: plural(kind) + sub };
}

/** The argument text of the call whose `(` is at `open`. */
function argsOf(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

const constant = (name: string): string | undefined => {
  const v = (names as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
};

function customCall(method: string, args: string, file: string): FoundCall['calls'] | string {
  const m =
    /^(deleteCollection|get|list|create|replace|patch|delete)(?:Namespaced|Cluster)CustomObject(Status|Scale)?$/.exec(
      method,
    );
  if (!m) return `cannot tell the verb of ${method}`;
  const literal = (key: string) => {
    const a = new RegExp(`\\b${key}:\\s*(?:'([^']*)'|"([^"]*)"|([A-Z][A-Z0-9_]*))`).exec(args);
    return a ? (a[1] ?? a[2] ?? constant(a[3]!)) : undefined;
  };
  const used = (suffix: string) => [
    ...new Set(
      [...file.matchAll(new RegExp(`\\b([A-Z][A-Z0-9_]*_${suffix})\\b`, 'g'))]
        .map(x => constant(x[1]!))
        .filter((v): v is string => !!v),
    ),
  ];
  const group = literal('group') ?? (used('GROUP').length === 1 ? used('GROUP')[0] : undefined);
  const plurals = literal('plural') !== undefined ? [literal('plural')!] : used('PLURAL');
  if (!group) return `${method}: cannot tell the group; write group: <constant from names.ts> in the call`;
  if (!plurals.length) return `${method}: cannot tell the resource; write plural: <constant from names.ts> in the call`;
  const sub = m[2] ? `/${SUBRESOURCES[m[2]]}` : '';
  return plurals.map(p => ({ verb: VERBS[m[1]!]!, group, resource: p + sub }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const exported = k8s as unknown as Record<string, unknown>;
const methodsOf = (cls: string): string[] => {
  const proto = (exported[cls] as { prototype?: object } | undefined)?.prototype;
  return proto ? Object.getOwnPropertyNames(proto).filter(n => n !== 'constructor') : [];
};

/** Every client-node API call in the .ts files under `srcDir`. */
export function scanSourceForApiCalls(srcDir: string): FoundCall[] {
  const found: FoundCall[] = [];
  for (const path of sourceFiles(srcDir)) {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('@kubernetes/client-node')) continue;
    const file = relative(process.cwd(), path);
    const lineOf = (i: number) => `${file}:${text.slice(0, i).split('\n').length}`;
    // Only value imports can make calls; `import type` lines and comments are not code.
    const code = text.replace(/^import type .*$/gm, '').replace(/\/\/.*$/gm, '');
    const makesInformers = new RegExp(`\\b(${INFORMER})\\b`).test(code);
    for (const name of OPAQUE.filter(n => !(makesInformers && INFORMER_PARTS.includes(n)))) {
      const at = new RegExp(`\\b${name}\\b`).exec(code);
      if (at && typeof exported[name] === 'function') {
        found.push({
          at: lineOf(at.index),
          method: name,
          calls: [],
          error: `${name} hides which resources it calls; list them in test/helpers/api-calls.ts and teach the scanner`,
        });
      }
    }
    const classes = [...new Set([...code.matchAll(/\b([A-Z]\w*Api)\b/g)].map(m => m[1]!))].filter(
      c => methodsOf(c).length > 0,
    );
    const byMethod = new Map<string, string[]>();
    for (const cls of classes) {
      if (!(cls in API_CLASSES)) {
        found.push({
          at: file,
          method: cls,
          calls: [],
          error: `${cls}: unknown API class; add its group to API_CLASSES in test/helpers/api-calls.ts`,
        });
        continue;
      }
      for (const m of methodsOf(cls)) byMethod.set(m, [...(byMethod.get(m) ?? []), cls]);
    }
    for (const [method, owners] of byMethod) {
      for (const hit of code.matchAll(new RegExp(`\\.${method}\\s*\\(`, 'g'))) {
        const at = lineOf(hit.index);
        const groups = owners.map(o => API_CLASSES[o]);
        if (groups.every(g => g === null) || method === 'getAPIResources') continue;
        if (new Set(groups).size > 1) {
          found.push({
            at,
            method,
            calls: [],
            error: `${method} exists on ${owners.join(' and ')}: cannot tell which is called`,
          });
          continue;
        }
        const group = groups[0]!;
        const derived =
          group === CUSTOM
            ? customCall(method, argsOf(code, hit.index + hit[0].length - 1), code)
            : typedCall(method, group as string);
        if (typeof derived === 'string') found.push({ at, method, calls: [], error: derived });
        else found.push({ at, method, calls: Array.isArray(derived) ? derived : [derived] });
      }
    }
    if (makesInformers) {
      for (const f of found.filter(x => x.at.startsWith(`${file}:`) && x.calls.some(c => c.verb === 'list'))) {
        found.push({
          at: f.at,
          method: `informer (${f.method})`,
          calls: f.calls.filter(c => c.verb === 'list').map(c => ({ ...c, verb: 'watch' })),
        });
      }
    }
  }
  return found;
}
