import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { errorMessage, PlexusError, TransientError } from '../../errors/index.js';
import type { Logger } from '../../obs/index.js';
import type { BatchHandler, BatchMessage, BatchQueue, Consumer, Disposition } from '../types.js';
import { decodeBatchMessage, encodeBatchMessage } from './message.js';
import { redactAmqpUrl, type RabbitMqSettings } from './settings.js';

/**
 * The BatchQueue on RabbitMQ (amqplib), without plugins (works on the 3.x of Linux distributions).
 *
 * Topology per keyspace `ks` (all durable, declared on first use):
 *   queue    `<p>.<ks>`             the batches; dead-letters to the DLX with routing key `dead`
 *   exchange `<p>.<ks>.dlx`         direct; `batch` → `<p>.<ks>`, `dead` → `<p>.<ks>.dead`
 *   queues   `<p>.<ks>.wait.<ms>`   one per delay tier, x-message-ttl = ms, no consumers: an expired
 *                                   message dead-letters through the DLX back into `<p>.<ks>` (delayed retry)
 *   queue    `<p>.<ks>.dead`        messages given up: malformed, unknown version, poison; header
 *                                   `x-plexus-reason` says why
 *
 * Messages are persistent and published with confirms. A consumer takes at most `concurrency` unacked
 * messages (prefetch) and acknowledges one only after the handler resolved, i.e. after the batch's writes
 * are durable. A retry publishes a copy (attempt + 1) to the wait queue of the smallest tier not shorter
 * than the delay, then acknowledges the original: a crash in between leaves two copies, never none
 * (batches are idempotent). Transient failures count in the `x-plexus-failures` header; at
 * `maxFailures` the batch is given up (`onGiveUp`, else the dead queue). Waiting (dependencies not ready,
 * another worker holds the batch) does not count. When the connection drops, the queue reconnects with
 * exponential backoff and the consumers resume; messages that were in flight come back from the broker.
 */

export const DELAY_TIERS_MS: readonly number[] = [1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000];

export interface ConsumeOptions {
  /** Transient failures of one batch after which it is given up (default 5). */
  readonly maxFailures?: number;
  /**
   * Called when a batch is given up after maxFailures: record the failure (the batch's node fails). When it
   * resolves the message is acknowledged; when it throws, the message is retried later. Default: the
   * message goes to the dead queue.
   */
  readonly onGiveUp?: (msg: BatchMessage, reason: string) => Promise<void>;
  /** Delay after the n-th failure: min(max, base · 2^(n-1)) (default 1000 / 60000 ms). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export interface RabbitMqConsumer extends Consumer {
  /** Stops at once: unacknowledged messages go back to the queue for another worker. */
  abort(): Promise<void>;
  /** Messages being handled right now. */
  inFlight(): number;
}

export interface QueueCounts {
  /** Ready in the main queue. */
  readonly ready: number;
  /** Waiting in the delay queues. */
  readonly waiting: number;
  readonly dead: number;
  readonly consumers: number;
}

export interface DeadLetter {
  readonly body: string;
  readonly reason: string;
  readonly msg?: BatchMessage;
}

interface ConsumerState {
  readonly ks: string;
  readonly handler: BatchHandler;
  readonly concurrency: number;
  readonly options: ConsumeOptions;
  channel?: Channel;
  tag?: string;
  inFlight: number;
  stopped: boolean;
  restarting: boolean;
  drained: (() => void)[];
}

