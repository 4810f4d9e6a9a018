import type { Producer } from 'kafkajs';
import { errorMessage } from '../../errors/index.js';
import type { BackoffSettings } from '../backoff.js';
import { kafkaClient, type KafkaConnection } from '../kafka.js';
import type { BridgeMessage, Rejection, Sink, SinkContext, WriteResult } from '../types.js';

export interface KafkaSinkOptions extends KafkaConnection {
  topic: string;
  acks?: -1 | 1;
  idempotent?: boolean;
  /** Messages above this are refused for good (default 1 MB, the broker's default message.max.bytes). */
  maxMessageBytes?: number;
  backoff: BackoffSettings;
}

/** Kafka sink: an idempotent producer with acks=all; a write resolves when the brokers acknowledged it. */
export class KafkaSink implements Sink {
  readonly kind = 'kafka';
  private ctx!: SinkContext;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private everConnected = false;

  constructor(private readonly opts: KafkaSinkOptions) {}

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    await this.ensure().catch((err: unknown) =>
      ctx.logger.warn({ err: errorMessage(err) }, 'Kafka sink not reachable yet'),
    );
  }

  private ensure(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (!this.connecting) {
      this.connecting = (async () => {
        const kafka = kafkaClient(this.opts, this.ctx.bridge, this.ctx.logger, this.opts.backoff);
        const idempotent = this.opts.idempotent ?? true;
        const producer = kafka.producer({
          idempotent,
          maxInFlightRequests: idempotent ? 1 : 5,
          allowAutoTopicCreation: true,
        });
        producer.on(producer.events.DISCONNECT, () => {
          if (this.producer === producer) this.producer = undefined;
          this.ctx.report.disconnected('Closed', `Kafka producer for ${this.opts.topic} disconnected`);
        });
        try {
          await producer.connect();
        } catch (err) {
          this.ctx.report.disconnected(
            'Unreachable',
            `Kafka ${this.opts.brokers.join(',')}: ${errorMessage(err)}`,
          );
          await producer.disconnect().catch(() => undefined);
          throw err;
        }
        this.producer = producer;
        this.ctx.report.connected(`producing to Kafka topic ${this.opts.topic}`);
        if (this.everConnected) this.ctx.report.reconnected();
        this.everConnected = true;
        return producer;
      })().finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    const producer = await this.ensure();
    const max = this.opts.maxMessageBytes ?? 1_000_000;
    const rejected: Rejection[] = [];
    const messages = [];
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i] as BridgeMessage;
      if (m.data.length > max) {
        rejected.push({
          index: i,
          reason: `message of ${m.data.length} bytes exceeds the ${max}-byte limit`,
        });
        continue;
      }
      messages.push({
        value: m.data,
        ...(m.attributes.key !== undefined ? { key: m.attributes.key } : {}),
        ...(m.attributes.headers ? { headers: m.attributes.headers } : {}),
        ...(m.attributes.timestamp !== undefined ? { timestamp: String(m.attributes.timestamp) } : {}),
      });
    }
    if (messages.length > 0) {
      try {
        await producer.send({ topic: this.opts.topic, acks: this.opts.acks ?? -1, messages });
      } catch (err) {
        this.ctx.report.disconnected('Unreachable', `Kafka topic ${this.opts.topic}: ${errorMessage(err)}`);
        throw err;
      }
    }
    return { rejected };
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.disconnect().catch(() => undefined);
  }
}
