import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../errors/index.js';
import { retryForever } from '../backoff.js';
import { isAborted } from '../clock.js';
import { Wakeup } from '../buffer/wakeup.js';
import { DiskBuffer } from '../buffer/disk-buffer.js';
import { encodeRecord, readSegment, SegmentCorruptError } from '../buffer/segment.js';
import type { BufferSettings } from '../config.js';
import type { BridgeMessage, BufferStats, Sink, SinkContext, WriteResult } from '../types.js';

export interface BufferedSinkOptions {
  inner: Sink;
  buffer: BufferSettings;
  /** Records per write to the inner sink (default 500). */
  batchMaxRecords?: number;
}

/**
 * A disk buffer in front of any sink: writes resolve once the records are durable on local disk (so
 * sources that cannot be acknowledged, or a sink in an outage, lose nothing), and a drain loop replays
 * committed segments to the inner sink, oldest first, deleting a segment once the sink confirmed all of
 * it. A crash mid-segment replays that segment from its start (at-least-once). Records the inner sink
 * refuses for good are set aside in `rejected/` (same segment format) and counted, never dropped.
 */
export class BufferedSink implements Sink {
  readonly kind: string;
  private ctx!: SinkContext;
  private buffer!: DiskBuffer;
  private readonly stopCtl = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly wakeup = new Wakeup(this.stopCtl.signal);
  private rejectedDir = '';

  constructor(private readonly opts: BufferedSinkOptions) {
    this.kind = opts.inner.kind;
  }

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    const dir = path.join(this.opts.buffer.bufferPath, ctx.bridge);
    this.rejectedDir = path.join(dir, 'rejected');
    this.buffer = new DiskBuffer({
      dir,
      commitFileBytes: this.opts.buffer.commitFileBytes,
      commitDurationMs: this.opts.buffer.commitDurationMs,
      maxBufferBytes: this.opts.buffer.maxBufferBytes,
      fsync: this.opts.buffer.fsync,
      fsyncIntervalMs: this.opts.buffer.fsyncIntervalMs,
      clock: ctx.clock,
      logger: ctx.logger,
      onCommit: () => this.wakeup.kick(),
      onDiscard: (reason, count) => ctx.report.discarded(reason, count),
    });
    await this.buffer.open();
    await this.opts.inner.start(ctx);
    this.loopDone = this.loop();
  }

  write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    return this.buffer.append(batch).then(() => ({ rejected: [] }));
  }

  bufferStats(): BufferStats {
    return this.buffer.stats();
  }

  async flush(deadline: number): Promise<void> {
    await this.buffer.commit();
    this.wakeup.kick();
    while (this.buffer.segments().length > 0 && this.ctx.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.opts.inner.flush(deadline);
  }

  async close(): Promise<void> {
    this.stopCtl.abort();
    this.wakeup.kick();
    await this.loopDone.catch(() => undefined);
    await this.buffer.close();
    await this.opts.inner.close();
  }

  private async loop(): Promise<void> {
    while (!this.stopCtl.signal.aborted) {
      try {
        for (const seg of this.buffer.segments()) {
          if (this.stopCtl.signal.aborted) return;
          await this.drainSegment(seg.name, seg.path);
        }
      } catch (err) {
        if (isAborted(err) || this.stopCtl.signal.aborted) return;
        this.ctx.report.error('drain', err);
        this.ctx.logger.error({ err: errorMessage(err) }, 'draining the disk buffer failed');
      }
      await this.wakeup.wait(this.opts.buffer.uploadEveryMs);
    }
  }

  private async drainSegment(name: string, file: string): Promise<void> {
    const max = this.opts.batchMaxRecords ?? 500;
    let batch: BridgeMessage[] = [];
    try {
      for await (const rec of readSegment(file)) {
        batch.push(rec.msg);
        if (batch.length >= max) {
          await this.send(batch, name);
          batch = [];
        }
      }
      if (batch.length > 0) await this.send(batch, name);
    } catch (err) {
      if (err instanceof SegmentCorruptError) {
        await this.buffer.quarantine(name, err.message);
        this.ctx.report.discarded('quarantined-segment', 1);
        this.ctx.report.error('segment', err);
        return;
      }
      throw err;
    }
    await this.buffer.remove(name);
  }

  private async send(batch: BridgeMessage[], segment: string): Promise<void> {
    const res = await retryForever(() => this.opts.inner.write(batch), {
      clock: this.ctx.clock,
      backoff: this.ctx.newBackoff(),
      signal: this.stopCtl.signal,
      onRetry: (err) => this.ctx.report.retry('write', err),
    });
    if (res.rejected.length === 0) return;
    await fs.promises.mkdir(this.rejectedDir, { recursive: true });
    const file = path.join(this.rejectedDir, `${segment}.rejected`);
    const records = res.rejected.map((r) => {
      const m = batch[r.index] as BridgeMessage;
      return encodeRecord({
        data: m.data,
        attributes: { ...m.attributes, headers: { ...m.attributes.headers, 'x-plexus-error': r.reason } },
      });
    });
    await fs.promises.appendFile(file, Buffer.concat(records));
    this.ctx.report.discarded('rejected-by-sink', res.rejected.length);
    this.ctx.logger.error(
      { count: res.rejected.length, file, reasons: res.rejected.map((r) => r.reason) },
      'the sink refused records from the disk buffer for good: set aside',
    );
  }
}
