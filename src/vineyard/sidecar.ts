// The Sidecar custom resource (k8s.v6d.io/v1alpha1), as far as this webhook
// reads it. Unknown fields are kept: objects stay plain JSON.
import type { V1EnvVar, V1ObjectMeta, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';

export interface SidecarSpill {
  name?: string;
  path?: string;
  spillLowerRate?: string;
  spillUpperRate?: string;
  persistentVolumeSpec?: Record<string, unknown>;
  persistentVolumeClaimSpec?: Record<string, unknown>;
}

export interface SidecarVineyard {
  image?: string;
  imagePullPolicy?: string;
  syncCRDs?: boolean;
  socket?: string;
  size?: string;
  reserveMemory?: boolean;
  streamThreshold?: number;
  spill?: SidecarSpill;
  env?: V1EnvVar[];
  memory?: string;
  cpu?: string;
}

export interface SidecarSpec {
  replicas?: number;
  selector?: string;
  etcdReplicas?: number;
  vineyard?: SidecarVineyard;
  metric?: { enable?: boolean; image?: string; imagePullPolicy?: string };
  volume?: { pvcName?: string; mountPath?: string };
  service?: { type?: string; port?: number; selector?: string };
  securityContext?: V1SecurityContext;
  volumes?: V1Volume[];
  volumeMounts?: V1VolumeMount[];
}

export interface Sidecar {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: SidecarSpec;
  status?: Record<string, unknown>;
}

/** The Vineyardd custom resource: only the socket matters to this webhook. */
export interface Vineyardd {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: {
    vineyard?: { socket?: string };
    volume?: { pvcName?: string; mountPath?: string };
    [k: string]: unknown;
  };
}

/** How vineyardd joins a pod: `injected`, a regular container plus the socket-wait rewrite; `native`, a restartable init container. */
export type SidecarMode = 'injected' | 'native';
