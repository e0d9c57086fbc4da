// NODE_OPTIONS of the webhook container in deploy/deployment.yaml: the benches
// run the server with the flags it is deployed with (memory above all).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export function deployedNodeOptions() {
  const deployment = parseYaml(readFileSync(new URL('../deploy/deployment.yaml', import.meta.url), 'utf8'));
  const containers = deployment?.spec?.template?.spec?.containers ?? [];
  const env = containers.flatMap(c => c.env ?? []);
  return env.find(e => e.name === 'NODE_OPTIONS')?.value ?? '';
}
