import { AggregateUserError } from '../../errors/index.js';

/** Consistency levels a Plexus deployment may choose for reads and writes (LWTs use the serial level). */
export const CONSISTENCY_LEVELS = [
  'ONE',
  'LOCAL_ONE',
  'QUORUM',
  'LOCAL_QUORUM',
  'ALL',
  'EACH_QUORUM',
] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];

/** How to reach Cassandra and how to create keyspaces. */
export interface CassandraSettings {
  /** `host` or `host:port` (default port 9042). */
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly username?: string;
  readonly password?: string;
  /** CQL replication map used by CREATE KEYSPACE, e.g. `{'class': 'NetworkTopologyStrategy', 'dc1': 3}`. */
  readonly replication: string;
  /** Consistency of reads and writes (default LOCAL_QUORUM). */
  readonly consistency: ConsistencyName;
  /** Requests of one store call in flight at once (default 64). */
  readonly maxInFlight: number;
  /** Per-request timeout in ms (default 30000). */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}";

/**
 * The environment variables of the Cassandra connection (documented in docs/distributed.md). Flags of the
 * CLI win over them.
 */
export const CASSANDRA_ENV = {
  contactPoints: 'PLEXUS_CASSANDRA_CONTACT_POINTS',
  localDataCenter: 'PLEXUS_CASSANDRA_LOCAL_DC',
  username: 'PLEXUS_CASSANDRA_USERNAME',
  password: 'PLEXUS_CASSANDRA_PASSWORD',
  replication: 'PLEXUS_CASSANDRA_REPLICATION',
  consistency: 'PLEXUS_CASSANDRA_CONSISTENCY',
  maxInFlight: 'PLEXUS_CASSANDRA_MAX_IN_FLIGHT',
  requestTimeoutMs: 'PLEXUS_CASSANDRA_TIMEOUT_MS',
} as const;

export type CassandraSettingsInput = { -readonly [K in keyof CassandraSettings]?: string | undefined };

/**
 * Settings from explicit values (flags) over environment variables over defaults. Every problem is
 * reported at once, naming the flag's environment variable.
 */
export function cassandraSettings(
  explicit: CassandraSettingsInput = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): CassandraSettings {
  const problems: string[] = [];
  const pick = (k: keyof typeof CASSANDRA_ENV): string | undefined => {
    const v = explicit[k] ?? env[CASSANDRA_ENV[k]];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const points = (pick('contactPoints') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (points.length === 0) {
    problems.push(
      `no Cassandra contact points: set ${CASSANDRA_ENV.contactPoints} (host[:port],...) or --cassandra`,
    );
  }
  for (const p of points) {
    if (!/^[A-Za-z0-9.\-_]+(:[0-9]{1,5})?$/.test(p) && !/^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(p)) {
      problems.push(`Cassandra contact point ${JSON.stringify(p)} is not host or host:port`);
    }
  }
  const replication = pick('replication') ?? DEFAULT_REPLICATION;
  if (!/^\{[^;]*\}$/s.test(replication) || !/'class'/.test(replication)) {
    problems.push(
      `${CASSANDRA_ENV.replication}: ${JSON.stringify(replication)} is not a CQL replication map like ${DEFAULT_REPLICATION}`,
    );
  }
  const consistency = (pick('consistency') ?? 'LOCAL_QUORUM').toUpperCase();
  if (!(CONSISTENCY_LEVELS as readonly string[]).includes(consistency)) {
    problems.push(
      `${CASSANDRA_ENV.consistency}: ${JSON.stringify(consistency)} is not one of ${CONSISTENCY_LEVELS.join(', ')}`,
    );
  }
  const int = (k: keyof typeof CASSANDRA_ENV, def: number, min: number, max: number): number => {
    const v = pick(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${CASSANDRA_ENV[k]}: ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
      return def;
    }
    return n;
  };
  const maxInFlight = int('maxInFlight', 64, 1, 2048);
  const requestTimeoutMs = int('requestTimeoutMs', 30_000, 100, 600_000);
  const username = pick('username');
  const password = explicit.password ?? env[CASSANDRA_ENV.password];
  if (username !== undefined && (password === undefined || password === '')) {
    problems.push(`${CASSANDRA_ENV.username} is set but ${CASSANDRA_ENV.password} is not`);
  }
  if (problems.length > 0) throw new AggregateUserError('CASSANDRA_SETTINGS', problems);
  return {
    contactPoints: points,
    localDataCenter: pick('localDataCenter') ?? 'datacenter1',
    username,
    password: username !== undefined ? password : undefined,
    replication,
    consistency: consistency as ConsistencyName,
    maxInFlight,
    requestTimeoutMs,
  };
}
