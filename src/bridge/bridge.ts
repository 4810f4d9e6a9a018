import type { Registry } from 'prom-client';
import { errorMessage } from '../errors/index.js';
import { silentLogger, type Logger } from '../obs/index.js';
import { Backoff, DEFAULT_BACKOFF, retryForever, type BackoffSettings } from './backoff.js';
import { isAborted, systemClock, type Clock } from './clock.js';
import { bridgeMetrics } from './metrics.js';
import { BridgeState, type BridgeStatus } from './status.js';
import type {
  BridgeMessage,
  ConnectorContext,
  Side,
  Sink,
  Source,
  SourceContext,
  SourceMessage,
  WriteResult,
} from './types.js';

export interface DeliverySettings {
  /** Messages received and not yet acknowledged, at most (default 1000). */
  maxInFlight: number;
  /** Their payload bytes, at most (default 64 MiB). */
  maxInFlightBytes: number;
  /** A sink write carries at most this many messages (default 500)... */
  batchMaxRecords: number;
  /** ...and at most this many payload bytes (default 4 MiB). */
  batchMaxBytes: number;
  /** How long a partial batch waits for more messages (default 5 ms): the group-commit window. */
  lingerMs: number;
  /** Sink writes in flight at once (default 1: keeps source order). */
  writeConcurrency: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  maxInFlight: 1000,
  maxInFlightBytes: 64 * 1024 * 1024,
  batchMaxRecords: 500,
  batchMaxBytes: 4 * 1024 * 1024,
  lingerMs: 5,
  writeConcurrency: 1,
};

/** What to do with a message the sink refuses for good. */
export type ErrorPolicy = 'stop' | 'deadLetter';

export interface BridgeOptions {
  name: string;
  source: Source;
  sink: Sink;
  /** Required with errorPolicy 'deadLetter'. */
  deadLetter?: Sink;
  errorPolicy?: ErrorPolicy;
  delivery?: Partial<DeliverySettings>;
  backoff?: BackoffSettings;
  /** Longest graceful shutdown: stop reading, flush and commit, acknowledge (default 20 s). */
  shutdownTimeoutMs?: number;
  /** Messages waiting and none delivered for this long → condition Stalled (default 5 min). */
  stallAfterMs?: number;
  logger?: Logger;
  registry: Registry;
  clock?: Clock;
  random?: () => number;
}

/** How a bridge run ended. */
export interface BridgeOutcome {
  status: BridgeStatus;
  /** Set when the bridge stopped on a fatal error (errorPolicy 'stop'). */
  error?: string;
}

interface Waiter {
  resolve(): void;
}

/**
 * Source -> sink with at-least-once delivery: a source message is acknowledged only after the sink
 * confirmed it (or made it durable in its disk buffer). Memory stays bounded: when `maxInFlight`
 * messages or `maxInFlightBytes` are waiting, `deliver()` does not resolve and the source pauses.
 * Sink writes that fail are retried forever with exponential backoff and jitter.
 */
export class Bridge {
  readonly name: string;
  readonly state: BridgeState;
  private readonly source: Source;
  private readonly sink: Sink;
  private readonly deadLetter: Sink | undefined;
  private readonly errorPolicy: ErrorPolicy;
  private readonly delivery: DeliverySettings;
  private readonly backoffSettings: BackoffSettings;
  private readonly shutdownTimeoutMs: number;
  private readonly stallAfterMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;

  private pending: SourceMessage[] = [];
  private pendingBytes = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private activeWrites = 0;
  private waiters: Waiter[] = [];
  private idleWaiters: Array<() => void> = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private sourceEnded = false;
  private stopping: Promise<BridgeOutcome> | undefined;
  private fatal: string | undefined;
  private readonly sourceAbort = new AbortController();
  private readonly sinkAbort = new AbortController();
  private resolveDone!: (o: BridgeOutcome) => void;
  /** Resolves when the bridge has stopped (after stop(), source EOF, or a fatal error). */
  readonly done: Promise<BridgeOutcome>;

