export { EmbeddedStore, validateKeyspaceName, type EmbeddedStoreOptions } from './embedded-store.js';
