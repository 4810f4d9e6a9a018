export * from './types.js';
export {
  MAX_ROWID_BATCH_IDX,
  MAX_ROWID_SEQ,
  MAX_TOKEN,
  MIN_TOKEN,
  rowidFor,
  rowidGenerator,
  splitTokenRange,
  tokenInRange,
  tokenOf,
} from './token.js';
export { EmbeddedStore, validateKeyspaceName, type EmbeddedStoreOptions } from './embedded/index.js';
export {
  CassandraStore,
  cassandraSettings,
  CASSANDRA_ENV,
  DEFAULT_REPLICATION,
  isDistributedStore,
  keepsRunOverrides,
  type CassandraSettings,
  type CassandraSettingsInput,
  type DistributedStore,
  type LeaseStore,
  type RunOverridesStore,
} from './cassandra/index.js';
