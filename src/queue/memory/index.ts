export { MemoryQueue, type DeadLetter, type MemoryQueueOptions } from './memory-queue.js';
export { isBatchMessage, validateBatchMessage } from './validate.js';
