import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { TransientError } from '../../errors/index.js';
import { amqpReason, redactUrl, withHeartbeat } from '../sources/rabbitmq.js';
import type { BridgeMessage, Rejection, Sink, SinkContext, WriteResult } from '../types.js';

export interface RabbitMQSinkOptions {
  url: string;
  exchange: string;
  routingKey?: string;
  exchangeType?: string;
  declare?: boolean;
  persistent?: boolean;
  heartbeatSeconds?: number;
  /** Messages above this are refused for good (default 128 MiB, RabbitMQ's own limit). */
  maxMessageBytes?: number;
}

/**
 * RabbitMQ sink: publishes on a confirm channel, persistent and `mandatory`, and resolves a write once
 * the broker confirmed every message. A message the broker returns as unroutable is a rejection (dead
 * letter or stop, per errorPolicy), never a silent drop. A lost connection fails the write (the bridge
 * retries it) and the next write reconnects.
 */
export class RabbitMQSink implements Sink {
  readonly kind = 'rabbitmq';
  private ctx!: SinkContext;
  private conn: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private connecting: Promise<ConfirmChannel> | undefined;
  private everConnected = false;
  private batchSeq = 0;
  private returned = new Map<string, string>();
  private closed = false;

  constructor(private readonly opts: RabbitMQSinkOptions) {}

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    try {
      await this.ensure();
    } catch (err) {
      // Not fatal: the first write retries with backoff.
      ctx.logger.warn({ err: (err as Error).message }, 'RabbitMQ sink not reachable yet');
    }
  }

  private ensure(): Promise<ConfirmChannel> {
    if (this.channel) return Promise.resolve(this.channel);
    if (!this.connecting) {
      this.connecting = this.connect().finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async connect(): Promise<ConfirmChannel> {
    const what = `RabbitMQ ${redactUrl(this.opts.url)} exchange "${this.opts.exchange}"`;
    try {
      const conn = await amqp.connect(withHeartbeat(this.opts.url, this.opts.heartbeatSeconds ?? 60), {
        clientProperties: { connection_name: `plexus-bridge-${this.ctx.bridge}-sink` },
      });
      conn.on('error', (err: Error) =>
        this.ctx.logger.warn({ err: err.message }, 'RabbitMQ sink connection error'),
      );
      conn.on('close', () => this.lost(conn, `${what}: connection closed`));
      const ch = await conn.createConfirmChannel();
      ch.on('error', (err: Error) =>
        this.ctx.logger.warn({ err: err.message }, 'RabbitMQ sink channel error'),
      );
      ch.on('close', () => this.lost(conn, `${what}: channel closed`));
      ch.on('return', (m: Message) => {
        const id = m.properties.messageId as string | undefined;
        if (id)
          this.returned.set(
            id,
            `unroutable: no queue bound to exchange "${this.opts.exchange}" for routing key "${m.fields.routingKey}"`,
          );
      });
      if (this.opts.exchange !== '' && (this.opts.declare ?? true)) {
        await ch.assertExchange(this.opts.exchange, this.opts.exchangeType ?? 'topic', { durable: true });
      } else if (this.opts.exchange !== '') {
        await ch.checkExchange(this.opts.exchange);
      }
      this.conn = conn;
      this.channel = ch;
      this.ctx.report.connected(`publishing to ${what}`);
      if (this.everConnected) this.ctx.report.reconnected();
      this.everConnected = true;
      return ch;
    } catch (err) {
      this.ctx.report.disconnected(amqpReason(err), `${what}: ${(err as Error).message}`);
      throw err;
    }
  }

  private lost(conn: ChannelModel, message: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.channel = undefined;
    void conn.close().catch(() => undefined);
    if (!this.closed) this.ctx.report.disconnected('Unreachable', message);
  }

  async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    const ch = await this.ensure();
    const rejected: Rejection[] = [];
    const max = this.opts.maxMessageBytes ?? 128 * 1024 * 1024;
    const batchId = `${process.pid}-${++this.batchSeq}`;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i] as BridgeMessage;
      if (m.data.length > max) {
        rejected.push({
          index: i,
          reason: `message of ${m.data.length} bytes exceeds the ${max}-byte limit`,
        });
        continue;
      }
      const ok = ch.publish(this.opts.exchange, this.opts.routingKey ?? m.attributes.key ?? '', m.data, {
        persistent: this.opts.persistent ?? true,
        mandatory: true,
        messageId: `${batchId}-${i}`,
        ...(m.attributes.headers ? { headers: m.attributes.headers } : {}),
        ...(m.attributes.timestamp !== undefined
          ? { timestamp: Math.floor(m.attributes.timestamp / 1000) }
          : {}),
      });
      if (!ok) await drainOrClose(ch);
    }
    try {
      await ch.waitForConfirms();
    } catch (err) {
      throw new TransientError(
        'BRIDGE_SINK',
        `RabbitMQ did not confirm the batch: ${(err as Error).message}`,
        { cause: err },
      );
    }
    for (let i = 0; i < batch.length; i++) {
      const reason = this.returned.get(`${batchId}-${i}`);
      if (reason) {
        rejected.push({ index: i, reason });
        this.returned.delete(`${batchId}-${i}`);
      }
    }
    return { rejected };
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = undefined;
    this.channel = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }
}

/** Waits for the channel's write buffer to drain; fails (so the batch is retried) if it closes first. */
function drainOrClose(ch: ConfirmChannel): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      ch.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      ch.off('drain', onDrain);
      reject(new TransientError('BRIDGE_SINK', 'RabbitMQ channel closed while publishing'));
    };
    ch.once('drain', onDrain);
    ch.once('close', onClose);
  });
}
