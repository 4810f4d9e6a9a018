import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors/index.js';
import type { Clock } from './clock.js';
import type { BridgeMetricSet } from './metrics.js';
import type { BufferStats, ConnectionReason, ConnectorReporter, Side } from './types.js';

/** metav1.Condition shape (without observedGeneration, which the controller adds). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export type BridgePhase =
  'Starting' | 'Running' | 'Degraded' | 'Stopping' | 'Stopped' | 'Completed' | 'Failed';

export interface SideStatus {
  type: string;
  connected: boolean;
  reason: string;
  message: string;
}

export interface BridgeCounters {
  received: number;
  receivedBytes: number;
  delivered: number;
  deliveredBytes: number;
  duplicates: number;
  deadLettered: number;
  discarded: number;
  retries: number;
  reconnects: number;
  errors: Record<string, number>;
}

/** The snapshot the controller gathers from a bridge pod (and `plexus bridge` logs on exit). */
export interface BridgeStatus {
  bridge: string;
  /**
   * Random id (12 hex digits) of this bridge's life: the counters count from zero for each instance, so a
   * reader comparing snapshots sees a restart (crash, roll, eviction) as a new instance.
   */
  instance: string;
  /** When this instance started counting (ISO time; for `plexus bridge`, when the process started). */
  startedAt: string;
  phase: BridgePhase;
  source: SideStatus & { lastMessageTime?: string };
  sink: SideStatus & { lastWriteTime?: string };
  counters: BridgeCounters;
  inFlight: number;
  buffer?: BufferStats;
  conditions: Condition[];
  lastError?: { time: string; side: Side; kind: string; message: string };
  lastDeliveryTime?: string;
}

/** Above this fraction of maxBufferBytes the BufferPressure condition turns True. */
const BUFFER_PRESSURE = 0.8;

/**
 * Counters, connection states and conditions of one bridge, mirrored into prom-client series.
 * Conditions change `lastTransitionTime` only when their status flips.
 */
export class BridgeState {
  /** See BridgeStatus.instance and startedAt. */
  readonly instance = randomBytes(6).toString('hex');
  readonly startedAt: string;
  private phase: BridgePhase = 'Starting';
  private readonly sides: Record<Side, SideStatus>;
  private readonly counters: BridgeCounters = {
    received: 0,
    receivedBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    duplicates: 0,
    deadLettered: 0,
    discarded: 0,
    retries: 0,
    reconnects: 0,
    errors: {},
  };
  private inFlight = 0;
  private buffer: BufferStats | undefined;
  private lastError: BridgeStatus['lastError'];
  private lastDelivery: number | undefined;
  private lastMessage: number | undefined;
  private readonly conditions = new Map<string, Condition>();
  private failure: string | undefined;
  private readonly flushed = { received: 0, receivedBytes: 0, duplicates: 0 };
  private progressAt: number;

  constructor(
    readonly bridge: string,
    sourceType: string,
    sinkType: string,
    private readonly metrics: BridgeMetricSet,
    private readonly clock: Clock,
    deadLetterType?: string,
  ) {
    const initial = (type: string): SideStatus => ({
      type,
      connected: false,
      reason: 'Connecting',
      message: 'not connected yet',
    });
    this.sides = {
      source: initial(sourceType),
      sink: initial(sinkType),
      deadLetter: initial(deadLetterType ?? ''),
    };
    for (const side of ['source', 'sink'] as const) this.metrics.connected.set({ bridge, side }, 0);
    this.metrics.inFlight.set({ bridge }, 0);
    this.progressAt = clock.now();
    this.startedAt = new Date(this.progressAt).toISOString();
    this.refreshConditions();
  }

  reporter(side: Side): ConnectorReporter {
    return {
      connected: (reason) => this.setConnected(side, true, 'Connected', reason ?? 'connected'),
      disconnected: (reason: ConnectionReason, message: string) =>
        this.setConnected(side, false, reason, message),
      reconnected: () => {
        this.counters.reconnects++;
        this.metrics.reconnects.inc({ bridge: this.bridge, side });
      },
      retry: (kind, err) => {
        this.counters.retries++;
        this.metrics.retries.inc({ bridge: this.bridge, side });
        this.recordError(side, kind, err);
      },
      error: (kind, err) => this.recordError(side, kind, err),
      discarded: (reason, count) => this.discarded(reason, count),
    };
  }