  constructor(opts: BridgeOptions) {
    this.name = opts.name;
    this.source = opts.source;
    this.sink = opts.sink;
    this.deadLetter = opts.deadLetter;
    this.errorPolicy = opts.errorPolicy ?? 'stop';
    this.delivery = { ...DEFAULT_DELIVERY, ...opts.delivery };
    this.backoffSettings = opts.backoff ?? DEFAULT_BACKOFF;
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 20_000;
    this.stallAfterMs = opts.stallAfterMs ?? 300_000;
    this.logger = (opts.logger ?? silentLogger()).child({ bridge: opts.name });
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.state = new BridgeState(
      opts.name,
      opts.source.kind,
      opts.sink.kind,
      bridgeMetrics(opts.registry),
      this.clock,
      opts.deadLetter?.kind,
    );
    if (this.errorPolicy === 'deadLetter' && !this.deadLetter) {
      throw new Error(`bridge ${opts.name}: errorPolicy 'deadLetter' needs a deadLetter sink`);
    }
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  status(): BridgeStatus {
    return this.state.snapshot();
  }

  /** Starts the sink (recovering its buffer), the dead-letter sink, then the source. */
  async start(): Promise<void> {
    this.state.setPhase('Starting');
    await this.sink.start(this.context('sink', this.sinkAbort.signal));
    if (this.deadLetter) await this.deadLetter.start(this.context('deadLetter', this.sinkAbort.signal));
    this.refreshBuffer();
    this.statsTimer = setInterval(() => {
      this.refreshBuffer();
      this.state.flushMetrics();
      this.state.checkStall(this.stallAfterMs);
    }, 1000);
    this.statsTimer.unref();
    const ctx: SourceContext = {
      ...this.context('source', this.sourceAbort.signal),
      deliver: (msg) => this.deliver(msg),
      end: () => this.onSourceEnd(),
    };
    await this.source.start(ctx);
    if (this.state.getPhase() === 'Starting') this.state.setPhase('Running');
    this.logger.info({ source: this.source.kind, sink: this.sink.kind }, 'bridge started');
  }

  /**
   * Graceful stop: stop taking messages, write and acknowledge what is in flight (within
   * shutdownTimeoutMs), flush the sink, close everything. Idempotent.
   */
  stop(reason = 'stop requested'): Promise<BridgeOutcome> {
    if (!this.stopping) this.stopping = this.shutdown(reason);
    return this.stopping;
  }

  private context(side: Side, signal: AbortSignal): ConnectorContext {
    return {
      bridge: this.name,
      logger: this.logger.child({ side }),
      clock: this.clock,
      newBackoff: () => new Backoff(this.backoffSettings, this.random),
      report: this.state.reporter(side),
      signal,
    };
  }

  private deliver(msg: SourceMessage): Promise<void> {
    const bytes = msg.data.length;
    this.state.received(1, bytes, msg.redelivered ? 1 : 0);
    this.pending.push(msg);
    this.pendingBytes += bytes;
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.state.setInFlight(this.inFlight);
    this.schedule();
    if (this.hasCapacity()) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push({ resolve }));
  }

  private hasCapacity(): boolean {
    return this.inFlight < this.delivery.maxInFlight && this.inFlightBytes < this.delivery.maxInFlightBytes;
  }

