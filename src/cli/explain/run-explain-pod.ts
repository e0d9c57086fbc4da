// `explain pod/NAME` against a cluster: finds the kubeconfig, reads what the
// explanation needs, and writes it. Everything the webhooks would write while
// a pod created now is simulated (a default Sidecar, a job's labels, a
// ConfigMap) stays in memory: the cluster is only read.
import type { PipelineConfig } from '../../admission/endpoint.js';
import { MemoryStore, sequentialUids } from '../../cluster/memory-store.js';
import { loadKubeConfig } from '../kube-config.js';
import { clusterReads } from '../mutate/cluster-reads.js';
import type { CommandIO } from '../mutate/command.js';
import { clusterObjects } from './cluster-objects.js';
import { explainPod } from './explain-pod.js';
import { clusterPodWebhooks, OPERATOR_MUTATING_CONFIGURATION } from './webhook-configuration.js';

export interface ExplainPodArgs {
  name: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  configurationName: string;
  config: PipelineConfig;
  io: CommandIO;
}

export async function runExplainPod(args: ExplainPodArgs): Promise<number> {
  const kc = loadKubeConfig(args.kubeconfig, args.context);
  // As kubectl: the context's namespace when -n is not given.
  const namespace = args.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const server = kc.getCurrentCluster()!.server;
  const objects = clusterObjects(kc);
  const reads = clusterReads(kc, new MemoryStore([], sequentialUids()));
  try {
    const pod = await objects.pod(namespace, args.name);
    if (!pod) {
      args.io.stderr.write(
        `error: pod ${namespace}/${args.name} not found in ${server} (kubectl get pods -n ${namespace})\n`,
      );
      return 1;
    }
    const [labels, configuration, operator] = await Promise.all([
      reads.namespaceLabels(namespace),
      objects.mutatingWebhookConfiguration(args.configurationName),
      // Only a note: a user who may not read it still gets the explanation.
      objects.mutatingWebhookConfiguration(OPERATOR_MUTATING_CONFIGURATION).catch(() => null),
    ]);
    const text = await explainPod(
      {
        namespace,
        name: args.name,
        pod,
        namespaceLabels: labels ?? {},
        configurationName: args.configurationName,
        configuration: configuration ? clusterPodWebhooks(configuration) : null,
        otherConfigurations:
          operator && args.configurationName !== OPERATOR_MUTATING_CONFIGURATION
            ? [OPERATOR_MUTATING_CONFIGURATION]
            : [],
      },
      { store: reads.store, config: args.config },
    );
    args.io.stdout.write(text);
    return 0;
  } catch (e) {
    args.io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
