/**
 * A batch message: one batch of one node of one run. Versioned and validated on receipt; a message
 * that fails validation is dead-lettered with a reason, never processed.
 */
export interface BatchMessage {
  readonly v: 1;
  /** `<%06d batch idx>-<uuid>` */
  readonly id: string;
  /** Milliseconds since the epoch when the message was created. */
  readonly ts: number;
  readonly ks: string;
  readonly runId: number;
  readonly node: string;
  readonly batchIdx: number;
  readonly batchesTotal: number;
  /** Signed 64-bit tokens as decimal strings (JSON has no int64). */
  readonly firstToken: string;
  readonly lastToken: string;
  /** How many times this batch was handed out before (0 on first delivery). */
  readonly attempt: number;
}

/** What a handler decided about a message. */
export type Disposition =
  | { readonly kind: 'ack' }
  /**
   * Deliver again after a delay. `wait`: the batch only has to wait (its dependencies are not ready,
   * another worker holds it), which is no failure and does not count toward a poison-batch limit;
   * otherwise processing failed transiently.
   */
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs?: number; readonly wait?: boolean }
  /** Not processable (malformed, poison): move to the dead-letter store with the reason. */
  | { readonly kind: 'dead'; readonly reason: string };

export type BatchHandler = (msg: BatchMessage) => Promise<Disposition>;

export interface BatchQueue {
  /** Publishes durably (publisher confirms); resolves once the broker has every message. */
  publish(ks: string, msgs: readonly BatchMessage[]): Promise<void>;
  /**
   * Consumes the keyspace's queue with at most `concurrency` messages in flight. A message is
   * acknowledged only after the handler resolved with 'ack'.
   */
  consume(ks: string, handler: BatchHandler, concurrency: number): Promise<Consumer>;
  /** Removes the keyspace's queues (after a run set is deleted). */
  deleteQueues(ks: string): Promise<void>;
  close(): Promise<void>;
}

export interface Consumer {
  /** Stops taking new messages and waits for those in flight. */
  stop(): Promise<void>;
}
