import type { Logger } from '../obs/index.js';
import type { Backoff } from './backoff.js';
import type { Clock } from './clock.js';

/** What travels with a payload. Every field is optional; connectors fill what their system has. */
export interface MessageAttributes {
  /** AMQP headers, Kafka headers, WebSocket handshake-free metadata... (string values). */
  headers?: Record<string, string>;
  /** Kafka key, Kinesis partition key, AMQP routing key. */
  key?: string;
  /** Milliseconds since the epoch when the source system recorded the message. */
  timestamp?: number;
  /** Where the message came from, e.g. `shardId-000000000001:4959...`, `orders/2@118`. */
  position?: string;
}

export interface BridgeMessage {
  readonly data: Buffer;
  readonly attributes: MessageAttributes;
}

/** A message handed over by a source, with the way to acknowledge it once it is safe. */
export interface SourceMessage extends BridgeMessage {
  /**
   * Called by the bridge exactly once, after the sink (or the durable disk buffer) has the message.
   * Sources that cannot acknowledge (WebSocket, stdin) pass a no-op.
   */
  ack(): void;
  /** The source system says this message was handed out before (counted as a duplicate). */
  readonly redelivered?: boolean;
}

export type Side = 'source' | 'sink' | 'deadLetter';

/** Condition reasons a connector can report (a stable API: the controller copies them to the CR). */
export type ConnectionReason =
  'Connected' | 'Connecting' | 'AuthFailed' | 'Unreachable' | 'Throttled' | 'Closed';

/** What a connector tells the bridge about itself: connection state, retries, errors. */
export interface ConnectorReporter {
  connected(reason?: string): void;
  disconnected(reason: ConnectionReason, message: string): void;
  /** A connection was re-established after being lost (or deliberately rotated). */
  reconnected(): void;
  /** An operation failed and will be retried. */
  retry(kind: string, err: unknown): void;
  /** An error worth counting (kind is a short stable word: connect, publish, upload, checkpoint, ...). */
  error(kind: string, err: unknown): void;
  /** Records or segments set aside (torn tail, quarantined segment, refused records): loud, never silent. */
  discarded(reason: string, count: number): void;
}

export interface ConnectorContext {
  readonly bridge: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** A fresh backoff (exponential with jitter, from the bridge settings). */
  newBackoff(): Backoff;
  readonly report: ConnectorReporter;
  /** Aborted when the bridge stops: connectors end their retry loops. */
  readonly signal: AbortSignal;
}

export interface SourceContext extends ConnectorContext {
  /**
   * Hands a message to the bridge. Resolves when the bridge can take another one: a source awaits it
   * (or pauses its transport until it resolves) so memory stays bounded.
   */
  deliver(msg: SourceMessage): Promise<void>;
  /** The source has no more data (stdin EOF): the bridge completes once everything is delivered. */
  end(): void;
}

export interface Source {
  readonly kind: string;
  /**
   * Starts consuming in the background. Returns quickly: connection failures are retried forever
   * and reported through `ctx.report`, never thrown (only invalid settings throw).
   */
  start(ctx: SourceContext): Promise<void>;
  /** Stops taking new messages. Messages already delivered may still be acknowledged after this. */
  stop(): Promise<void>;
  /** Flushes pending acknowledgements/checkpoints and closes connections. */
  close(): Promise<void>;
}

/** A message the sink refuses for good (too large, invalid): dead-lettered or fatal per errorPolicy. */
export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

export interface WriteResult {
  readonly rejected: readonly Rejection[];
}

export interface BufferStats {
  bytes: number;
  files: number;
  maxBytes: number;
}

export type SinkContext = ConnectorContext;

export interface Sink {
  readonly kind: string;
  /** Prepares the sink (for buffered sinks: recovers the disk buffer). Connection failures are retried inside. */
  start(ctx: SinkContext): Promise<void>;
  /**
   * Writes a batch and resolves once every message is durable: confirmed by the target system, or
   * fsync'd into the disk buffer. Throws on a failure that affects the batch as a whole (the bridge
   * retries it with backoff); permanent per-message refusals come back in `rejected`.
   */
  write(batch: readonly BridgeMessage[]): Promise<WriteResult>;
  /** Shutdown: commits/uploads what it can before `deadline` (ms since epoch). */
  flush(deadline: number): Promise<void>;
  close(): Promise<void>;
  /** Disk buffer figures, for buffered sinks. */
  bufferStats?(): BufferStats;
}