  setConnected(side: Side, connected: boolean, reason: string, message: string): void {
    const s = this.sides[side];
    s.connected = connected;
    s.reason = reason;
    s.message = message;
    if (side !== 'deadLetter') this.metrics.connected.set({ bridge: this.bridge, side }, connected ? 1 : 0);
    this.refreshConditions();
  }

  recordError(side: Side, kind: string, err: unknown): void {
    const key = `${side}/${kind}`;
    this.counters.errors[key] = (this.counters.errors[key] ?? 0) + 1;
    this.metrics.errors.inc({ bridge: this.bridge, side, kind });
    this.lastError = { time: this.iso(), side, kind, message: errorMessage(err) };
  }

  /** Per message (hot path): plain counters only; prom-client series catch up in flushMetrics(). */
  received(count: number, bytes: number, duplicates: number): void {
    this.counters.received += count;
    this.counters.receivedBytes += bytes;
    this.counters.duplicates += duplicates;
    this.lastMessage = this.clock.now();
  }

  /** Brings the prom-client series up to the plain counters (per batch, and every second). */
  flushMetrics(): void {
    const b = { bridge: this.bridge };
    const f = this.flushed;
    if (this.counters.received > f.received)
      this.metrics.messagesReceived.inc(b, this.counters.received - f.received);
    if (this.counters.receivedBytes > f.receivedBytes) {
      this.metrics.bytesReceived.inc(b, this.counters.receivedBytes - f.receivedBytes);
    }
    if (this.counters.duplicates > f.duplicates)
      this.metrics.duplicates.inc(b, this.counters.duplicates - f.duplicates);
    f.received = this.counters.received;
    f.receivedBytes = this.counters.receivedBytes;
    f.duplicates = this.counters.duplicates;
    this.metrics.inFlight.set(b, this.inFlight);
  }

  delivered(count: number, bytes: number): void {
    this.flushMetrics();
    this.progressAt = this.clock.now();
    if (this.conditions.get('Stalled')?.status === 'True') this.checkStall(Number.MAX_SAFE_INTEGER);
    this.counters.delivered += count;
    this.counters.deliveredBytes += bytes;
    this.metrics.messagesDelivered.inc({ bridge: this.bridge }, count);
    this.metrics.bytesDelivered.inc({ bridge: this.bridge }, bytes);
    this.lastDelivery = this.clock.now();
    this.metrics.lastDelivery.set({ bridge: this.bridge }, this.lastDelivery / 1000);
  }

  deadLettered(count: number): void {
    this.counters.deadLettered += count;
    this.metrics.deadLettered.inc({ bridge: this.bridge }, count);
    this.refreshConditions();
  }

  discarded(reason: string, count: number): void {
    this.counters.discarded += count;
    this.metrics.discarded.inc({ bridge: this.bridge, reason }, count);
    this.refreshConditions();
  }

  setInFlight(n: number): void {
    this.inFlight = n;
  }

  setBuffer(stats: BufferStats): void {
    this.buffer = stats;
    this.metrics.bufferBytes.set({ bridge: this.bridge }, stats.bytes);
    this.metrics.bufferFiles.set({ bridge: this.bridge }, stats.files);
    this.refreshConditions();
  }

  /**
   * Stall watchdog (called every second): messages are waiting but nothing was delivered for
   * `stallAfterMs` → condition Stalled True until the next delivery.
   */
  checkStall(stallAfterMs: number): void {
    const now = this.clock.now();
    if (this.inFlight === 0) this.progressAt = now;
    const stalled = this.inFlight > 0 && now - this.progressAt >= stallAfterMs;
    const current = this.conditions.get('Stalled')?.status === 'True';
    if (stalled === current && (stalled || this.conditions.has('Stalled'))) return;
    this.setCondition(
      'Stalled',
      stalled,
      stalled ? 'NoProgress' : 'Progressing',
      stalled
        ? `${this.inFlight} message(s) waiting and none delivered for ${Math.round((now - this.progressAt) / 1000)} s`
        : 'messages are being delivered',
    );
  }

