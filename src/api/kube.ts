/**
 * Building blocks for the CRD schemas: bounded strings, enums, maps and curated subsets of core Kubernetes types.
 *
 * Every schema here is written once with typebox and serves three outputs: static TypeScript types, ajv
 * validators and the `openAPIV3Schema` of the generated CRDs. Two rules keep that possible:
 * - only keywords a structural CRD schema accepts are used (no `const`, `$ref`, `patternProperties`), with
 *   one exception: `additionalProperties: false` on objects, which the validators use to reject unknown
 *   fields and the CRD generator drops (the API server prunes unknown fields instead);
 * - every property carries a `description` (the generator refuses a schema without one).
 */
import { Type, type SchemaOptions, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A CEL validation rule, as `x-kubernetes-validations` carries it. */
export interface CelRule {
  rule: string;
  message: string;
  /** Path (relative to the node carrying the rule) the API server reports the failure on, e.g. `.replicas`. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface KubeSchemaOptions extends SchemaOptions {
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A string enum (`type: string` + `enum`), typed as the union of its values. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubeSchemaOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A map from string keys to `value` (`additionalProperties: <schema>`, bounded by `maxProperties`). */
export function StringMap<V extends TSchema>(
  value: V,
  options: KubeSchemaOptions & { maxProperties: number },
): TUnsafe<Record<string, Static<V>>> {
  return Type.Unsafe<Record<string, Static<V>>>({ ...options, type: 'object', additionalProperties: value });
}

/** A Kubernetes quantity ("500m", "2Gi", 3): `x-kubernetes-int-or-string` with the quantity pattern. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export function Quantity(description: string, extra: SchemaOptions = {}): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({
    ...extra,
    description,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
  });
}

/** Go-style duration: "30s", "5m", "1h30m", "250ms". */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

export function Duration(description: string, defaultValue?: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    description,
    maxLength: 32,
    pattern: DURATION_PATTERN,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/** DNS-1123 label (names of Secrets' keys excluded): lowercase alphanumerics and '-', at most 63. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain: what most object names must be, at most 253. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** Keys of ConfigMaps and Secrets. */
export const CONFIG_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

export function ObjectName(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    description,
    minLength: 1,
    maxLength: 253,
    pattern: DNS_SUBDOMAIN_PATTERN,
  });
}

export function ConfigKey(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    description,
    minLength: 1,
    maxLength: 253,
    pattern: CONFIG_KEY_PATTERN,
  });
}

export const DateTime = (description: string) =>
  Type.String({ description, format: 'date-time', maxLength: 64 });

/** A Secret in the object's namespace. */
export const LocalSecretReference = Type.Object(
  { name: ObjectName('Name of the Secret (same namespace as the referring object).') },
  { additionalProperties: false, description: 'Reference to a Secret in the same namespace.' },
);
export type LocalSecretReference = Static<typeof LocalSecretReference>;

export const KeySelector = (what: 'ConfigMap' | 'Secret') =>
  Type.Object(
    {
      name: ObjectName(`Name of the ${what} (same namespace).`),
      key: ConfigKey(`Key inside the ${what}.`),
    },
    { additionalProperties: false, description: `A key of a ${what} in the same namespace.` },
  );

export const ConfigMapKeySelector = KeySelector('ConfigMap');
export type ConfigMapKeySelector = Static<typeof ConfigMapKeySelector>;
export const SecretKeySelector = KeySelector('Secret');
export type SecretKeySelector = Static<typeof SecretKeySelector>;

/** Compute resources (a curated `ResourceRequirements`: limits and requests only). */
export const ResourceRequirements = Type.Object(
  {
    limits: Type.Optional(
      StringMap(Quantity('Quantity, e.g. "2", "500m", "4Gi".'), {
        maxProperties: 16,
        description: 'Maximum resources a container may use, by resource name (cpu, memory, ...).',
      }),
    ),
    requests: Type.Optional(
      StringMap(Quantity('Quantity, e.g. "2", "500m", "4Gi".'), {
        maxProperties: 16,
        description: 'Resources the scheduler reserves for a container, by resource name.',
      }),
    ),
  },
  { additionalProperties: false, description: 'CPU and memory requests and limits of a container.' },
);
export type ResourceRequirements = Static<typeof ResourceRequirements>;

