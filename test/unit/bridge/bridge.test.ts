import {
  Bridge,
  type BridgeMessage,
  type Sink,
  type SinkContext,
  type Source,
  type SourceContext,
  type WriteResult,
} from '../../../src/bridge/index.js';
import { InstantClock, registry, until } from './helpers.js';

/** A source that hands out N numbered messages as fast as the bridge takes them and records acks. */
class ListSource implements Source {
  readonly kind = 'list';
  acked: number[] = [];
  delivered = 0;
  maxOutstanding = 0;
  ctx!: SourceContext;
  private stopped = false;
  constructor(
    private readonly count: number,
    private readonly end = true,
    private readonly redeliveredEvery = 0,
  ) {}
  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    ctx.report.connected('list');
    void (async () => {
      for (let i = 0; i < this.count && !this.stopped; i++) {
        // Yield to timers now and then, as a real source waiting on I/O would.
        if (i % 100 === 99) await new Promise((r) => setImmediate(r));
        this.delivered++;
        this.maxOutstanding = Math.max(this.maxOutstanding, this.delivered - this.acked.length);
        await ctx.deliver({
          data: Buffer.from(`m${i}`),
          attributes: { position: String(i) },
          redelivered: this.redeliveredEvery > 0 && i % this.redeliveredEvery === 0,
          ack: () => this.acked.push(i),
        });
      }
      if (this.end) ctx.end();
    })();
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class MemorySink implements Sink {
  readonly kind = 'memory';
  written: string[] = [];
  batches: number[] = [];
  failuresLeft = 0;
  rejectText?: string;
  gate?: Promise<void>;
  ctx!: SinkContext;
  start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    ctx.report.connected('memory');
    return Promise.resolve();
  }
  async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    if (this.gate) await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('sink down');
    }
    const rejected: Array<{ index: number; reason: string }> = [];
    batch.forEach((m, index) => {
      const text = m.data.toString();
      if (text === this.rejectText) rejected.push({ index, reason: 'too large' });
      else this.written.push(text);
    });
    this.batches.push(batch.length);
    return { rejected };
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function bridge(
  source: Source,
  sink: Sink,
  extra: Partial<ConstructorParameters<typeof Bridge>[0]> = {},
): Bridge {
  return new Bridge({
    name: 'unit',
    source,
    sink,
    registry: registry(),
    clock: new InstantClock(),
    backoff: { initialMs: 10, maxMs: 100, multiplier: 2, jitter: 'none' },
    delivery: { lingerMs: 1 },
    ...extra,
  });
}

