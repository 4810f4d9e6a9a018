import { randomBytes } from 'node:crypto';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { errorMessage, UserInputError } from '../../errors/index.js';
import { awsClientConfig, awsReason } from '../aws.js';
import type { BridgeMessage, Rejection, Sink, SinkContext, WriteResult } from '../types.js';

export interface KinesisSinkOptions {
  stream: string;
  region?: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** "random" (default), "key", or "field:<name>". */
  partitionKey?: string;
  client?: KinesisClient;
}

/** PutRecords limits of the service. */
export const KINESIS_LIMITS = {
  records: 500,
  batchBytes: 5 * 1024 * 1024,
  recordBytes: 1024 * 1024,
  keyChars: 256,
};

export type PartitionKeyFn = (m: BridgeMessage) => string;

export function partitionKeyFn(spec: string | undefined): PartitionKeyFn {
  const random = (): string => randomBytes(16).toString('hex');
  if (!spec || spec === 'random') return random;
  if (spec === 'key') return (m) => m.attributes.key || random();
  if (spec.startsWith('field:')) {
    const field = spec.slice('field:'.length);
    if (!field)
      throw new UserInputError('BRIDGE_CONFIG', 'sink.kinesis.partitionKey: "field:" needs a field name');
    return (m) => {
      try {
        const doc = JSON.parse(m.data.toString('utf8')) as Record<string, unknown>;
        const v = doc?.[field];
        if (v === undefined || v === null || v === '') return random();
        return String(typeof v === 'object' ? JSON.stringify(v) : v).slice(0, KINESIS_LIMITS.keyChars);
      } catch {
        return random();
      }
    };
  }
  throw new UserInputError(
    'BRIDGE_CONFIG',
    `sink.kinesis.partitionKey: "${spec}" is not one of random, key, field:<name>`,
  );
}

/** Splits entries into PutRecords calls of at most 500 records and 5 MiB (data + partition keys). */
export function chunkEntries<T extends { bytes: number }>(entries: T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const e of entries) {
    if (
      cur.length > 0 &&
      (cur.length >= KINESIS_LIMITS.records || size + e.bytes > KINESIS_LIMITS.batchBytes)
    ) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += e.bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Kinesis sink: PutRecords in batches within the service limits. A partial failure resends only the
 * failed entries, with backoff (throughput exceptions included), until every record is stored; a record
 * above 1 MiB is refused for good (dead letter or stop).
 */
export class KinesisSink implements Sink {
  readonly kind = 'kinesis';
  private ctx!: SinkContext;
  private client!: KinesisClient;
  private readonly keyOf: PartitionKeyFn;
  private connected = false;
  private closing = false;

  constructor(private readonly opts: KinesisSinkOptions) {
    this.keyOf = partitionKeyFn(opts.partitionKey);
  }

  start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.client = this.opts.client ?? new KinesisClient(awsClientConfig(this.opts));
    return Promise.resolve();
  }

  async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    const rejected: Rejection[] = [];
    const entries: Array<{ index: number; entry: PutRecordsRequestEntry; bytes: number }> = [];
    batch.forEach((m, index) => {
      const key = this.keyOf(m);
      const bytes = m.data.length + Buffer.byteLength(key, 'utf8');
      if (bytes > KINESIS_LIMITS.recordBytes) {
        rejected.push({
          index,
          reason: `record of ${bytes} bytes (data + partition key) exceeds Kinesis' 1 MiB limit`,
        });
        return;
      }
      entries.push({ index, entry: { Data: m.data, PartitionKey: key }, bytes });
    });
    for (const chunk of chunkEntries(entries)) await this.put(chunk.map((c) => c.entry));
    return { rejected };
  }

  private async put(entries: PutRecordsRequestEntry[]): Promise<void> {
    let pending = entries;
    const backoff = this.ctx.newBackoff();
    while (pending.length > 0) {
      let res;
      try {
        res = await this.client.send(
          new PutRecordsCommand({ StreamName: this.opts.stream, Records: pending }),
        );
      } catch (err) {
        if (this.connected || !this.closing) {
          this.connected = false;
          this.ctx.report.disconnected(
            awsReason(err),
            `Kinesis stream ${this.opts.stream}: ${errorMessage(err)}`,
          );
        }
        throw err;
      }
      if (!this.connected) {
        this.connected = true;
        this.ctx.report.connected(`writing Kinesis stream ${this.opts.stream}`);
      }
      const failed: PutRecordsRequestEntry[] = [];
      (res.Records ?? []).forEach((r, i) => {
        if (r.ErrorCode) failed.push(pending[i] as PutRecordsRequestEntry);
      });
      if (failed.length === 0) return;
      const first = (res.Records ?? []).find((r) => r.ErrorCode);
      const err = new Error(
        `${failed.length} of ${pending.length} records failed: ${first?.ErrorCode} ${first?.ErrorMessage ?? ''}`,
      );
      this.ctx.report.retry(
        first?.ErrorCode === 'ProvisionedThroughputExceededException' ? 'throttled' : 'put-records',
        err,
      );
      pending = failed;
      await this.ctx.clock.sleep(backoff.next(), this.ctx.signal);
    }
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closing = true;
    if (!this.opts.client) this.client?.destroy();
    return Promise.resolve();
  }
}
