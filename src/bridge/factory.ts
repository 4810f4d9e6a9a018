import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../obs/index.js';
import { Bridge } from './bridge.js';
import type { Clock } from './clock.js';
import { parseDuration, parseSize, type BufferSettings, type ResolvedBridgeConfig } from './config.js';
import type { SinkConfig, SourceConfig } from './config-schema.js';
import { DEFAULT_FRAMING, type FramingKind, type FramingSettings } from './framing.js';
import { bridgeMetrics } from './metrics.js';
import { BufferedSink } from './sinks/buffered.js';
import { KafkaSink } from './sinks/kafka.js';
import { KinesisSink } from './sinks/kinesis.js';
import { RabbitMQSink } from './sinks/rabbitmq.js';
import { S3Sink } from './sinks/s3.js';
import { StdioSink } from './sinks/stdio.js';
import { WebSocketSink } from './sinks/websocket.js';
import { KafkaSource } from './sources/kafka.js';
import { KinesisSource } from './sources/kinesis.js';
import { RabbitMQSource } from './sources/rabbitmq.js';
import { StdioSource } from './sources/stdio.js';
import { WebSocketSource } from './sources/websocket.js';
import type { Sink, Source } from './types.js';

export interface CreateBridgeOptions {
  registry: Registry;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Streams for the stdio connectors (default process.stdin / process.stdout). */
  stdin?: Readable;
  stdout?: Writable;
}

function framingOf(kind: FramingKind | undefined, delimiter: string | undefined): FramingSettings {
  return { ...DEFAULT_FRAMING, ...(kind ? { kind } : {}), ...(delimiter !== undefined ? { delimiter } : {}) };
}

const ms = (v: string | undefined, field: string): number | undefined =>
  v === undefined ? undefined : parseDuration(v, field);

export function createSource(cfg: ResolvedBridgeConfig, opts: CreateBridgeOptions): Source {
  const s: SourceConfig = cfg.source;
  switch (s.type) {
    case 'rabbitmq': {
      const r = s.rabbitmq!;
      return new RabbitMQSource({
        url: r.url,
        queue: r.queue,
        ...(r.exchange !== undefined ? { exchange: r.exchange } : {}),
        ...(r.exchangeType !== undefined ? { exchangeType: r.exchangeType } : {}),
        ...(r.routingKey !== undefined ? { routingKey: r.routingKey } : {}),
        ...(r.consumerTag !== undefined ? { consumerTag: r.consumerTag } : {}),
        ...(r.prefetch !== undefined ? { prefetch: r.prefetch } : {}),
        ...(r.declare !== undefined ? { declare: r.declare } : {}),
        ...(r.heartbeat !== undefined
          ? { heartbeatSeconds: Math.round(parseDuration(r.heartbeat, 'source.rabbitmq.heartbeat') / 1000) }
          : {}),
      });
    }
    case 'kinesis': {
      const k = s.kinesis!;
      const bufferPath = cfg.buffer?.bufferPath ?? '/tmp/plexus/buffer';
      return new KinesisSource({
        ...k,
        iteratorType: k.iteratorType as 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | undefined,
        checkpointDir: path.join(bufferPath, cfg.name),
        checkpointEveryMs: ms(k.checkpointEvery, 'source.kinesis.checkpointEvery'),
        pollEveryMs: ms(k.pollEvery, 'source.kinesis.pollEvery'),
        shardRefreshEveryMs: ms(k.shardRefreshEvery, 'source.kinesis.shardRefreshEvery'),
      });
    }
    case 'websocket': {
      const w = s.websocket!;
      return new WebSocketSource({
        url: w.url,
        ...(w.headers ? { headers: w.headers } : {}),
        ...(w.binary !== undefined ? { binary: w.binary } : {}),
        reconnectEveryMs: ms(w.reconnectEvery, 'source.websocket.reconnectEvery'),
        rotationOverlapMs: ms(w.rotationOverlap, 'source.websocket.rotationOverlap'),
        pingEveryMs: ms(w.pingEvery, 'source.websocket.pingEvery'),
        pongTimeoutMs: ms(w.pongTimeout, 'source.websocket.pongTimeout'),
      });
    }
    case 'stdio': {
      const st = s.stdio!;
      return new StdioSource({
        framing: framingOf(st.framing as FramingKind | undefined, st.delimiter),
        ...(st.exitOnEof !== undefined ? { exitOnEof: st.exitOnEof } : {}),
        ...(opts.stdin ? { input: opts.stdin } : {}),
      });
    }
    case 'kafka': {
      const k = s.kafka!;
      return new KafkaSource({
        ...k,
        sasl: k.sasl as KafkaSourceSasl,
        commitEveryMs: ms(k.commitEvery, 'source.kafka.commitEvery'),
        backoff: cfg.backoff,
      });
    }
  }
}

