import { createHash } from 'node:crypto';

/** Cassandra limits keyspace names to 48 characters of [a-zA-Z0-9_]. */
export const KEYSPACE_MAX_LENGTH = 48;
export const DEFAULT_KEYSPACE_PREFIX = 'plx_';

/**
 * The keyspace a DataRun uses when `spec.keyspace` is absent, derived from its namespace and name:
 *
 * 1. `plx_<namespace>_<name>`, lowercased, every character outside [a-z0-9_] replaced by `_`;
 * 2. if that is longer than 48 characters: its first 39 characters, `_`, and the first 8 hex digits of
 *    SHA-256("<namespace>/<name>") — so long names stay distinct and the result is stable.
 *
 * Example: namespace `data`, name `lookup-quick` → `plx_data_lookup_quick`.
 * The prefix keeps the name starting with a letter and away from Cassandra's reserved `system*` keyspaces.
 */
export function defaultKeyspace(namespace: string, name: string): string {
  const base = `${DEFAULT_KEYSPACE_PREFIX}${namespace}_${name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (base.length <= KEYSPACE_MAX_LENGTH) return base;
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 8);
  return `${base.slice(0, KEYSPACE_MAX_LENGTH - 9)}_${hash}`;
}

/** The keyspace of a DataRun: its spec.keyspace, else the derived default. */
export function dataRunKeyspace(run: {
  metadata: { namespace?: string; name: string };
  spec: { keyspace?: string };
}): string {
  return run.spec.keyspace ?? defaultKeyspace(run.metadata.namespace ?? 'default', run.metadata.name);
}
