import type { Consumer, EachBatchPayload } from 'kafkajs';
import { errorMessage } from '../../errors/index.js';
import { AckTracker } from '../checkpoint.js';
import { kafkaClient, type KafkaConnection } from '../kafka.js';
import { supervise } from '../supervise.js';
import type { MessageAttributes, Source, SourceContext } from '../types.js';

export interface KafkaSourceOptions extends KafkaConnection {
  topic: string;
  groupId?: string;
  fromBeginning?: boolean;
  commitEveryMs?: number;
  backoff: import('../backoff.js').BackoffSettings;
}

interface PartitionState {
  tracker: AckTracker<bigint>;
  committed?: bigint;
  highest?: bigint;
}

/**
 * Kafka source: a consumer group member with auto-commit off. Offsets are committed (every
 * `commitEvery` and at shutdown) only up to the last message of the delivered prefix of each partition;
 * after a rebalance or restart the group resumes there, so messages delivered but not yet committed come
 * again (counted as duplicates when this process saw them before).
 */
export class KafkaSource implements Source {
  readonly kind = 'kafka';
  private ctx!: SourceContext;
  private consumer: Consumer | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private partitions = new Map<number, PartitionState>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private endSession: (() => void) | undefined;

  constructor(private readonly opts: KafkaSourceOptions) {}

  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.loop = supervise(
      ctx,
      {
        what: `Kafka topic ${this.opts.topic} (${this.opts.brokers.join(',')})`,
        stopped: () => this.stopped,
      },
      (control) => this.session(control.up),
    );
    this.commitTimer = setInterval(() => void this.commit(), this.opts.commitEveryMs ?? 1000);
    this.commitTimer.unref();
    return Promise.resolve();
  }

  private state(p: number): PartitionState {
    let s = this.partitions.get(p);
    if (!s) {
      s = { tracker: new AckTracker<bigint>() };
      this.partitions.set(p, s);
    }
    return s;
  }

  private async session(up: (m?: string) => void): Promise<void> {
    const kafka = kafkaClient(this.opts, this.ctx.bridge, this.ctx.logger, this.opts.backoff);
    const consumer = kafka.consumer({
      groupId: this.opts.groupId ?? `plexus-bridge-${this.ctx.bridge}`,
      retry: { retries: 8 },
    });
    this.consumer = consumer;
    const ended = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer.on(consumer.events.STOP, () => resolve());
      this.endSession = resolve;
    });
    ended.catch(() => undefined);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: this.opts.fromBeginning ?? true });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        up(`consumer group ${e.payload.groupId} joined, member ${e.payload.memberId}`);
      });
      consumer.on(consumer.events.REBALANCING, () => {
        // Partitions may move: forget in-flight trackers; their messages come again from the committed offset.
        void this.commit();
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.onBatch(payload),
      });
      await ended;
    } finally {
      this.consumer = undefined;
      await this.commit();
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const st = this.state(batch.partition);
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.stopped) return;
      const offset = BigInt(m.offset);
      const seenBefore = st.highest !== undefined && offset <= st.highest;
      if (st.highest === undefined || offset > st.highest) st.highest = offset;
      const attributes: MessageAttributes = {
        position: `${batch.topic}/${batch.partition}@${m.offset}`,
        timestamp: Number(m.timestamp),
      };
      if (m.key) attributes.key = m.key.toString('utf8');
      if (m.headers) {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers)) {
          if (v === undefined) continue;
          h[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString();
        }
        if (Object.keys(h).length > 0) attributes.headers = h;
      }
      const ack = st.tracker.add(offset);
      await this.ctx.deliver({ data: m.value ?? Buffer.alloc(0), attributes, redelivered: seenBefore, ack });
      resolveOffset(m.offset);
      await heartbeat();
    }
  }

  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer;
      if (!consumer) return;
      const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
      for (const [partition, st] of this.partitions) {
        const last = st.tracker.committable();
        if (last === undefined || (st.committed !== undefined && last <= st.committed)) continue;
        offsets.push({ topic: this.opts.topic, partition, offset: (last + 1n).toString() });
      }
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets);
        for (const o of offsets) {
          const st = this.partitions.get(o.partition);
          if (st) st.committed = BigInt(o.offset) - 1n;
        }
      } catch (err) {
        // After a rebalance a partition may belong to another member: its messages are redelivered there.
        this.ctx.report.error('commit', err);
        this.ctx.logger.warn({ err: errorMessage(err) }, 'offset commit failed');
      }
    });
    return this.committing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.consumer;
    if (c) c.pause([{ topic: this.opts.topic }]);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.commit();
    const c = this.consumer;
    if (c) await c.stop().catch(() => undefined);
    this.endSession?.();
    await this.loop;
  }
}