type KafkaSourceSasl = ConstructorParameters<typeof KafkaSource>[0]['sasl'];

/** Builds the sink; `role` is used in error messages (sink or errorPolicy.deadLetter). */
export function createSink(
  s: SinkConfig,
  cfg: ResolvedBridgeConfig,
  opts: CreateBridgeOptions,
  role: 'sink' | 'deadLetter' = 'sink',
): Sink {
  const metrics = bridgeMetrics(opts.registry);
  let sink: Sink;
  switch (s.type) {
    case 's3': {
      const c = s.s3!;
      return new S3Sink({
        ...c,
        framing: framingOf(c.framing as FramingKind | undefined, c.delimiter),
        ...(c.partSize !== undefined
          ? {
              partSizeBytes:
                typeof c.partSize === 'number' ? c.partSize : parseSize(c.partSize, 'sink.s3.partSize'),
            }
          : {}),
        buffer: cfg.buffer as BufferSettings,
        metrics,
      });
    }
    case 'rabbitmq': {
      const r = s.rabbitmq!;
      sink = new RabbitMQSink({
        ...r,
        ...(r.heartbeat !== undefined
          ? { heartbeatSeconds: Math.round(parseDuration(r.heartbeat, `${role}.rabbitmq.heartbeat`) / 1000) }
          : {}),
      });
      break;
    }
    case 'kinesis':
      sink = new KinesisSink({ ...s.kinesis! });
      break;
    case 'kafka': {
      const k = s.kafka!;
      sink = new KafkaSink({
        ...k,
        sasl: k.sasl as KafkaSourceSasl,
        acks: k.acks as -1 | 1 | undefined,
        backoff: cfg.backoff,
      });
      break;
    }
    case 'websocket':
      sink = new WebSocketSink({ ...s.websocket! });
      break;
    case 'stdio': {
      const st = s.stdio!;
      sink = new StdioSink({
        framing: framingOf(st.framing as FramingKind | undefined, st.delimiter),
        ...(opts.stdout ? { output: opts.stdout } : {}),
      });
      break;
    }
  }
  if (role === 'sink' && cfg.buffer) {
    // A disk buffer in front of a streaming sink: short commit/drain periods unless configured.
    const b = cfg.raw.buffer ?? {};
    const buffer: BufferSettings = {
      ...cfg.buffer,
      commitDurationMs: b.commitDuration === undefined ? 1000 : cfg.buffer.commitDurationMs,
      uploadEveryMs: b.uploadEvery === undefined ? 1000 : cfg.buffer.uploadEveryMs,
    };
    return new BufferedSink({ inner: sink, buffer, batchMaxRecords: cfg.delivery.batchMaxRecords });
  }
  return sink;
}

/** A ready-to-start bridge from a resolved config. */
export function createBridge(cfg: ResolvedBridgeConfig, opts: CreateBridgeOptions): Bridge {
  const source = createSource(cfg, opts);
  const sink = createSink(cfg.sink, cfg, opts);
  const deadLetter = cfg.deadLetter ? createSink(cfg.deadLetter, cfg, opts, 'deadLetter') : undefined;
  return new Bridge({
    name: cfg.name,
    source,
    sink,
    ...(deadLetter ? { deadLetter } : {}),
    errorPolicy: cfg.errorPolicy,
    delivery: cfg.delivery,
    backoff: cfg.backoff,
    shutdownTimeoutMs: cfg.shutdownTimeoutMs,
    stallAfterMs: cfg.stallTimeoutMs,
    registry: opts.registry,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
}
