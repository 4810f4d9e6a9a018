export {
  DELAY_TIERS_MS,
  RabbitMqQueue,
  type ConsumeOptions,
  type DeadLetter as RabbitMqDeadLetter,
  type QueueCounts,
  type RabbitMqConsumer,
} from './rabbitmq-queue.js';
export { BATCH_MESSAGE_SCHEMA_V1, decodeBatchMessage, encodeBatchMessage } from './message.js';
export {
  RABBITMQ_ENV,
  rabbitMqSettings,
  redactAmqpUrl,
  type RabbitMqSettings,
  type RabbitMqSettingsInput,
} from './settings.js';
