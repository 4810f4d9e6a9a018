/**
 * Finalizers, owner references and child names: the small pieces every controller that creates things
 * needs. Finalizer edits send the whole list with the resourceVersion it was computed from, so a
 * concurrent edit fails with a Conflict (and the key is requeued) instead of being overwritten.
 */
import { createHash } from 'node:crypto';
import type { OwnerReference } from '../api/index.js';
import type { KubeClient, KubeObject, ResourceType } from './kube-client.js';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** Adds the finalizer (no call when present). Resolves to the object as stored. */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  rt: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return client.mergePatch<T>(rt, obj.metadata.namespace ?? '', obj.metadata.name, {
    metadata: {
      resourceVersion: obj.metadata.resourceVersion,
      finalizers: [...(obj.metadata.finalizers ?? []), finalizer],
    },
  });
}

/** Removes the finalizer (no call when absent). Once no finalizer is left, a deleted object goes away. */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  rt: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  try {
    return await client.mergePatch<T>(rt, obj.metadata.namespace ?? '', obj.metadata.name, {
      metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers: rest.length > 0 ? rest : null },
    });
  } catch (err) {
    // Removing the last finalizer of a deleted object can race with its disappearance.
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}

/** A controller owner reference to `owner` (same namespace only; garbage collection deletes the child). */
export function controllerReference(owner: KubeObject): OwnerReference {
  if (!owner.apiVersion || !owner.kind || !owner.metadata.uid) {
    throw new Error(`cannot reference ${owner.metadata.name}: apiVersion, kind and metadata.uid are needed`);
  }
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The owner's namespace/name key when `obj` is controlled by an object of `kind`, for mapping events. */
export function controllerKey(obj: KubeObject, kind: string): string | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === kind);
  if (!ref) return undefined;
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name;
}

/**
 * A deterministic child name from parts, at most `max` characters (63 for labels and most names):
 * the parts joined with '-', lowercased, characters outside [a-z0-9-] replaced; when too long, cut and
 * suffixed with 8 hex digits of the SHA-256 of the full name, so different inputs stay different and a
 * retried create meets its own earlier object (409 AlreadyExists) instead of making a duplicate.
 */
export function childName(parts: readonly string[], max = 63): string {
  const full = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 8);
  return `${full.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}
