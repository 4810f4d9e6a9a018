import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { errorMessage } from '../../errors/index.js';
import { AckTracker } from '../checkpoint.js';
import { supervise } from '../supervise.js';
import type { ConnectionReason, MessageAttributes, Source, SourceContext } from '../types.js';

export interface RabbitMQSourceOptions {
  url: string;
  queue: string;
  exchange?: string;
  exchangeType?: string;
  routingKey?: string;
  consumerTag?: string;
  prefetch?: number;
  declare?: boolean;
  heartbeatSeconds?: number;
}

interface ChannelAcks {
  channel: Channel;
  tracker: AckTracker<ConsumeMessage>;
  /** Highest delivery tag acknowledged on the wire. */
  sentTag: number;
  scheduled: boolean;
}

export function amqpReason(err: unknown): ConnectionReason {
  const text = errorMessage(err);
  if (/ACCESS_REFUSED|403|auth/i.test(text)) return 'AuthFailed';
  return 'Unreachable';
}

/** Adds `heartbeat=<s>` to an AMQP URL unless it already sets one. */
export function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    return url;
  }
}

/** Hides the password of an AMQP URL in messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

export function headersToStrings(h: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!h) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : JSON.stringify(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * RabbitMQ source: declares (or checks) the queue, optionally binds it to an exchange, consumes with
 * manual acknowledgements and a prefetch window. A message is acked after the bridge delivered it; one
 * delivered on a channel that has since closed cannot be acked and comes back (RabbitMQ redelivers it
 * with the redelivered flag, counted as a duplicate). Channel or connection loss reconnects with backoff.
 */
export class RabbitMQSource implements Source {
  readonly kind = 'rabbitmq';
  private ctx!: SourceContext;
  private conn: ChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private endSession: (() => void) | undefined;
  private acks: ChannelAcks | undefined;

  constructor(private readonly opts: RabbitMQSourceOptions) {}

  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.loop = supervise(
      ctx,
      {
        what: `RabbitMQ ${redactUrl(this.opts.url)} queue ${this.opts.queue}`,
        reason: amqpReason,
        stopped: () => this.stopped,
      },
      (control) => this.session(control.up),
    );
    return Promise.resolve();
  }

  private async session(up: (m?: string) => void): Promise<void> {
    const conn = await amqp.connect(withHeartbeat(this.opts.url, this.opts.heartbeatSeconds ?? 60), {
      clientProperties: { connection_name: `plexus-bridge-${this.ctx.bridge}-source` },
    });
    this.conn = conn;
    try {
      const ended = new Promise<void>((resolve, reject) => {
        conn.on('error', (err: Error) => reject(err));
        conn.on('close', (err?: Error) => (err ? reject(err) : resolve()));
        this.endSession = resolve;
      });
      ended.catch(() => undefined);
      const ch = await conn.createChannel();
      this.channel = ch;
      ch.on('error', (err: Error) => this.ctx.logger.warn({ err: err.message }, 'channel error'));
      ch.on('close', () => {
        // A closed channel (e.g. queue deleted) ends the session: reconnect and re-declare.
        if (!this.stopped) void conn.close().catch(() => undefined);
      });
      const q = this.opts.queue;
      if (this.opts.declare ?? true) {
        await ch.assertQueue(q, { durable: true });
        if (this.opts.exchange) {
          await ch.assertExchange(this.opts.exchange, this.opts.exchangeType ?? 'topic', { durable: true });
          await ch.bindQueue(q, this.opts.exchange, this.opts.routingKey ?? '#');
        }
      } else {
        await ch.checkQueue(q);
      }
      await ch.prefetch(this.opts.prefetch ?? 100);
      if (this.stopped) return;
      const reply = await ch.consume(q, (m) => this.onMessage(ch, m), {
        noAck: false,
        ...(this.opts.consumerTag ? { consumerTag: this.opts.consumerTag } : {}),
      });
      this.consumerTag = reply.consumerTag;
      up(`consuming queue ${q} (prefetch ${this.opts.prefetch ?? 100})`);
      await ended;
    } finally {
      this.channel = undefined;
      this.conn = undefined;
      this.consumerTag = undefined;
      await conn.close().catch(() => undefined);
    }
  }

  private onMessage(ch: Channel, m: ConsumeMessage | null): void {
    if (m === null) {
      // The broker cancelled the consumer (queue deleted or failover): reconnect and re-declare.
      this.ctx.logger.warn('the broker cancelled the consumer; reconnecting');
      this.ctx.report.error(
        'consumer-cancelled',
        new Error(`consumer on queue ${this.opts.queue} cancelled by the broker`),
      );
      void ch.close().catch(() => undefined);
      return;
    }
    const attributes: MessageAttributes = {
      key: m.fields.routingKey,
      position: `${this.opts.queue}#${m.fields.deliveryTag}`,
    };
    const headers = headersToStrings(m.properties.headers as Record<string, unknown> | undefined);
    if (headers) attributes.headers = headers;
    const ts: unknown = m.properties.timestamp;
    if (typeof ts === 'number') attributes.timestamp = ts < 1e11 ? ts * 1000 : ts;
    const acks = this.acksFor(ch);
    const done = acks.tracker.add(m);
    void this.ctx.deliver({
      data: m.content,
      attributes,
      redelivered: m.fields.redelivered,
      ack: () => {
        done();
        this.scheduleAck(ch, acks);
      },
    });
  }

  private acksFor(ch: Channel): ChannelAcks {
    if (this.acks?.channel !== ch)
      this.acks = { channel: ch, tracker: new AckTracker<ConsumeMessage>(), sentTag: 0, scheduled: false };
    return this.acks;
  }

  /**
   * Acknowledgements are coalesced: once per tick, one `basic.ack multiple=true` covers the longest run of
   * delivered messages (delivery tags grow per channel, so "up to this tag" means exactly that run).
   * Only the channel that delivered a message can ack it; after a reconnect RabbitMQ redelivers it.
   */
  private scheduleAck(ch: Channel, acks: ChannelAcks): void {
    if (acks.scheduled) return;
    acks.scheduled = true;
    setImmediate(() => {
      acks.scheduled = false;
      const last = acks.tracker.committable();
      if (!last || last.fields.deliveryTag <= acks.sentTag || this.channel !== ch) return;
      acks.sentTag = last.fields.deliveryTag;
      try {
        ch.ack(last, true);
      } catch (err) {
        this.ctx.report.error('ack', err);
      }
    });
  }

  /** Sends the pending coalesced ack at once (before closing the channel). */
  private flushAcks(): void {
    const acks = this.acks;
    if (!acks || this.channel !== acks.channel) return;
    const last = acks.tracker.committable();
    if (!last || last.fields.deliveryTag <= acks.sentTag) return;
    acks.sentTag = last.fields.deliveryTag;
    try {
      acks.channel.ack(last, true);
    } catch (err) {
      this.ctx.report.error('ack', err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ch = this.channel;
    if (ch && this.consumerTag) await ch.cancel(this.consumerTag).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.flushAcks();
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await ch.close().catch(() => undefined);
    if (this.conn) await this.conn.close().catch(() => undefined);
    this.endSession?.();
    await this.loop;
  }
}
