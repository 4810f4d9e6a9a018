export type { BatchHandler, BatchMessage, BatchQueue, Consumer, Disposition } from './types.js';
export {
  MemoryQueue,
  isBatchMessage,
  validateBatchMessage,
  type DeadLetter,
  type MemoryQueueOptions,
} from './memory/index.js';
