// Every label, annotation, container, volume and env name the webhook reads or
// writes. Imported everywhere, never retyped: a typo in a key is a silent bug.

// Sidecar injection
export const SIDECAR_ENABLED_LABEL = 'sidecar.v6d.io/enabled';
export const SIDECAR_NAME_ANNOTATION = 'sidecar.v6d.io/name';
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.v6d.io/status';
export const SIDECAR_NATIVE_ANNOTATION = 'sidecar.v6d.io/native';
/** `local` or `etcd`, on a pod or its Sidecar CR: where the injected vineyardd keeps its metadata. */
export const SIDECAR_META_ANNOTATION = 'sidecar.v6d.io/meta';
export const DEFAULT_SIDECAR_NAME = 'default';
export const DEFAULT_SIDECAR_SUFFIX = '-default-sidecar';
export const RPC_LABEL = 'rpc.vineyardd.v6d.io/rpc';
export const RPC_LABEL_VALUE = 'vineyardd-rpc';
export const ROLE_LABEL = 'app.vineyard.io/role';
export const ROLE_LABEL_VALUE = 'vineyardd';
export const NAME_LABEL = 'app.vineyard.io/name';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export const SIDECAR_CONTAINER = 'vineyard-sidecar';
export const METRICS_CONTAINER = 'metrics';
export const SOCKET_VOLUME = 'vineyard-socket';
export const LOG_VOLUME = 'log';
export const LOG_DIR = '/var/log/vineyard';
export const DEFAULT_SOCKET_DIR = '/var/run';
export const SOCKET_FILE = 'vineyard.sock';
export const SOCKET_ENV = 'VINEYARD_IPC_SOCKET';
export const RPC_PORT = 9600;
export const RPC_PORT_NAME = 'vineyard-rpc';
export const EXPORTER_PORT = 9144;
export const EXPORTER_PORT_NAME = 'exporter';

// Scheduler defaulting and socket wiring
export const VINEYARDD_LABEL = 'scheduling.k8s.v6d.io/vineyardd';
export const VINEYARDD_NAMESPACE_LABEL = 'scheduling.k8s.v6d.io/vineyardd-namespace';
export const JOB_LABEL = 'scheduling.k8s.v6d.io/job';

// Placement (`vineyardctl schedule workflow`): the label and annotations it
// writes on a workflow's pod template, and the one the user writes.
export const PLACEMENT_LABEL = 'scheduling.v6d.io/enabled';
export const SCHEDULED_ORDER_ANNOTATION = 'scheduledOrder';
export const WORKLOAD_SELECTOR_ANNOTATION = 'workloadSelector';
/** Written: the node this webhook chose, so a reinvocation or a later pod's count sees the decision. */
export const PLACEMENT_ANNOTATION = 'scheduling.v6d.io/placement';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Where controllers say which replica a pod is. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const REQUIRED_ANNOTATION = 'scheduling.k8s.v6d.io/required';
export const REQUIRED_NONE = 'none';
export const DEFAULT_VINEYARDD_NAMESPACE = 'vineyard-system';
export const JOB_NAME_ENV = 'JOB_NAME';
export const REQUIRED_JOB_NAME_ENV = 'REQUIRED_JOB_NAME';
export const VINEYARDD_INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';
export const DEFAULT_SCHEDULER = 'default-scheduler';

// Operation gating
export const ASSEMBLY_ENABLED_LABEL = 'assembly.v6d.io/enabled';
export const ASSEMBLY_TYPE_LABEL = 'assembly.v6d.io/type';
export const REPARTITION_ENABLED_LABEL = 'repartition.v6d.io/enabled';
export const REPARTITION_TYPE_LABEL = 'repartition.v6d.io/type';
export const DASK_SCHEDULER_ANNOTATION = 'scheduling.k8s.v6d.io/dask-scheduler';
export const DASK_WORKER_SELECTOR_ANNOTATION = 'scheduling.k8s.v6d.io/dask-worker-selector';
export const NEED_INJECTED_ASSEMBLY_LABEL = 'need-injected-assembly';
export const NEED_INJECTED_REPARTITION_LABEL = 'need-injected-repartition';
export const APP_LABEL = 'app';
export const POD_NAME_ENV = 'POD_NAME';
export const POD_NAMESPACE_ENV = 'POD_NAMESPACE';

// Namespace selectors declared in deploy/
export const SIDECAR_NAMESPACE_LABEL = 'sidecar-injection';
export const OPERATION_NAMESPACE_LABEL = 'operation-injection';
export const NAMESPACE_LABEL_ENABLED = 'enabled';

// Custom resources
export const VINEYARD_GROUP = 'k8s.v6d.io';
export const VINEYARD_VERSION = 'v1alpha1';
export const SIDECAR_KIND = 'Sidecar';
export const SIDECAR_PLURAL = 'sidecars';
export const VINEYARDD_KIND = 'Vineyardd';
export const VINEYARDD_PLURAL = 'vineyardds';

