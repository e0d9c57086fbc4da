// Pointing a container's env variable at a literal value, as both socket
// injectors do with VINEYARD_IPC_SOCKET: one rule for both, so that a second
// call (reinvocation) finds nothing left to change.
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import type { PatchBuilder } from '../../jsonpatch/patch.js';
import { envIndex } from './pod-helpers.js';

/**
 * Makes env `name` of spec.containers[index] the literal `value`: appended
 * when absent, replaced when it holds another value or a valueFrom. Returns
 * the entry it replaced (for a warning), else undefined.
 */
export function setEnvValue(
  p: PatchBuilder,
  index: number,
  container: Readonly<V1Container>,
  name: string,
  value: string,
): V1EnvVar | undefined {
  const at = envIndex(container, name);
  if (at < 0) {
    p.append(['spec', 'containers', index, 'env'], { name, value });
    return undefined;
  }
  const old = container.env![at]!;
  if (old.value === value && !old.valueFrom) return undefined;
  p.set(['spec', 'containers', index, 'env', at], { name, value });
  return old;
}
