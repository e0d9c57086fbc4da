// Defaulting of a custom resource's spec from a table of defaults: fills the
// fields the user left out, so what is stored is what the consumers (the
// injector, the operator) will use. Older CRDs carry no schema defaults,
// hence these webhooks.
import type { AdmissionRequest } from '../../admission/types.js';
import type { SpecDefault } from '../../vineyard/sidecar-defaults.js';
import { missingDefaults } from '../../vineyard/sidecar-defaults.js';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import type { Mutator, Verdict } from '../../admission/mutator.js';
import { allow } from '../../admission/mutator.js';
import { isObject } from '../../json.js';
import { objectName } from '../pod/pod-name.js';

/**
 * A default can be filled only where every parent is an object or absent: a
 * parent of the wrong type (`vineyard: "big"`) is the user's data, which
 * validation reports; overwriting it here would silently lose it.
 */
function parentsFillable(spec: unknown, path: readonly string[]): boolean {
  let cur = spec;
  for (const seg of path.slice(0, -1)) {
    if (cur === undefined || cur === null) return true;
    if (!isObject(cur)) return false;
    cur = cur[seg];
  }
  return cur === undefined || cur === null || isObject(cur);
}

/** Defaults rendered from the CR's name (the socket directory) cannot be filled before the name exists. */
const dependsOnName = (d: SpecDefault): boolean => d.value('namespace', 'a') !== d.value('namespace', 'b');

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A mutator filling `table`'s missing defaults into a `kind` object's spec. */
export function specDefaulter<O>(kind: string, table: readonly SpecDefault[]): Mutator<O, unknown> {
  return (req: AdmissionRequest, obj: Readonly<O>, _ctx: unknown, patch: PatchBuilder): Verdict => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
    const o = obj as Record<string, unknown>;
    const meta: Record<string, unknown> = isObject(o.metadata) ? o.metadata : {};
    const namespace = text(meta.namespace) || req.namespace || '';
    const name = objectName(req, obj);
    const spec: unknown = o.spec;
    if (spec !== undefined && spec !== null && !isObject(spec)) return allow();

    const warnings: string[] = [];
    for (const d of missingDefaults(spec, table)) {
      if (!parentsFillable(spec, d.path)) continue;
      if (!name && dependsOnName(d)) {
        // With generateName the API server picks the name after mutating admission.
        warnings.push(
          `${kind} with generateName ${JSON.stringify(text(meta.generateName))}: spec.${d.path.join('.')} ` +
            `is left unset because its default is derived from the name, which does not exist yet; ` +
            `set it explicitly or let the next update of this ${kind} fill it`,
        );
        continue;
      }
      patch.set(['spec', ...d.path], d.value(namespace, name));
    }
    return allow(warnings);
  };
}