interface Waiter {
  resolve(conn: ChannelModel): void;
  reject(err: Error): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RabbitMqQueue implements BatchQueue {
  private readonly settings: RabbitMqSettings;
  private readonly logger: Logger | undefined;
  private conn: ChannelModel | undefined;
  private pub: ConfirmChannel | undefined;
  private pubOpening: Promise<ConfirmChannel> | undefined;
  private connecting = false;
  private waiters: Waiter[] = [];
  private readonly consumers = new Set<ConsumerState>();
  private readonly declared = new Set<string>();
  private closed = false;
  private reconnectCount = 0;
  private lastError = '';

  constructor(settings: RabbitMqSettings, logger?: Logger) {
    this.settings = settings;
    this.logger = logger;
  }

  // ---- names ----

  mainQueue(ks: string): string {
    return `${this.settings.prefix}.${ks}`;
  }
  deadQueue(ks: string): string {
    return `${this.settings.prefix}.${ks}.dead`;
  }
  waitQueue(ks: string, ms: number): string {
    return `${this.settings.prefix}.${ks}.wait.${ms}`;
  }
  private dlx(ks: string): string {
    return `${this.settings.prefix}.${ks}.dlx`;
  }

  /** True while connected to the broker. */
  isConnected(): boolean {
    return this.conn !== undefined;
  }

  /** Connections lost and re-established so far. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  // ---- connection ----

  /** Resolves with the connection, connecting (and reconnecting with backoff) as needed. */
  private connection(deadline: number): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new PlexusError('QUEUE_CLOSED', 'the RabbitMQ queue is closed'));
    if (this.conn) return Promise.resolve(this.conn);
    const p = new Promise<ChannelModel>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      this.waiters.push(w);
      if (Number.isFinite(deadline)) {
        const t = setTimeout(
          () => {
            const i = this.waiters.indexOf(w);
            if (i >= 0) {
              this.waiters.splice(i, 1);
              reject(
                new TransientError(
                  'QUEUE_UNAVAILABLE',
                  `RabbitMQ at ${redactAmqpUrl(this.settings.url)} is unreachable: ${this.lastError || 'timed out'}`,
                ),
              );
            }
          },
          Math.max(0, deadline - Date.now()),
        );
        t.unref();
      }
    });
    if (!this.connecting) void this.connectLoop();
    return p;
  }

  private async connectLoop(): Promise<void> {
    this.connecting = true;
    let delay = 250;
    try {
      while (!this.closed) {
        try {
          const conn = await amqp.connect(withHeartbeat(this.settings.url, this.settings.heartbeatSeconds), {
            timeout: 10_000,
            clientProperties: { connection_name: this.settings.connectionName ?? `plexus ${process.pid}` },
          });
          conn.on('error', (err: Error) => {
            this.lastError = err.message;
            this.logger?.warn({ err: err.message }, 'RabbitMQ connection error');
          });
          conn.on('close', () => this.onConnectionClosed(conn));
          if (this.closed) {
            await conn.close().catch(() => undefined);
            return;
          }
          this.conn = conn;
          this.logger?.info({ url: redactAmqpUrl(this.settings.url) }, 'connected to RabbitMQ');
          for (const w of this.waiters.splice(0)) w.resolve(conn);
          for (const c of this.consumers) if (!c.stopped && !c.channel) void this.restartConsumer(c);
          return;
        } catch (err) {
          this.lastError = errorMessage(err);
          this.logger?.warn(
            { err: this.lastError, retryInMs: delay },
            `cannot connect to RabbitMQ at ${redactAmqpUrl(this.settings.url)}`,
          );
          await sleep(delay * (0.8 + Math.random() * 0.4));
          delay = Math.min(delay * 2, 10_000);
        }
      }
      for (const w of this.waiters.splice(0))
        w.reject(new PlexusError('QUEUE_CLOSED', 'the RabbitMQ queue is closed'));
    } finally {
      this.connecting = false;
    }
  }

  private onConnectionClosed(conn: ChannelModel): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.pub = undefined;
    this.pubOpening = undefined;
    this.declared.clear();
    for (const c of this.consumers) {
      c.channel = undefined;
      c.tag = undefined;
    }
    if (this.closed) return;
    this.reconnectCount++;
    this.logger?.warn({ err: this.lastError }, 'RabbitMQ connection lost; reconnecting');
    if (!this.connecting) void this.connectLoop();
  }

  /** The confirm channel for publishing (re-opened after a channel error). */
  private async publisher(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      const conn = await this.connection(deadline);
      if (this.pub) return this.pub;
      if (!this.pubOpening) {
        this.pubOpening = (async () => {
          const ch = await conn.createConfirmChannel();
          ch.on('error', (err: Error) =>
            this.logger?.warn({ err: err.message }, 'RabbitMQ publish channel error'),
          );
          ch.on('close', () => {
            if (this.pub === ch) this.pub = undefined;
          });
          this.pub = ch;
          return ch;
        })().finally(() => {
          this.pubOpening = undefined;
        });
      }
      try {
        return await this.pubOpening;
      } catch (err) {
        if (Date.now() >= deadline) throw this.transient('open a channel', err);
        await sleep(200);
      }
    }
  }

  private transient(action: string, err: unknown): TransientError {
    return new TransientError(
      'QUEUE_UNAVAILABLE',
      `RabbitMQ at ${redactAmqpUrl(this.settings.url)}: cannot ${action}: ${errorMessage(err)}`,
      { cause: err },
    );
  }

  /** Declares the keyspace's queues and exchange (idempotent; once per connection). */
  private async declare(ks: string, ch: Channel): Promise<void> {
    if (this.declared.has(ks)) return;
    const dlx = this.dlx(ks);
    await ch.assertExchange(dlx, 'direct', { durable: true });
    await ch.assertQueue(this.mainQueue(ks), {
      durable: true,
      arguments: { 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'dead' },
    });
    await ch.bindQueue(this.mainQueue(ks), dlx, 'batch');
    await ch.assertQueue(this.deadQueue(ks), { durable: true });
    await ch.bindQueue(this.deadQueue(ks), dlx, 'dead');
    for (const ms of DELAY_TIERS_MS) {
      await ch.assertQueue(this.waitQueue(ks, ms), {
        durable: true,
        arguments: {
          'x-message-ttl': ms,
          'x-dead-letter-exchange': dlx,
          'x-dead-letter-routing-key': 'batch',
        },
      });
    }
    this.declared.add(ks);
  }

  /**
   * Sends messages to one queue through the confirm channel and waits for the broker's confirms; on a
   * lost connection it tries again (the whole set: duplicates are harmless) until the publish timeout.
   */
  private async send(
    ks: string,
    queue: (ks: string) => string,
    items: readonly { body: Buffer; options: Options.Publish }[],
  ): Promise<void> {
    const deadline = Date.now() + this.settings.publishTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const ch = await this.publisher(deadline);
        await this.declare(ks, ch);
        const q = queue(ks);
        for (const it of items) {
          if (!ch.sendToQueue(q, it.body, it.options)) await drained(ch);
        }
        await ch.waitForConfirms();
        return;
      } catch (err) {
        if ((err as { code?: unknown }).code === 406) {
          // PRECONDITION_FAILED: a queue or exchange of that name exists with other arguments
          throw new PlexusError(
            'QUEUE_MISMATCH',
            `RabbitMQ: the queues of keyspace ${ks} exist with other settings (${errorMessage(err)}); ` +
              'delete them or choose another PLEXUS_RABBITMQ_PREFIX',
            { cause: err },
          );
        }
        if (err instanceof TransientError || Date.now() >= deadline || this.closed) {
          throw err instanceof PlexusError ? err : this.transient(`publish to ${queue(ks)}`, err);
        }
        this.lastError = errorMessage(err);
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  async publish(ks: string, msgs: readonly BatchMessage[]): Promise<void> {
    if (msgs.length === 0) return;
    for (const m of msgs) {
      if (m.ks !== ks) throw new RangeError(`message ${m.id} is for keyspace ${m.ks}, not ${ks}`);
    }
    await this.send(
      ks,
      (k) => this.mainQueue(k),
      msgs.map((m) => ({ body: encodeBatchMessage(m), options: publishOptions(m, 0) })),
    );
  }

  // ---- consuming ----

  async consume(
    ks: string,
    handler: BatchHandler,
    concurrency: number,
    options: ConsumeOptions = {},
  ): Promise<RabbitMqConsumer> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`consumer concurrency must be a positive integer, got ${concurrency}`);
    }
    if (
      options.maxFailures !== undefined &&
      !(Number.isInteger(options.maxFailures) && options.maxFailures >= 1)
    ) {
      throw new RangeError(`maxFailures must be a positive integer, got ${options.maxFailures}`);
    }
    const c: ConsumerState = {
      ks,
      handler,
      concurrency,
      options,
      inFlight: 0,
      stopped: false,
      restarting: false,
      drained: [],
    };
    // registered once consuming, so that a reconnect in between does not start it a second time
    await this.startConsumer(c, Date.now() + this.settings.publishTimeoutMs);
    this.consumers.add(c);
    if (!c.channel && !this.closed) void this.restartConsumer(c);
    return {
      stop: () => this.stopConsumer(c, false),
      abort: () => this.stopConsumer(c, true),
      inFlight: () => c.inFlight,
    };
  }

  private async startConsumer(c: ConsumerState, deadline: number): Promise<void> {
    const conn = await this.connection(deadline);
    let ch: Channel;
    try {
      ch = await conn.createChannel();
    } catch (err) {
      throw this.transient('open a channel', err);
    }
    ch.on('error', (err: Error) =>
      this.logger?.warn({ err: err.message, ks: c.ks }, 'RabbitMQ consumer channel error'),
    );
    ch.on('close', () => {
      if (c.channel !== ch) return;
      c.channel = undefined;
      c.tag = undefined;
      if (!c.stopped && !this.closed && this.conn) void this.restartConsumer(c);
    });
    try {
      await this.declare(c.ks, ch);
      await ch.prefetch(c.concurrency);
      c.channel = ch;
      const { consumerTag } = await ch.consume(this.mainQueue(c.ks), (m) => this.onDelivery(c, ch, m), {
        noAck: false,
      });
      c.tag = consumerTag;
      if (c.stopped) await ch.cancel(consumerTag).catch(() => undefined);
    } catch (err) {
      c.channel = undefined;
      await ch.close().catch(() => undefined);
      throw this.transient(`consume ${this.mainQueue(c.ks)}`, err);
    }
  }

  private async restartConsumer(c: ConsumerState): Promise<void> {
    if (c.restarting) return;
    c.restarting = true;
    try {
      let delay = 250;
      while (!c.stopped && !this.closed && !c.channel) {
        try {
          await this.startConsumer(c, Infinity);
          this.logger?.info({ ks: c.ks }, 'consuming again');
        } catch (err) {
          this.logger?.warn({ err: errorMessage(err), ks: c.ks }, 'cannot resume consuming; retrying');
          await sleep(delay);
          delay = Math.min(delay * 2, 10_000);
        }
      }
    } finally {
      c.restarting = false;
    }
  }

  private async stopConsumer(c: ConsumerState, abort: boolean): Promise<void> {
    c.stopped = true;
    this.consumers.delete(c);
    const ch = c.channel;
    if (ch && c.tag) await ch.cancel(c.tag).catch(() => undefined);
    if (!abort && c.inFlight > 0) await new Promise<void>((resolve) => c.drained.push(resolve));
    c.channel = undefined;
    // closing the channel returns unacknowledged messages to the queue
    if (ch) await ch.close().catch(() => undefined);
    if (abort) for (const w of c.drained.splice(0)) w();
  }

  private onDelivery(c: ConsumerState, ch: Channel, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // cancelled by the broker (queue deleted): try to consume again
      if (c.channel === ch) {
        c.channel = undefined;
        void ch.close().catch(() => undefined);
        if (!c.stopped && !this.closed) void this.restartConsumer(c);
      }
      return;
    }
    c.inFlight++;
    void this.handleDelivery(c, ch, raw)
      .catch((err: unknown) => {
        this.logger?.error(
          { err: errorMessage(err), ks: c.ks },
          'could not settle a message; it will be redelivered',
        );
        return sleep(1000).then(() => nackQuietly(ch, raw));
      })
      .finally(() => {
        c.inFlight--;
        if (c.inFlight === 0) for (const w of c.drained.splice(0)) w();
      });
  }

  private async handleDelivery(c: ConsumerState, ch: Channel, raw: ConsumeMessage): Promise<void> {
    const decoded = decodeBatchMessage(raw.content);
    if (!decoded.ok) {
      this.logger?.warn(
        { ks: c.ks, reason: decoded.reason },
        'malformed message moved to the dead-letter queue',
      );
      await this.deadLetter(c.ks, raw.content, decoded.reason, raw.properties.headers);
      ackQuietly(ch, raw);
      return;
    }
    const msg = decoded.msg;
    if (msg.ks !== c.ks) {
      const reason = `message for keyspace ${msg.ks} in the queue of keyspace ${c.ks}`;
      this.logger?.warn({ ks: c.ks, reason }, 'misrouted message moved to the dead-letter queue');
      await this.deadLetter(c.ks, raw.content, reason, raw.properties.headers);
      ackQuietly(ch, raw);
      return;
    }
    const failures = headerInt(raw.properties.headers, 'x-plexus-failures');
    let d: Disposition;
    try {
      d = await c.handler(msg);
    } catch (err) {
      d = { kind: 'retry', reason: `handler failed: ${errorMessage(err)}` };
    }
    await this.settle(c, ch, raw, msg, failures, d);
  }

  private async settle(
    c: ConsumerState,
    ch: Channel,
    raw: ConsumeMessage,
    msg: BatchMessage,
    failures: number,
    d: Disposition,
  ): Promise<void> {
    switch (d.kind) {
      case 'ack':
        ackQuietly(ch, raw);
        return;
      case 'dead':
        this.logger?.warn(
          { ks: c.ks, node: msg.node, bi: msg.batchIdx, reason: d.reason },
          'batch dead-lettered',
        );
        await this.deadLetter(c.ks, raw.content, d.reason, raw.properties.headers);
        ackQuietly(ch, raw);
        return;
      case 'retry': {
        const failed = d.wait !== true;
        const n = failures + (failed ? 1 : 0);
        const max = c.options.maxFailures ?? 5;
        const base = c.options.backoffBaseMs ?? 1000;
        const cap = c.options.backoffMaxMs ?? 60_000;
        if (failed && n >= max) {
          const reason = `gave up after ${n} failed attempt(s); last error: ${d.reason}`;
          if (c.options.onGiveUp) {
            try {
              await c.options.onGiveUp(msg, reason);
              ackQuietly(ch, raw);
              return;
            } catch (err) {
              this.logger?.warn(
                { ks: c.ks, node: msg.node, bi: msg.batchIdx, err: errorMessage(err) },
                'could not record a given-up batch; retrying it later',
              );
              await this.delay(msg, cap, n - 1);
              ackQuietly(ch, raw);
              return;
            }
          }
          this.logger?.warn({ ks: c.ks, node: msg.node, bi: msg.batchIdx, reason }, 'batch dead-lettered');
          await this.deadLetter(c.ks, raw.content, reason, raw.properties.headers);
          ackQuietly(ch, raw);
          return;
        }
        const delayMs = d.delayMs ?? (failed ? Math.min(cap, base * 2 ** Math.max(0, n - 1)) : base);
        if (failed) {
          this.logger?.info(
            { ks: c.ks, node: msg.node, bi: msg.batchIdx, failures: n, delayMs, reason: d.reason },
            'batch failed; retrying later',
          );
        }
        await this.delay(msg, delayMs, n);
        ackQuietly(ch, raw);
        return;
      }
    }
  }

  /** Publishes a copy of the message (attempt + 1) to the wait queue of the delay's tier. */
  private async delay(msg: BatchMessage, delayMs: number, failures: number): Promise<void> {
    const tier = DELAY_TIERS_MS.find((t) => t >= delayMs) ?? DELAY_TIERS_MS[DELAY_TIERS_MS.length - 1]!;
    const again: BatchMessage = { ...msg, attempt: msg.attempt + 1 };
    await this.send(msg.ks, (k) => this.waitQueue(k, tier), [
      { body: encodeBatchMessage(again), options: publishOptions(again, failures) },
    ]);
  }

  private async deadLetter(
    ks: string,
    body: Buffer,
    reason: string,
    headers: Record<string, unknown> | undefined,
  ): Promise<void> {
    const h: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (k !== 'x-death') h[k] = v;
    h['x-plexus-reason'] = reason.slice(0, 4000);
    h['x-plexus-dead-at'] = new Date().toISOString();
    await this.send(ks, (k) => this.deadQueue(k), [
      { body, options: { persistent: true, contentType: 'application/json', headers: h } },
    ]);
  }

  // ---- administration and inspection ----

  /** Message counts of the keyspace's queues (zeros when they do not exist). */
  async counts(ks: string): Promise<QueueCounts> {
    const conn = await this.connection(Date.now() + this.settings.publishTimeoutMs);
    const check = async (q: string): Promise<{ messageCount: number; consumerCount: number }> => {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      try {
        return await ch.checkQueue(q);
      } catch {
        return { messageCount: 0, consumerCount: 0 };
      } finally {
        await ch.close().catch(() => undefined);
      }
    };
    const main = await check(this.mainQueue(ks));
    let waiting = 0;
    for (const ms of DELAY_TIERS_MS) waiting += (await check(this.waitQueue(ks, ms))).messageCount;
    const dead = await check(this.deadQueue(ks));
    return { ready: main.messageCount, waiting, dead: dead.messageCount, consumers: main.consumerCount };
  }

  /** Up to `max` dead-lettered messages with their reasons (they stay in the dead queue). */
  async deadLetters(ks: string, max = 100): Promise<DeadLetter[]> {
    const conn = await this.connection(Date.now() + this.settings.publishTimeoutMs);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    const out: DeadLetter[] = [];
    try {
      for (let i = 0; i < max; i++) {
        const m = await ch.get(this.deadQueue(ks), { noAck: false });
        if (m === false) break;
        const decoded = decodeBatchMessage(m.content);
        out.push({
          body: m.content.toString('utf8'),
          reason: String(headerText(m.properties.headers, 'x-plexus-reason') ?? ''),
          msg: decoded.ok ? decoded.msg : undefined,
        });
      }
    } catch {
      // no dead queue yet
    } finally {
      // closing the channel returns the fetched messages to the dead queue
      await ch.close().catch(() => undefined);
    }
    return out;
  }

  /** Publishes a raw body to the keyspace's queue (tests and tools: e.g. a malformed message). */
  async publishRaw(ks: string, body: Buffer): Promise<void> {
    await this.send(ks, (k) => this.mainQueue(k), [
      { body, options: { persistent: true, contentType: 'application/json' } },
    ]);
  }

  async deleteQueues(ks: string): Promise<void> {
    const conn = await this.connection(Date.now() + this.settings.publishTimeoutMs);
    for (const c of [...this.consumers]) if (c.ks === ks) await this.stopConsumer(c, true);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      for (const q of [
        this.mainQueue(ks),
        this.deadQueue(ks),
        ...DELAY_TIERS_MS.map((ms) => this.waitQueue(ks, ms)),
      ]) {
        await ch.deleteQueue(q);
      }
      await ch.deleteExchange(this.dlx(ks));
    } catch (err) {
      throw this.transient(`delete the queues of keyspace ${ks}`, err);
    } finally {
      await ch.close().catch(() => undefined);
      this.declared.delete(ks);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.consumers]) await this.stopConsumer(c, true);
    for (const w of this.waiters.splice(0))
      w.reject(new PlexusError('QUEUE_CLOSED', 'the RabbitMQ queue is closed'));
    const conn = this.conn;
    this.conn = undefined;
    this.pub = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }
}

/** Adds `heartbeat=<s>` to an AMQP URL unless it sets one. */
function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    return url;
  }
}

function publishOptions(m: BatchMessage, failures: number): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: m.id,
    timestamp: Math.floor(m.ts / 1000),
    type: 'plexus.batch.v1',
    headers: { 'x-plexus-failures': failures },
  };
}

function headerInt(headers: Record<string, unknown> | undefined, name: string): number {
  const v = headers?.[name];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0;
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function headerText(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined || v === null) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function ackQuietly(ch: Channel, m: ConsumeMessage): void {
  try {
    ch.ack(m);
  } catch {
    // the channel closed: the broker redelivers the message (handled idempotently)
  }
}

function nackQuietly(ch: Channel, m: ConsumeMessage): void {
  try {
    ch.nack(m, false, true);
  } catch {
    // the channel closed: the broker redelivers the message
  }
}

function drained(ch: ConfirmChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      ch.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      ch.off('drain', onDrain);
      reject(new Error('channel closed while waiting to publish'));
    };
    ch.once('drain', onDrain);
    ch.once('close', onClose);
  });
}