// Operation gating: what this webhook adds
/** On a pod admitted by /mutate-v1-pod: the required jobs whose pods were labelled for it (reinvocation marker). */
export const OPERATION_LABELLED_ANNOTATION = 'operation.v6d.io/labelled-jobs';

// Certificates: the labels of the CA Secret the webhook creates in secret mode
export const APP_NAME_LABEL = 'app.kubernetes.io/name';
export const APP_COMPONENT_LABEL = 'app.kubernetes.io/component';
export const APP_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const WEBHOOK_APP_NAME = 'vineyard-webhook';
export const CA_SECRET_COMPONENT = 'webhook-ca';

// Offline injection CLI and Kubernetes Events (vineyard-webhook mutate)
/** Set by the API server on every namespace; the pod webhooks' namespaceSelectors exclude system namespaces by it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The `source.component` and `reportingComponent` of the Events the webhook records. */
export const EVENT_COMPONENT = WEBHOOK_APP_NAME;

// Deployment (deploy/namespace.yaml)
/** The webhook's own namespace when nothing says otherwise; the pod webhooks never apply in it. */
export const WEBHOOK_NAMESPACE = 'vineyard-system';

// Fluid VineyardRuntime discovery: what Fluid and its Vineyard chart name
export const FLUID_INJECT_LABEL = 'fuse.vineyard.fluid.io/inject';
/** On a pod admitted by /mutate-v1-pod-fluid: the datasets wired (reinvocation marker). */
export const FLUID_STATUS_ANNOTATION = 'fuse.vineyard.fluid.io/status';
/** Fluid's own webhook handles locality for pods carrying it. */
export const FLUID_SERVERFUL_INJECT_LABEL = 'fuse.serverful.fluid.io/inject';
/** Prefix of the label Fluid puts on a dataset's PVC, and on the nodes that cache the dataset. */
export const FLUID_DATASET_LABEL_PREFIX = 'fluid.io/s-';
export const FLUID_MANAGED_BY_LABEL = 'fluid.io/managed-by';
/** `fluid.io/dataset.<name>.sched=required` makes the dataset's locality a requirement. */
export const fluidDatasetSchedLabel = (dataset: string): string => `fluid.io/dataset.${dataset}.sched`;
export const FLUID_GROUP = 'data.fluid.io';
export const FLUID_VERSION = 'v1alpha1';
export const DATASET_KIND = 'Dataset';
export const DATASET_PLURAL = 'datasets';
export const VINEYARD_RUNTIME_KIND = 'VineyardRuntime';
export const VINEYARD_RUNTIME_PLURAL = 'vineyardruntimes';
export const FLUID_VINEYARD_RUNTIME_TYPE = 'vineyard';
/** What the Vineyard runtime's mount holds: its config file, and the socket when the fuse runs a local vineyardd. */
export const VINEYARD_CONFIG_ENV = 'VINEYARD_CONFIG';
export const VINEYARD_RPC_ENDPOINT_ENV = 'VINEYARD_RPC_ENDPOINT';
export const FLUID_LOCAL_SOCKET_FILE = 'vineyard-local.sock';
export const FLUID_RPC_CONF_SUFFIX = '-rpc-conf';

// Data-aware scheduling at admission: what vineyardd's
// --sync_crds writes, and what this webhook writes in the scheduler plugin's place.
export const GLOBALOBJECT_KIND = 'GlobalObject';
export const GLOBALOBJECT_PLURAL = 'globalobjects';
export const LOCALOBJECT_KIND = 'LocalObject';
export const LOCALOBJECT_PLURAL = 'localobjects';
/** On GlobalObjects and LocalObjects: the producer's JOB_NAME, POD_NAMESPACE and (LocalObject only) the object's signature. */
export const OBJECT_JOB_LABEL = 'k8s.v6d.io/job';
export const OBJECT_POD_NAMESPACE_LABEL = 'k8s.v6d.io/created-podnamespace';
export const OBJECT_SIGNATURE_LABEL = 'k8s.v6d.io/signature';
/** On a pod: how many replicas its job has (read before asking the owner). */
export const REPLICAS_LABEL = 'scheduling.k8s.v6d.io/replicas';
export const NODENAME_ENV = 'NODENAME';
/** Written on a pod: the data placement decided for it (reinvocation marker). */
export const DATA_PLACEMENT_ANNOTATION = 'scheduling.k8s.v6d.io/data-placement';
/** Written on a job ConfigMap: the data keys this webhook owns (others are the operator's or a user's). */
export const CONFIGMAP_KEYS_ANNOTATION = 'scheduling.k8s.v6d.io/webhook-keys';
/** Written by the operator's repartition into the job ConfigMap: never ours. */
export const INSTANCE_TO_WORKER_KEY = 'InstanceToWorker';
/** The Operation CR an assembly or repartition consumer waits for (the scheduler plugin created it; this webhook does now). */
export { OPERATION_KIND, OPERATION_PLURAL } from './operator-kinds.js';
/** An Operation's status.state once the operator has run it. */
export const OPERATION_SUCCEEDED = 'succeeded';
