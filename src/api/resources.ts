/**
 * The full custom-resource objects: apiVersion/kind/metadata around the spec and status schemas.
 * Metadata is a minimal, JSON-shaped ObjectMeta (timestamps stay ISO strings, as the API server sends them).
 */
import { Type, type Static } from '@sinclair/typebox';
import { API_GROUP_VERSION } from './group.js';
import { DataRunSpec, DataRunStatus, DATARUN_KIND } from './datarun.js';
import { DNS_SUBDOMAIN_PATTERN, StringEnum, StringMap } from './kube.js';
import { StreamBridgeSpec, StreamBridgeStatus, STREAMBRIDGE_KIND } from './streambridge.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

/** Metadata as the validators check it: a name (or generateName), labels and annotations; server fields pass. */
export const ManifestMetadata = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        description: 'Object name.',
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN_PATTERN,
      }),
    ),
    generateName: Type.Optional(Type.String({ description: 'Name prefix.', minLength: 1, maxLength: 248 })),
    namespace: Type.Optional(
      Type.String({
        description: 'Namespace.',
        minLength: 1,
        maxLength: 63,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      }),
    ),
    labels: Type.Optional(
      StringMap(Type.String({ description: 'Label value.', maxLength: 63 }), {
        maxProperties: 256,
        description: 'Labels.',
      }),
    ),
    annotations: Type.Optional(
      StringMap(Type.String({ description: 'Annotation value.' }), {
        maxProperties: 256,
        description: 'Annotations.',
      }),
    ),
  },
  { description: 'Object metadata.', additionalProperties: true },
);

const resource = <
  K extends string,
  S extends typeof DataRunSpec | typeof StreamBridgeSpec,
  T extends typeof DataRunStatus | typeof StreamBridgeStatus,
>(
  kind: K,
  spec: S,
  status: T,
) =>
  Type.Object(
    {
      apiVersion: StringEnum([API_GROUP_VERSION] as const, { description: 'API version.' }),
      kind: StringEnum([kind] as const, { description: 'Kind.' }),
      metadata: ManifestMetadata,
      spec,
      status: Type.Optional(status),
    },
    { additionalProperties: false, description: `${kind} object.` },
  );

export const DataRunSchema = resource(DATARUN_KIND, DataRunSpec, DataRunStatus);
export const StreamBridgeSchema = resource(STREAMBRIDGE_KIND, StreamBridgeSpec, StreamBridgeStatus);

export interface DataRun {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof DATARUN_KIND;
  metadata: ObjectMeta;
  spec: Static<typeof DataRunSpec>;
  status?: Static<typeof DataRunStatus>;
}

export interface StreamBridge {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof STREAMBRIDGE_KIND;
  metadata: ObjectMeta;
  spec: Static<typeof StreamBridgeSpec>;
  status?: Static<typeof StreamBridgeStatus>;
}
