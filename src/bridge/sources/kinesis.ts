import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { errorMessage } from '../../errors/index.js';
import { awsClientConfig, awsReason } from '../aws.js';
import { AckTracker, FileCheckpointStore } from '../checkpoint.js';
import { isAborted } from '../clock.js';
import type { Source, SourceContext } from '../types.js';

export interface KinesisSourceOptions {
  stream: string;
  region?: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  iteratorType?: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startTimestamp?: string;
  /** Checkpoint file; default `<checkpointDir>/kinesis-<stream>.json`. */
  checkpointPath?: string;
  checkpointDir: string;
  checkpointEveryMs?: number;
  pollEveryMs?: number;
  maxRecordsPerCall?: number;
  shardRefreshEveryMs?: number;
  client?: KinesisClient;
}

interface ShardCheckpoint {
  /** Last sequence number delivered to the sink. */
  sequenceNumber?: string;
  /** The shard was read to its end (after a reshard) and everything was delivered. */
  ended?: boolean;
}

interface CheckpointFile {
  version: 1;
  stream: string;
  shards: Record<string, ShardCheckpoint>;
}

interface ShardState {
  id: string;
  parent?: string;
  adjacentParent?: string;
  tracker: AckTracker<string>;
  /** Last sequence number read (for re-getting an expired iterator). */
  lastRead?: string;
  /** NextShardIterator came back null: no more records will ever come. */
  readToEnd: boolean;
  running: boolean;
}

/**
 * Kinesis source (polling GetRecords): reads every shard, and the children of a shard once the parent
 * was read to its end and delivered. Each shard resumes after its last checkpointed sequence number
 * (AFTER_SEQUENCE_NUMBER); checkpoints hold only delivered records and are written to a local file
 * every `checkpointEvery` and at shutdown, so a restart repeats at most the records delivered since
 * the last checkpoint (at-least-once).
 */
