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
