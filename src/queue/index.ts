export type { BatchHandler, BatchMessage, BatchQueue, Consumer, Disposition } from './types.js';
export {
  MemoryQueue,
  isBatchMessage,
  validateBatchMessage,
  type DeadLetter,
  type MemoryQueueOptions,
} from './memory/index.js';
export {
  BATCH_MESSAGE_SCHEMA_V1,
  DELAY_TIERS_MS,
  decodeBatchMessage,
  encodeBatchMessage,
  RABBITMQ_ENV,
  RabbitMqQueue,
  rabbitMqSettings,
  redactAmqpUrl,
  type ConsumeOptions,
  type QueueCounts,
  type RabbitMqConsumer,
  type RabbitMqDeadLetter,
  type RabbitMqSettings,
  type RabbitMqSettingsInput,
} from './rabbitmq/index.js';