export class KinesisSource implements Source {
  readonly kind = 'kinesis';
  private ctx!: SourceContext;
  private client!: KinesisClient;
  private store!: FileCheckpointStore<CheckpointFile>;
  private checkpoints: CheckpointFile;
  private shards = new Map<string, ShardState>();
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private tasks = new Set<Promise<void>>();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KinesisSourceOptions) {
    this.checkpoints = { version: 1, stream: opts.stream, shards: {} };
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.client = this.opts.client ?? new KinesisClient(awsClientConfig(this.opts));
    const file =
      this.opts.checkpointPath ?? path.join(this.opts.checkpointDir, `kinesis-${this.opts.stream}.json`);
    this.store = new FileCheckpointStore<CheckpointFile>(file);
    const loaded = await this.store.load();
    if (loaded) {
      if (loaded.stream !== this.opts.stream) {
        ctx.logger.warn(
          { file, stream: loaded.stream },
          'checkpoint file belongs to another stream; ignoring it',
        );
      } else {
        this.checkpoints = loaded;
        ctx.logger.info({ file, shards: Object.keys(loaded.shards).length }, 'resuming from checkpoints');
      }
    }
    this.checkpointTimer = setInterval(
      () => void this.saveCheckpoints(),
      this.opts.checkpointEveryMs ?? 5000,
    );
    this.checkpointTimer.unref();
    this.spawn(this.discoverLoop());
  }

  private spawn(p: Promise<void>): void {
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
  }

  private async sleep(ms: number): Promise<boolean> {
    try {
      await this.ctx.clock.sleep(ms, this.stopCtl.signal);
      return true;
    } catch (err) {
      if (isAborted(err)) return false;
      throw err;
    }
  }

  private setConnected(ok: boolean, err?: unknown): void {
    if (ok && !this.connected) {
      this.ctx.report.connected(`reading Kinesis stream ${this.opts.stream}`);
    } else if (!ok && this.connected) {
      this.ctx.report.disconnected(
        awsReason(err),
        `Kinesis stream ${this.opts.stream}: ${errorMessage(err)}`,
      );
    } else if (!ok) {
      this.ctx.report.disconnected(
        awsReason(err),
        `Kinesis stream ${this.opts.stream}: ${errorMessage(err)}`,
      );
    }
    this.connected = ok;
  }

  private async listShards(): Promise<Shard[]> {
    const out: Shard[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.opts.stream }),
      );
      out.push(...(res.Shards ?? []));
      token = res.NextToken;
    } while (token);
    return out;
  }

  private async discoverLoop(): Promise<void> {
    const backoff = this.ctx.newBackoff();
    let wasDown = false;
    while (!this.stopped) {
      try {
        const shards = await this.listShards();
        if (wasDown) this.ctx.report.reconnected();
        wasDown = false;
        this.setConnected(true);
        backoff.reset();
        for (const s of shards) {
          if (!s.ShardId || this.shards.has(s.ShardId)) continue;
          const st: ShardState = {
            id: s.ShardId,
            tracker: new AckTracker<string>(),
            readToEnd: false,
            running: false,
          };
          if (s.ParentShardId) st.parent = s.ParentShardId;
          if (s.AdjacentParentShardId) st.adjacentParent = s.AdjacentParentShardId;
          this.shards.set(s.ShardId, st);
        }
        this.startReadyShards(new Set(shards.map((s) => s.ShardId ?? '')));
        if (!(await this.sleep(this.opts.shardRefreshEveryMs ?? 30_000))) return;
      } catch (err) {
        if (this.stopped) return;
        wasDown = true;
        this.setConnected(false, err);
        this.ctx.report.retry('list-shards', err);
        if (!(await this.sleep(backoff.next()))) return;
      }
    }
  }

  /** A parent blocks its children until it was read to its end and fully delivered. */
  private parentDone(id: string | undefined, listed: Set<string>): boolean {
    if (!id) return true;
    if (this.checkpoints.shards[id]?.ended) return true;
    // A parent no longer listed has expired (past retention): nothing left to read.
    return !listed.has(id) && !this.shards.get(id)?.running;
  }

  private startReadyShards(listed: Set<string>): void {
    for (const st of this.shards.values()) {
      if (st.running || this.checkpoints.shards[st.id]?.ended) continue;
      if (!this.parentDone(st.parent, listed) || !this.parentDone(st.adjacentParent, listed)) continue;
      st.running = true;
      this.spawn(this.readShard(st).finally(() => (st.running = false)));
    }
  }

  private async iterator(st: ShardState): Promise<string | undefined> {
    const after = st.lastRead ?? this.checkpoints.shards[st.id]?.sequenceNumber;
    const type: ShardIteratorType = after
      ? 'AFTER_SEQUENCE_NUMBER'
      : (this.opts.iteratorType ?? 'TRIM_HORIZON');
    const res = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.opts.stream,
        ShardId: st.id,
        ShardIteratorType: type,
        ...(after ? { StartingSequenceNumber: after } : {}),
        ...(type === 'AT_TIMESTAMP' && this.opts.startTimestamp
          ? { Timestamp: new Date(this.opts.startTimestamp) }
          : {}),
      }),
    );
    return res.ShardIterator;
  }

  private async readShard(st: ShardState): Promise<void> {
    const backoff = this.ctx.newBackoff();
    let it: string | undefined;
    while (!this.stopped) {
      try {
        if (!it) it = await this.iterator(st);
        if (!it) {
          st.readToEnd = true;
          break;
        }
        const res = await this.client.send(
          new GetRecordsCommand({ ShardIterator: it, Limit: this.opts.maxRecordsPerCall ?? 1000 }),
        );
        backoff.reset();
        for (const r of res.Records ?? []) {
          if (!r.SequenceNumber || !r.Data) continue;
          const seq = r.SequenceNumber;
          st.lastRead = seq;
          const ack = st.tracker.add(seq);
          await this.ctx.deliver({
            data: Buffer.from(r.Data),
            attributes: {
              ...(r.PartitionKey ? { key: r.PartitionKey } : {}),
              ...(r.ApproximateArrivalTimestamp
                ? { timestamp: r.ApproximateArrivalTimestamp.getTime() }
                : {}),
              position: `${st.id}:${seq}`,
            },
            ack: () => {
              ack();
              this.dirty = true;
            },
          });
          if (this.stopped) return;
        }
        it = res.NextShardIterator;
        if (!it) {
          st.readToEnd = true;
          break;
        }
        if ((res.Records ?? []).length === 0) {
          if (!(await this.sleep(this.opts.pollEveryMs ?? 1000))) return;
        }
      } catch (err) {
        if (this.stopped) return;
        const name = (err as { name?: string }).name ?? '';
        if (name === 'ExpiredIteratorException') {
          it = undefined;
          continue;
        }
        if (name === 'ResourceNotFoundException' && /shard/i.test(errorMessage(err))) {
          this.ctx.logger.warn({ shard: st.id }, 'shard no longer exists; skipping it');
          st.readToEnd = true;
          break;
        }
        this.ctx.report.retry(name.includes('Throughput') ? 'throttled' : 'get-records', err);
        if (name !== 'ProvisionedThroughputExceededException') this.setConnected(false, err);
        if (!(await this.sleep(backoff.next()))) return;
        it = undefined;
      }
    }
    if (st.readToEnd) {
      // Wait for the last records to be delivered, then mark the shard ended so children start.
      while (!this.stopped && st.tracker.outstanding() > 0) {
        if (!(await this.sleep(200))) return;
      }
      if (this.stopped) return;
      this.checkpoints.shards[st.id] = { ...this.checkpoints.shards[st.id], ended: true };
      this.dirty = true;
      await this.saveCheckpoints();
      this.ctx.logger.info({ shard: st.id }, 'shard read to its end; its children may start');
      this.startReadyShards(new Set([...this.shards.keys()]));
    }
  }

  private saveCheckpoints(): Promise<void> {
    this.saving = this.saving.then(async () => {
      for (const st of this.shards.values()) {
        const seq = st.tracker.committable();
        if (seq !== undefined && this.checkpoints.shards[st.id]?.sequenceNumber !== seq) {
          this.checkpoints.shards[st.id] = { ...this.checkpoints.shards[st.id], sequenceNumber: seq };
          this.dirty = true;
        }
      }
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.store.save(this.checkpoints);
      } catch (err) {
        this.dirty = true;
        this.ctx.report.error('checkpoint', err);
        this.ctx.logger.error(
          { err: errorMessage(err), file: this.store.file },
          'writing checkpoints failed',
        );
      }
    });
    return this.saving;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort();
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await Promise.allSettled([...this.tasks]);
    await this.saveCheckpoints();
    if (!this.opts.client) this.client?.destroy();
  }
}
