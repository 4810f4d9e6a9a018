/**
 * Status writes go through the status subresource only (the spec is never touched), as a merge patch from
 * the status the controller read to the one it computed, with `observedGeneration` set to the generation the
 * status was computed from. Nothing is sent when nothing changed.
 */
import { mergePatchBetween } from './conditions.js';
import type { KubeClient, KubeObject, ResourceType } from './kube-client.js';

export interface StatusWriteOptions {
  /**
   * Send the resourceVersion the status was computed from, so the write fails with a Conflict (and the key
   * is requeued) when the object changed meanwhile. Default true.
   */
  optimistic?: boolean;
}

export interface ObjectWithStatus<S> extends KubeObject {
  status?: S;
}

/** The merge patch body for /status, or undefined when `desired` equals the current status (pure). */
export function statusPatch<S extends object>(
  obj: ObjectWithStatus<object>,
  desired: S,
  opts: StatusWriteOptions = {},
): object | undefined {
  const next = { ...desired, observedGeneration: obj.metadata.generation };
  const diff = mergePatchBetween(obj.status ?? {}, next);
  if (diff === undefined) return undefined;
  const optimistic = opts.optimistic ?? true;
  return {
    ...(optimistic && obj.metadata.resourceVersion
      ? { metadata: { resourceVersion: obj.metadata.resourceVersion } }
      : {}),
    status: diff,
  };
}

/** Writes `desired` as the object's status; resolves to the updated object, or undefined when unchanged. */
export async function writeStatus<T extends ObjectWithStatus<object>>(
  client: KubeClient,
  rt: ResourceType,
  obj: T,
  desired: NonNullable<T['status']>,
  opts: StatusWriteOptions = {},
): Promise<T | undefined> {
  const patch = statusPatch(obj, desired, opts);
  if (!patch) return undefined;
  return client.mergePatchStatus<T>(rt, obj.metadata.namespace ?? 'default', obj.metadata.name, patch);
}