  private schedule(): void {
    if (this.pending.length === 0) return;
    const full =
      this.pending.length >= this.delivery.batchMaxRecords ||
      this.pendingBytes >= this.delivery.batchMaxBytes;
    if (full || this.draining || this.sourceEnded || !this.hasCapacity()) {
      this.dispatch();
      return;
    }
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.dispatch();
      }, this.delivery.lingerMs);
    }
  }

  private dispatch(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    while (this.activeWrites < this.delivery.writeConcurrency && this.pending.length > 0 && !this.fatal) {
      const batch: SourceMessage[] = [];
      let bytes = 0;
      while (this.pending.length > 0 && batch.length < this.delivery.batchMaxRecords) {
        const next = this.pending[0] as SourceMessage;
        if (batch.length > 0 && bytes + next.data.length > this.delivery.batchMaxBytes) break;
        this.pending.shift();
        batch.push(next);
        bytes += next.data.length;
      }
      this.pendingBytes -= bytes;
      this.activeWrites++;
      void this.writeBatch(batch, bytes).finally(() => {
        this.activeWrites--;
        if (this.pending.length > 0) this.schedule();
        this.checkIdle();
      });
    }
  }

  private async writeBatch(batch: SourceMessage[], bytes: number): Promise<void> {
    const payload: BridgeMessage[] = batch.map((m) => ({ data: m.data, attributes: m.attributes }));
    const report = this.state.reporter('sink');
    let result: WriteResult;
    try {
      result = await retryForever(() => this.sink.write(payload), {
        clock: this.clock,
        backoff: new Backoff(this.backoffSettings, this.random),
        signal: this.sinkAbort.signal,
        onRetry: (err, attempt, delay) => {
          report.retry('write', err);
          this.logger.warn(
            { err: errorMessage(err), attempt, delayMs: delay },
            'sink write failed, retrying',
          );
        },
      });
    } catch (err) {
      // Only an abort (shutdown deadline) gets here: the batch stays unacknowledged and is redelivered.
      if (!isAborted(err)) this.state.recordError('sink', 'write', err);
      this.release(batch.length, bytes);
      return;
    }
    const rejected = new Map<number, string>();
    for (const r of result.rejected) rejected.set(r.index, r.reason);
    // Refused messages are acknowledged only once the dead-letter target has them; with errorPolicy
    // 'stop' they stay unacknowledged (redelivered after a person fixed the cause).
    const deadLettered = rejected.size > 0 && (await this.handleRejected(batch, rejected));
    const okBytes = this.ackWhere(batch, (i) => !rejected.has(i));
    if (deadLettered) this.ackWhere(batch, (i) => rejected.has(i));
    this.state.delivered(batch.length - rejected.size, okBytes);
    this.release(batch.length, bytes);
  }

  /** Returns true when the refused messages went to the dead-letter sink (so they may be acknowledged). */
  private async handleRejected(batch: SourceMessage[], rejected: Map<number, string>): Promise<boolean> {
    const reasons = [...rejected.entries()].map(
      ([i, r]) => `message ${i} (${batch[i]?.attributes.position ?? 'no position'}): ${r}`,
    );
    if (this.errorPolicy !== 'deadLetter' || !this.deadLetter) {
      const msg = `sink ${this.sink.kind} refused ${rejected.size} message(s) for good and errorPolicy is 'stop': ${reasons.join('; ')}`;
      this.fail(msg);
      return false;
    }
    const dl = this.deadLetter;
    const letters: BridgeMessage[] = [...rejected.entries()].map(([i, reason]) => {
      const m = batch[i] as SourceMessage;
      return {
        data: m.data,
        attributes: {
          ...m.attributes,
          headers: { ...m.attributes.headers, 'x-plexus-error': reason, 'x-plexus-bridge': this.name },
        },
      };
    });
    const report = this.state.reporter('deadLetter');
    try {
      const res = await retryForever(() => dl.write(letters), {
        clock: this.clock,
        backoff: new Backoff(this.backoffSettings, this.random),
        signal: this.sinkAbort.signal,
        onRetry: (err) => report.retry('write', err),
      });
      if (res.rejected.length > 0) {
        this.fail(
          `the dead-letter sink ${dl.kind} refused ${res.rejected.length} message(s) too: ${reasons.join('; ')}`,
        );
        return false;
      }
    } catch (err) {
      if (!isAborted(err)) this.state.recordError('deadLetter', 'write', err);
      return false;
    }
    this.state.deadLettered(letters.length);
    this.logger.warn({ count: letters.length, reasons }, 'messages dead-lettered');
    return true;
  }

  private ackWhere(batch: SourceMessage[], ok: (i: number) => boolean): number {
    let bytes = 0;
    batch.forEach((m, i) => {
      if (!ok(i)) return;
      bytes += m.data.length;
      try {
        m.ack();
      } catch (err) {
        this.state.recordError('source', 'ack', err);
        this.logger.warn(
          { err: errorMessage(err) },
          'acknowledgement failed (the message will be redelivered)',
        );
      }
    });
    return bytes;
  }

  private release(count: number, bytes: number): void {
    this.inFlight -= count;
    this.inFlightBytes -= bytes;
    this.state.setInFlight(this.inFlight);
    while (this.waiters.length > 0 && this.hasCapacity()) this.waiters.shift()?.resolve();
  }

  private checkIdle(): void {
    if (this.inFlight > 0 && !this.fatal) return;
    if (this.activeWrites > 0) return;
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of idle) w();
    if (this.sourceEnded && !this.stopping && this.inFlight === 0) {
      void this.stop('source ended');
    }
  }

  private onSourceEnd(): void {
    this.sourceEnded = true;
    this.logger.info('source ended');
    this.schedule();
    this.checkIdle();
  }

  private fail(message: string): void {
    if (this.fatal) return;
    this.fatal = message;
    this.state.recordError('sink', 'rejected', new Error(message));
    this.state.setPhase('Failed', message);
    this.logger.error({ reason: message }, 'bridge failed');
    // Release deliver() callers so the source is not stuck; shutdown follows.
    for (const w of this.waiters.splice(0)) w.resolve();
    void this.stop(message);
  }

  private refreshBuffer(): void {
    const stats = this.sink.bufferStats?.();
    if (stats) this.state.setBuffer(stats);
  }

  private waitIdle(deadline: number): Promise<boolean> {
    if ((this.inFlight === 0 || this.fatal) && this.activeWrites === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - this.clock.now()));
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async shutdown(reason: string): Promise<BridgeOutcome> {
    const deadline = this.clock.now() + this.shutdownTimeoutMs;
    const completed = this.sourceEnded && !this.fatal;
    if (!this.fatal) this.state.setPhase('Stopping');
    this.logger.info({ reason }, 'bridge stopping');
    await this.guard('source', 'stop', () => this.source.stop());
    this.sourceAbort.abort();
    this.draining = true;
    this.dispatch();
    const drained = await this.waitIdle(deadline);
    if (!drained) {
      this.logger.warn(
        { inFlight: this.inFlight },
        'shutdown deadline reached with messages in flight: they stay unacknowledged and will be redelivered',
      );
    }
    await this.guard('sink', 'flush', () => this.sink.flush(deadline));
    this.sinkAbort.abort();
    await this.waitIdle(this.clock.now() + 1000);
    await this.guard('source', 'close', () => this.source.close());
    await this.guard('sink', 'close', () => this.sink.close());
    if (this.deadLetter)
      await this.guard('deadLetter', 'close', () => this.deadLetter?.close() ?? Promise.resolve());
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.refreshBuffer();
    for (const w of this.waiters.splice(0)) w.resolve();
    if (!this.fatal) this.state.setPhase(completed ? 'Completed' : 'Stopped');
    this.state.setConnected('source', false, 'Closed', 'bridge stopped');
    this.state.setConnected('sink', false, 'Closed', 'bridge stopped');
    const outcome: BridgeOutcome = { status: this.state.snapshot() };
    if (this.fatal) outcome.error = this.fatal;
    this.logger.info({ counters: outcome.status.counters, phase: outcome.status.phase }, 'bridge stopped');
    this.resolveDone(outcome);
    return outcome;
  }

  private async guard(side: Side, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.state.recordError(side, what, err);
      this.logger.warn({ err: errorMessage(err) }, `${side} ${what} failed`);
    }
  }
}
