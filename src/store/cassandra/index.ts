export { CassandraStore, mapLimit } from './cassandra-store.js';
export {
  cassandraSettings,
  CASSANDRA_ENV,
  CONSISTENCY_LEVELS,
  DEFAULT_REPLICATION,
  type CassandraSettings,
  type CassandraSettingsInput,
  type ConsistencyName,
} from './settings.js';
export {
  isDistributedStore,
  keepsRunOverrides,
  type DistributedStore,
  type LeaseStore,
  type RunOverridesStore,
} from './types.js';
