import type { Store } from '../types.js';

/**
 * What the distributed mode needs from a store beyond the Store contract. The Cassandra store implements
 * it; the embedded store (one process) does not need it.
 */

/** Parameter overrides (`--param k=v`) of a run, kept so that every worker loads the same script. */
export interface RunOverridesStore {
  putRunOverrides(ks: string, runId: number, overrides: Readonly<Record<string, string>>): Promise<void>;
  /** The run's overrides; an empty object when it has none. */
  getRunOverrides(ks: string, runId: number): Promise<Record<string, string>>;
}

/**
 * Named leases with an expiry: a worker holds the lease of a batch while it processes it (renewing it),
 * so that a redelivered copy is taken over at once when the holder died, and waits while it lives.
 */
export interface LeaseStore {
  /** Takes the lease when nobody holds it (or this owner already does); false when another owner does. */
  acquireLease(ks: string, name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease; false when the owner lost it (it expired and someone else took it). */
  renewLease(ks: string, name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (no effect when another owner holds it). */
  releaseLease(ks: string, name: string, owner: string): Promise<void>;
}

export type DistributedStore = Store & RunOverridesStore & LeaseStore;

export function keepsRunOverrides(store: Store): store is Store & RunOverridesStore {
  const s = store as Partial<RunOverridesStore>;
  return typeof s.putRunOverrides === 'function' && typeof s.getRunOverrides === 'function';
}

export function isDistributedStore(store: Store): store is DistributedStore {
  const s = store as Partial<LeaseStore>;
  return (
    keepsRunOverrides(store) &&
    typeof s.acquireLease === 'function' &&
    typeof s.renewLease === 'function' &&
    typeof s.releaseLease === 'function'
  );
}