describe('Bridge', () => {
  it('delivers everything in order and acks each message after the sink has it', async () => {
    const src = new ListSource(2000);
    const sink = new MemorySink();
    const b = bridge(src, sink, { delivery: { batchMaxRecords: 100, lingerMs: 1 } });
    await b.start();
    const outcome = await b.done;
    expect(outcome.status.phase).toBe('Completed');
    expect(sink.written).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
    expect(src.acked).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(Math.max(...sink.batches)).toBeLessThanOrEqual(100);
    expect(outcome.status.counters).toMatchObject({
      received: 2000,
      delivered: 2000,
      deliveredBytes: sink.written.join('').length,
    });
  });

  it('bounds messages in flight (backpressure)', async () => {
    const src = new ListSource(500);
    const sink = new MemorySink();
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const b = bridge(src, sink, { delivery: { maxInFlight: 50, batchMaxRecords: 10, lingerMs: 1 } });
    await b.start();
    await until('50 in flight', () => src.delivered >= 50);
    await new Promise((r) => setTimeout(r, 30)); // and no more follow while the sink holds them
    expect(src.delivered).toBe(50);
    expect(b.status().inFlight).toBe(50);
    open();
    sink.gate = undefined;
    await b.done;
    expect(src.maxOutstanding).toBeLessThanOrEqual(50);
    expect(sink.written).toHaveLength(500);
  });

  it('bounds bytes in flight too', async () => {
    const src = new ListSource(100);
    const sink = new MemorySink();
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const b = bridge(src, sink, { delivery: { maxInFlightBytes: 20, lingerMs: 1 } });
    await b.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(src.delivered).toBeLessThanOrEqual(10);
    open();
    await b.done;
    expect(sink.written).toHaveLength(100);
  });

  it('retries a failing sink with backoff and never acks before success', async () => {
    const clock = new InstantClock();
    const src = new ListSource(10);
    const sink = new MemorySink();
    sink.failuresLeft = 4;
    const b = bridge(src, sink, { clock, delivery: { batchMaxRecords: 10, lingerMs: 1 } });
    await b.start();
    const out = await b.done;
    expect(sink.written).toHaveLength(10);
    expect(src.acked).toHaveLength(10);
    expect(clock.sleeps).toEqual([10, 20, 40, 80]);
    expect(out.status.counters.retries).toBe(4);
    expect(out.status.counters.errors['sink/write']).toBe(4);
    expect(out.status.lastError).toMatchObject({ side: 'sink', kind: 'write', message: 'sink down' });
  });

  it('counts redelivered messages as duplicates', async () => {
    const src = new ListSource(30, true, 10);
    const b = bridge(src, new MemorySink());
    await b.start();
    expect((await b.done).status.counters.duplicates).toBe(3);
  });

  it("stops with a clear error on a refused message when errorPolicy is 'stop', without acking it", async () => {
    const src = new ListSource(5);
    const sink = new MemorySink();
    sink.rejectText = 'm2';
    const b = bridge(src, sink, { delivery: { batchMaxRecords: 5, lingerMs: 1 } });
    await b.start();
    const out = await b.done;
    expect(out.error).toMatch(
      /sink memory refused 1 message\(s\) for good and errorPolicy is 'stop': message 2 \(2\): too large/,
    );
    expect(out.status.phase).toBe('Failed');
    expect(src.acked).not.toContain(2);
    expect(src.acked).toEqual(expect.arrayContaining([0, 1, 3, 4]));
    expect(out.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Failed',
    });
  });

  it('dead-letters a refused message with the reason, then acks it', async () => {
    const src = new ListSource(5);
    const sink = new MemorySink();
    sink.rejectText = 'm3';
    const dl = new (class extends MemorySink {
      headers: Array<Record<string, string> | undefined> = [];
      override async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
        batch.forEach((m) => this.headers.push(m.attributes.headers));
        return super.write(batch);
      }
    })();
    const b = bridge(src, sink, { deadLetter: dl, errorPolicy: 'deadLetter' });
    await b.start();
    const out = await b.done;
    expect(out.error).toBeUndefined();
    expect(dl.written).toEqual(['m3']);
    expect(dl.headers[0]).toMatchObject({ 'x-plexus-error': 'too large', 'x-plexus-bridge': 'unit' });
    expect(src.acked.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(out.status.counters.deadLettered).toBe(1);
    expect(out.status.conditions.find((c) => c.type === 'DeadLettering')?.status).toBe('True');
  });

  it('graceful stop writes and acks what is in flight, then reports Stopped', async () => {
    const src = new ListSource(1_000_000, false);
    const sink = new MemorySink();
    const b = bridge(src, sink, { delivery: { maxInFlight: 100, batchMaxRecords: 10, lingerMs: 1 } });
    await b.start();
    await new Promise((r) => setTimeout(r, 20));
    const out = await b.stop('test');
    expect(out.status.phase).toBe('Stopped');
    expect(src.acked.length).toBe(sink.written.length);
    expect(out.status.inFlight).toBe(0);
    expect(out.status.counters.received).toBe(out.status.counters.delivered);
  });

  it('shutdown deadline leaves unwritten messages unacknowledged', async () => {
    const src = new ListSource(20, false);
    const sink = new MemorySink();
    sink.gate = new Promise(() => undefined);
    const b = bridge(src, sink, { shutdownTimeoutMs: 50, clock: undefined });
    await b.start();
    await new Promise((r) => setTimeout(r, 20));
    const out = await b.stop();
    expect(src.acked).toEqual([]);
    expect(out.status.counters.delivered).toBe(0);
  });

  it('reports Ready only when source and sink are connected', async () => {
    const src = new ListSource(0, false);
    const sink = new MemorySink();
    const b = bridge(src, sink);
    await b.start();
    expect(b.state.isReady()).toBe(true);
    sink.ctx.report.disconnected('Unreachable', 'bucket gone');
    const st = b.status();
    expect(st.phase).toBe('Degraded');
    expect(st.conditions.find((c) => c.type === 'SinkConnected')).toMatchObject({
      status: 'False',
      reason: 'Unreachable',
      message: 'bucket gone',
    });
    expect(st.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      message: 'sink: bucket gone',
    });
    sink.ctx.report.connected('back');
    sink.ctx.report.reconnected();
    expect(b.status().counters.reconnects).toBe(1);
    expect(b.state.isReady()).toBe(true);
    await b.stop();
  });

  it('mirrors the counters into plexus_bridge_* series', async () => {
    const reg = registry();
    const src = new ListSource(120, true, 40);
    const b = bridge(src, new MemorySink(), { registry: reg });
    await b.start();
    await b.done;
    const text = await reg.metrics();
    expect(text).toContain('plexus_bridge_messages_received_total{bridge="unit"} 120');
    expect(text).toContain('plexus_bridge_messages_delivered_total{bridge="unit"} 120');
    expect(text).toContain('plexus_bridge_duplicates_redelivered_total{bridge="unit"} 3');
    expect(text).toContain('plexus_bridge_in_flight_messages{bridge="unit"} 0');
    expect(text).toMatch(/plexus_bridge_last_delivery_timestamp_seconds\{bridge="unit"\} \d+/);
  });

  it('reports Stalled while messages wait without any delivery, and clears it on progress', async () => {
    const src = new ListSource(5, false);
    const sink = new MemorySink();
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const b = bridge(src, sink, { stallAfterMs: 1000, clock: undefined });
    await b.start();
    await new Promise((r) => setTimeout(r, 2300));
    const stalled = b.status().conditions.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'NoProgress' });
    sink.gate = undefined;
    open();
    await until(
      'Stalled cleared',
      () => b.status().conditions.find((c) => c.type === 'Stalled')?.status === 'False',
    );
    await b.stop();
  });
});
