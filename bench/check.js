// Checks every answer the load generator gets: HTTP 200, an AdmissionReview
// in the request's version echoing the request's uid, allowed, and a patch
// exactly when the scenario expects one, which must decode, apply to the
// object sent (fast-json-patch, validating) and give an object that shows
// the scenario's effect. A patch identical to one already verified for the
// same object is the same answer, so it is verified once: the check stays
// cheap enough not to slow the generator down.
import fjp from 'fast-json-patch';

const containerNames = pod => (pod.spec?.containers ?? []).map(c => c.name);
const envNames = c => (c.env ?? []).map(e => e.name);

/**
 * What the patched object must show, beyond "the patch applies": returns a
 * problem or undefined. `before` is the object sent, `after` the patched one.
 */
export const VERIFY = {
  injected(before, after) {
    const names = containerNames(after);
    if (!names.includes('vineyard-sidecar')) return 'no vineyard-sidecar container was added';
    for (const c of after.spec.containers) {
      if (c.name === 'vineyard-sidecar' || c.name === 'metrics') continue;
      if (!envNames(c).includes('VINEYARD_IPC_SOCKET')) return `container ${c.name} did not get VINEYARD_IPC_SOCKET`;
      if (!c.volumeMounts?.some(m => m.name === 'vineyard-socket'))
        return `container ${c.name} does not mount vineyard-socket`;
    }
    for (const n of containerNames(before)) if (!names.includes(n)) return `container ${n} was lost`;
    if (!after.metadata?.annotations?.['sidecar.v6d.io/status'])
      return 'annotation sidecar.v6d.io/status was not written';
    return undefined;
  },
  scheduled(before, after) {
    if (!after.spec?.volumes?.some(v => v.name === 'vineyard-socket' && v.hostPath?.path))
      return 'no vineyard-socket hostPath volume';
    if (!after.spec?.affinity?.podAffinity) return 'no pod affinity to the vineyardd pods';
    if (after.spec.containers.length !== before.spec.containers.length) return 'containers were added or removed';
    return undefined;
  },
  operation(before, after) {
    for (const c of [...after.spec.containers, ...(after.spec.initContainers ?? [])]) {
      const env = envNames(c);
      if (!env.includes('POD_NAME') || !env.includes('POD_NAMESPACE'))
        return `container ${c.name} lacks POD_NAME or POD_NAMESPACE`;
    }
    if (after.spec.containers.length !== before.spec.containers.length) return 'containers were added or removed';
    return undefined;
  },
  defaulted(_before, after) {
    const s = after.spec ?? {};
    if (
      s.vineyard?.image !== 'vineyardcloudnative/vineyardd:latest' ||
      s.service?.port !== 9600 ||
      s.etcdReplicas !== 1
    )
      return 'spec defaults were not filled in';
    if (s.vineyard?.size !== '1024Mi' || s.securityContext?.privileged !== true)
      return 'fields the CR set were changed';
    return undefined;
  },
};

const MAX_REMEMBERED = 64;

/**
 * `scenario`: {review, patches, verify} from scenarios.js. With `ceiling`,
 * only the envelope is checked (the ceiling server answers a canned allow).
 * Returns check(uid, status, body) giving a problem, or undefined when right.
 */
export function makeChecker(scenario, { ceiling = false } = {}) {
  const { apiVersion } = scenario.review;
  const object = scenario.review.request.object;
  const verified = new Map();
  const rule = scenario.verify ? VERIFY[scenario.verify] : undefined;
  if (scenario.verify && !rule) throw new Error(`scenario ${scenario.name}: no verify rule ${scenario.verify}`);

  function checkPatch(b64) {
    let ops;
    try {
      ops = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    } catch (e) {
      return `response.patch is not base64 JSON: ${e.message}`;
    }
    if (!Array.isArray(ops) || ops.length === 0) return 'response.patch is not a non-empty JSON Patch array';
    let after;
    try {
      after = fjp.applyPatch(structuredClone(object), ops, true, false).newDocument;
    } catch (e) {
      return `response.patch does not apply to the object sent: ${e.message}`;
    }
    return rule ? rule(object, after) : undefined;
  }

  return function check(uid, status, body) {
    if (status !== 200) return `HTTP ${status}: ${body.toString('utf8').slice(0, 300)}`;
    let review;
    try {
      review = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return `the body is not JSON: ${e.message}`;
    }
    if (review?.apiVersion !== apiVersion || review.kind !== 'AdmissionReview')
      return `not an ${apiVersion} AdmissionReview: apiVersion ${JSON.stringify(review?.apiVersion)}, kind ${JSON.stringify(review?.kind)}`;
    const r = review.response;
    if (!r || r.uid !== uid) return `response.uid ${JSON.stringify(r?.uid)} is not the request's ${uid}`;
    if (r.allowed !== true) return `not allowed: ${JSON.stringify(r.status ?? null).slice(0, 300)}`;
    if (ceiling) return undefined;
    if (!scenario.patches) return r.patch === undefined ? undefined : 'a patch came for an object that needs no change';
    if (typeof r.patch !== 'string') return 'no patch came for an object that needs one';
    if (r.patchType !== 'JSONPatch') return `patchType is ${JSON.stringify(r.patchType)}, not JSONPatch`;
    const known = verified.get(r.patch);
    if (known !== undefined) return known || undefined;
    const problem = checkPatch(r.patch);
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(r.patch, problem ?? '');
    return problem;
  };
}
