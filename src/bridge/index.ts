export type {
  BridgeMessage,
  BufferStats,
  ConnectionReason,
  ConnectorContext,
  ConnectorReporter,
  MessageAttributes,
  Rejection,
  Side,
  Sink,
  SinkContext,
  Source,
  SourceContext,
  SourceMessage,
  WriteResult,
} from './types.js';
export {
  Bridge,
  DEFAULT_DELIVERY,
  type BridgeOptions,
  type BridgeOutcome,
  type DeliverySettings,
  type ErrorPolicy,
} from './bridge.js';
export {
  Backoff,
  DEFAULT_BACKOFF,
  retryForever,
  type BackoffSettings,
  type RetryOptions,
} from './backoff.js';
export { AbortedError, isAborted, systemClock, type Clock } from './clock.js';
export {
  createEncoder,
  Decoder,
  DEFAULT_FRAMING,
  FramingError,
  type Encoder,
  type FramingKind,
  type FramingSettings,
} from './framing.js';
export { bridgeMetrics, type BridgeMetricSet } from './metrics.js';
export {
  BridgeState,
  type BridgeCounters,
  type BridgePhase,
  type BridgeStatus,
  type Condition,
  type SideStatus,
} from './status.js';
export {
  DiskBuffer,
  type DiskBufferOptions,
  type FsyncPolicy,
  type SegmentInfo,
} from './buffer/disk-buffer.js';
export { encodeRecord, readSegment, scanSegment, SegmentCorruptError } from './buffer/segment.js';
export { AckTracker, FileCheckpointStore } from './checkpoint.js';
export {
  DEFAULT_BUFFER,
  expandEnv,
  loadBridgeConfig,
  parseBridgeConfig,
  parseDuration,
  parseSize,
  resolveConfig,
  type BufferSettings,
  type ResolvedBridgeConfig,
} from './config.js';
export * from './config-schema.js';
export { createBridge, createSink, createSource, type CreateBridgeOptions } from './factory.js';
export { S3Sink, objectKey, DEFAULT_KEY_TEMPLATE, type S3SinkOptions } from './sinks/s3.js';
export { RabbitMQSink, type RabbitMQSinkOptions } from './sinks/rabbitmq.js';
export {
  KinesisSink,
  KINESIS_LIMITS,
  chunkEntries,
  partitionKeyFn,
  type KinesisSinkOptions,
} from './sinks/kinesis.js';
export { KafkaSink, type KafkaSinkOptions } from './sinks/kafka.js';
export { WebSocketSink, type WebSocketSinkOptions } from './sinks/websocket.js';
export { StdioSink, type StdioSinkOptions } from './sinks/stdio.js';
export { BufferedSink, type BufferedSinkOptions } from './sinks/buffered.js';
export { RabbitMQSource, type RabbitMQSourceOptions } from './sources/rabbitmq.js';
export { KinesisSource, type KinesisSourceOptions } from './sources/kinesis.js';
export { KafkaSource, type KafkaSourceOptions } from './sources/kafka.js';
export { WebSocketSource, type WebSocketSourceOptions } from './sources/websocket.js';
export { StdioSource, type StdioSourceOptions } from './sources/stdio.js';
export { supervise } from './supervise.js';