  setPhase(phase: BridgePhase, failure?: string): void {
    this.phase = phase;
    if (failure !== undefined) this.failure = failure;
    this.refreshConditions();
  }

  getPhase(): BridgePhase {
    return this.phase;
  }

  isReady(): boolean {
    return this.conditions.get('Ready')?.status === 'True';
  }

  snapshot(): BridgeStatus {
    this.flushMetrics();
    const phase = this.phase === 'Running' && !this.isReady() ? 'Degraded' : this.phase;
    const out: BridgeStatus = {
      bridge: this.bridge,
      instance: this.instance,
      startedAt: this.startedAt,
      phase,
      source: { ...this.sides.source },
      sink: { ...this.sides.sink },
      counters: { ...this.counters, errors: { ...this.counters.errors } },
      inFlight: this.inFlight,
      conditions: [...this.conditions.values()].map((c) => ({ ...c })),
    };
    if (this.lastMessage !== undefined) out.source.lastMessageTime = new Date(this.lastMessage).toISOString();
    if (this.lastDelivery !== undefined) {
      out.lastDeliveryTime = new Date(this.lastDelivery).toISOString();
      out.sink.lastWriteTime = out.lastDeliveryTime;
    }
    if (this.buffer) out.buffer = { ...this.buffer };
    if (this.lastError) out.lastError = { ...this.lastError };
    return out;
  }

  private refreshConditions(): void {
    const src = this.sides.source;
    const sink = this.sides.sink;
    this.setCondition('SourceConnected', src.connected, src.reason, src.message);
    this.setCondition('SinkConnected', sink.connected, sink.reason, sink.message);
    let ready: [boolean, string, string];
    if (this.phase === 'Failed') ready = [false, 'Failed', this.failure ?? 'the bridge stopped on an error'];
    else if (this.phase === 'Stopped' || this.phase === 'Stopping')
      ready = [false, 'Stopped', 'the bridge is stopping'];
    else if (this.phase === 'Completed')
      ready = [false, 'Completed', 'the source ended and everything was delivered'];
    else if (this.phase === 'Starting') ready = [false, 'NotReady', 'starting'];
    else if (!src.connected) ready = [false, 'NotReady', `source: ${src.message}`];
    else if (!sink.connected) ready = [false, 'NotReady', `sink: ${sink.message}`];
    else ready = [true, 'Running', 'source and sink connected'];
    this.setCondition('Ready', ...ready);
    if (this.buffer && this.buffer.maxBytes > 0) {
      const frac = this.buffer.bytes / this.buffer.maxBytes;
      const high = frac >= BUFFER_PRESSURE;
      this.setCondition(
        'BufferPressure',
        high,
        high ? 'BufferFilling' : 'BufferOk',
        `disk buffer at ${(frac * 100).toFixed(1)}% of ${this.buffer.maxBytes} bytes`,
      );
    }
    if (this.counters.deadLettered > 0) {
      this.setCondition(
        'DeadLettering',
        true,
        'DeadLettering',
        `${this.counters.deadLettered} message(s) dead-lettered`,
      );
    }
    if (this.counters.discarded > 0) {
      this.setCondition(
        'DataLoss',
        true,
        'RecordsDiscarded',
        `${this.counters.discarded} record(s)/segment(s) set aside, see plexus_bridge_discarded_total and the logs`,
      );
    }
  }

  private setCondition(type: string, status: boolean, reason: string, message: string): void {
    const s = status ? 'True' : 'False';
    const prev = this.conditions.get(type);
    const lastTransitionTime = prev && prev.status === s ? prev.lastTransitionTime : this.iso();
    this.conditions.set(type, {
      type,
      status: s,
      reason: sanitizeReason(reason),
      message,
      lastTransitionTime,
    });
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** Condition reasons must match ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ */
function sanitizeReason(reason: string): string {
  const cleaned = reason.replace(/[^A-Za-z0-9_,:]/g, '');
  const trimmed = cleaned.replace(/^[^A-Za-z]+/, '').replace(/[,:]+$/, '');
  return trimmed.length > 0 ? trimmed : 'Unknown';
}