export const ImagePullPolicy = StringEnum(['Always', 'IfNotPresent', 'Never'] as const, {
  description: 'When the kubelet pulls the image: Always, IfNotPresent or Never.',
});

/** Environment variable of a container (curated `EnvVar`: value, or a Secret/ConfigMap key, or a pod field). */
export const EnvVar = Type.Object(
  {
    name: Type.String({
      description: 'Variable name.',
      minLength: 1,
      maxLength: 128,
      pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$',
    }),
    value: Type.Optional(Type.String({ description: 'Literal value.', maxLength: 32768 })),
    valueFrom: Type.Optional(
      Type.Object(
        {
          secretKeyRef: Type.Optional(SecretKeySelector),
          configMapKeyRef: Type.Optional(ConfigMapKeySelector),
          fieldRef: Type.Optional(
            Type.Object(
              {
                fieldPath: Type.String({
                  description: 'Pod field, e.g. metadata.name, metadata.namespace, status.podIP.',
                  minLength: 1,
                  maxLength: 256,
                }),
              },
              { additionalProperties: false, description: 'A field of the pod.' },
            ),
          ),
        },
        {
          additionalProperties: false,
          description: 'Where the value comes from: exactly one of secretKeyRef, configMapKeyRef, fieldRef.',
          'x-kubernetes-validations': [
            {
              rule: '(has(self.secretKeyRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.fieldRef) ? 1 : 0) == 1',
              message: 'valueFrom needs exactly one of secretKeyRef, configMapKeyRef or fieldRef',
            },
          ],
        } satisfies KubeSchemaOptions,
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'An environment variable of the container.',
    'x-kubernetes-validations': [
      { rule: '!(has(self.value) && has(self.valueFrom))', message: 'set value or valueFrom, not both' },
    ],
  } satisfies KubeSchemaOptions,
);
export type EnvVar = Static<typeof EnvVar>;

/** Volume sources offered to workers (a curated subset: enough to mount data for file:// URLs). */
export const Volume = Type.Object(
  {
    name: Type.String({
      description: 'Volume name, referred to by volumeMounts.',
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL_PATTERN,
    }),
    persistentVolumeClaim: Type.Optional(
      Type.Object(
        {
          claimName: ObjectName('Name of the PersistentVolumeClaim.'),
          readOnly: Type.Optional(Type.Boolean({ description: 'Mount the claim read-only.' })),
        },
        { additionalProperties: false, description: 'A PersistentVolumeClaim in the same namespace.' },
      ),
    ),
    configMap: Type.Optional(
      Type.Object(
        { name: ObjectName('Name of the ConfigMap.') },
        { additionalProperties: false, description: 'Every key of a ConfigMap as a file.' },
      ),
    ),
    secret: Type.Optional(
      Type.Object(
        { secretName: ObjectName('Name of the Secret.') },
        { additionalProperties: false, description: 'Every key of a Secret as a file.' },
      ),
    ),
    emptyDir: Type.Optional(
      Type.Object(
        {
          medium: Type.Optional(
            StringEnum(['', 'Memory'] as const, { description: 'Storage medium: "" (node disk) or Memory.' }),
          ),
          sizeLimit: Type.Optional(Quantity('Size limit of the directory, e.g. "10Gi".')),
        },
        { additionalProperties: false, description: 'A scratch directory that lives as long as the pod.' },
      ),
    ),
    hostPath: Type.Optional(
      Type.Object(
        {
          path: Type.String({ description: 'Path on the node.', minLength: 1, maxLength: 4096 }),
          type: Type.Optional(
            StringEnum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File'] as const, {
              description: 'What must exist at the path.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'A directory of the node (single-node and test clusters).',
        },
      ),
    ),
    nfs: Type.Optional(
      Type.Object(
        {
          server: Type.String({ description: 'NFS server host name or IP.', minLength: 1, maxLength: 253 }),
          path: Type.String({ description: 'Exported path.', minLength: 1, maxLength: 4096 }),
          readOnly: Type.Optional(Type.Boolean({ description: 'Mount the export read-only.' })),
        },
        { additionalProperties: false, description: 'An NFS export.' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'A volume of the worker pods: exactly one of persistentVolumeClaim, configMap, secret, emptyDir, hostPath, nfs.',
    'x-kubernetes-validations': [
      {
        rule:
          '(has(self.persistentVolumeClaim) ? 1 : 0) + (has(self.configMap) ? 1 : 0) + (has(self.secret) ? 1 : 0) + ' +
          '(has(self.emptyDir) ? 1 : 0) + (has(self.hostPath) ? 1 : 0) + (has(self.nfs) ? 1 : 0) == 1',
        message:
          'a volume needs exactly one source: persistentVolumeClaim, configMap, secret, emptyDir, hostPath or nfs',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type Volume = Static<typeof Volume>;

export const VolumeMount = Type.Object(
  {
    name: Type.String({ description: 'Name of a volume in volumes.', minLength: 1, maxLength: 63 }),
    mountPath: Type.String({
      description: 'Absolute path in the container.',
      minLength: 1,
      maxLength: 4096,
      pattern: '^/',
    }),
    subPath: Type.Optional(Type.String({ description: 'Sub-path of the volume to mount.', maxLength: 4096 })),
    readOnly: Type.Optional(Type.Boolean({ description: 'Mount read-only.' })),
  },
  { additionalProperties: false, description: 'Where a volume is mounted in the container.' },
);
export type VolumeMount = Static<typeof VolumeMount>;

export const Toleration = Type.Object(
  {
    key: Type.Optional(
      Type.String({ description: 'Taint key; empty with Exists matches all.', maxLength: 317 }),
    ),
    operator: Type.Optional(
      StringEnum(['Exists', 'Equal'] as const, { description: 'Exists or Equal (default Equal).' }),
    ),
    value: Type.Optional(Type.String({ description: 'Taint value (Equal only).', maxLength: 63 })),
    effect: Type.Optional(
      StringEnum(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const, {
        description: 'Taint effect to match; empty matches all.',
      }),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({ description: 'How long a NoExecute taint is tolerated.', format: 'int64', minimum: 0 }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A toleration of the worker pods.',
    'x-kubernetes-validations': [
      {
        rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        message: 'a toleration with operator Exists takes no value',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type Toleration = Static<typeof Toleration>;

export const NodeSelector = StringMap(Type.String({ description: 'Label value.', maxLength: 63 }), {
  maxProperties: 32,
  description: 'Node labels the pods must match.',
});

/** `metav1.Condition`, as the Kubernetes API conventions define it. */
export const Condition = Type.Object(
  {
    type: Type.String({
      description: 'Condition type in CamelCase, e.g. Ready, Complete.',
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        description: 'metadata.generation the condition was computed from.',
        format: 'int64',
        minimum: 0,
      }),
    ),
    lastTransitionTime: Type.String({
      description: 'When the status last changed (not updated when only reason or message change).',
      format: 'date-time',
      maxLength: 64,
    }),
    reason: Type.String({
      description: 'Machine-readable CamelCase reason for the last transition.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'Human-readable details.', maxLength: 32768 }),
  },
  { additionalProperties: false, description: 'Condition of the resource (metav1.Condition).' },
);
export type Condition = Static<typeof Condition>;

export const Conditions = (types: readonly string[]) =>
  Type.Array(Condition, {
    maxItems: 16,
    description: `Current state, one entry per condition type (${types.join(', ')}).`,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  } satisfies KubeSchemaOptions);
