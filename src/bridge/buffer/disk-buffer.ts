import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../obs/index.js';
import { systemClock, type Clock } from '../clock.js';
import { crashNow, failpointFires } from '../failpoints.js';
import type { BridgeMessage, BufferStats } from '../types.js';
import { encodeRecord, scanSegment } from './segment.js';

/**
 * When appended data is forced to disk before the append resolves (and so before the source is
 * acknowledged):
 * - `always` (default): every append (one bridge batch = one group commit) ends with fdatasync.
 *   Survives a process kill and a machine crash.
 * - `interval`: appends wait for the next timed fdatasync (every `fsyncIntervalMs`), which covers
 *   every append since the previous one. Same guarantee, fewer syncs, more latency.
 * - `never`: no fdatasync; data is in the OS page cache when the source is acknowledged. Survives a
 *   process kill (SIGKILL), not a power loss or kernel crash.
 * Commits always fdatasync the segment and fsync the directory after the rename.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DiskBufferOptions {
  /** This buffer's own directory (the bridge uses `<bufferPath>/<bridge name>`). */
  dir: string;
  /** Commit the active segment once it holds this many bytes. */
  commitFileBytes: number;
  /** ...or once its first record is this old. */
  commitDurationMs: number;
  /** Appends wait (backpressure) while the buffer holds this many bytes; 0 means no limit. */
  maxBufferBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  clock?: Clock;
  logger?: Logger;
  /** A committed segment is ready (the uploader wakes up). */
  onCommit?: (segment: string) => void;
  /** Records or segments set aside during recovery or reading. */
  onDiscard?: (reason: string, count: number) => void;
}

const ACTIVE = 'active.seg';
const SEGMENT_RE = /^(\d{13})-(\d{6})\.seg$/;

export interface SegmentInfo {
  /** File name, `<epoch-ms>-<seq>.seg`. */
  name: string;
  /** The commit time encoded in the name (ms since the epoch). */
  committedAt: number;
  seq: number;
  bytes: number;
  path: string;
}

/** A promise-chain mutex: one append/commit at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The durable local buffer: an active segment receiving appends, committed by atomic rename to
 * `committed/<epoch-ms>-<seq>.seg` when it reaches the size or age limit; consumers (the S3 uploader,
 * the drain of a buffered sink) take committed segments oldest first and remove them once delivered.
 */
export class DiskBuffer {
  private readonly opts: Required<Omit<DiskBufferOptions, 'onCommit' | 'onDiscard'>> &
    Pick<DiskBufferOptions, 'onCommit' | 'onDiscard'>;
  private readonly committedDir: string;
  private readonly quarantineDir: string;
  private readonly activePath: string;
  private readonly mutex = new Mutex();
  private fd: fs.promises.FileHandle | undefined;
  private activeBytes = 0;
  private activeRecords = 0;
  private ageTimer: NodeJS.Timeout | undefined;
  private committed = new Map<string, SegmentInfo>();
  private committedBytes = 0;
  private seq = 0;
  private lastStamp = 0;
  private spaceWaiters: Array<() => void> = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private syncWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private closed = false;
  private failure: Error | undefined;

  constructor(options: DiskBufferOptions) {
    this.opts = {
      clock: systemClock,
      logger: silentLogger(),
      ...options,
    };
    this.committedDir = path.join(options.dir, 'committed');
    this.quarantineDir = path.join(options.dir, 'quarantine');
    this.activePath = path.join(options.dir, ACTIVE);
  }

  get directory(): string {
    return this.opts.dir;
  }

  /**
   * Creates the directories and finishes what a previous process left: the active segment is validated
   * record by record, a torn last record (never acknowledged: appends resolve only after the whole
   * record is written) is cut off and counted, damaged bytes are moved to quarantine/, and the valid
   * part is committed so it gets uploaded first.
   */
  async open(): Promise<void> {
    await fs.promises.mkdir(this.committedDir, { recursive: true });
    await fs.promises.mkdir(this.quarantineDir, { recursive: true });
    await this.loadCommitted();
    if (fs.existsSync(this.activePath)) await this.recoverActive();
  }

  private async loadCommitted(): Promise<void> {
    for (const name of await fs.promises.readdir(this.committedDir)) {
      const m = SEGMENT_RE.exec(name);
      const full = path.join(this.committedDir, name);
      if (!m) {
        this.opts.logger.warn({ file: full }, 'unexpected file in the buffer directory: moved to quarantine');
        await fs.promises.rename(full, path.join(this.quarantineDir, name));
        this.opts.onDiscard?.('unexpected-file', 1);
        continue;
      }
      const st = await fs.promises.stat(full);
      this.addCommitted({ name, committedAt: Number(m[1]), seq: Number(m[2]), bytes: st.size, path: full });
    }
  }

  private async recoverActive(): Promise<void> {
    const scan = await scanSegment(this.activePath);
    if (scan.damage) {
      const tailBytes = scan.fileBytes - scan.validBytes;
      if (scan.damage.kind === 'torn') {
        this.opts.logger.warn(
          { file: this.activePath, offset: scan.validBytes, bytes: tailBytes },
          'dropping a torn last record left by a previous process (it was never acknowledged)',
        );
        this.opts.onDiscard?.('torn-record', 1);
      } else {
        const q = path.join(this.quarantineDir, `active-${this.opts.clock.now()}.tail`);
        await copyRange(this.activePath, q, scan.validBytes);
        this.opts.logger.error(
          {
            file: this.activePath,
            offset: scan.validBytes,
            bytes: tailBytes,
            quarantined: q,
            detail: scan.damage.detail,
          },
          'the active segment is damaged: the valid records are kept, the rest is quarantined',
        );
        this.opts.onDiscard?.('corrupt-tail', 1);
      }
      await fs.promises.truncate(this.activePath, scan.validBytes);
    }
    if (scan.validBytes === 0) {
      await fs.promises.unlink(this.activePath);
      return;
    }
    this.activeBytes = scan.validBytes;
    this.activeRecords = scan.records;
    this.opts.logger.info(
      { records: scan.records, bytes: scan.validBytes },
      'committing the segment a previous process left',
    );
    await this.mutex.run(() => this.commitLocked());
  }

  stats(): BufferStats {
    return {
      bytes: this.committedBytes + this.activeBytes,
      files: this.committed.size,
      maxBytes: this.opts.maxBufferBytes,
    };
  }

  /** Committed segments, oldest first. */
  segments(): SegmentInfo[] {
    return [...this.committed.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Appends the messages and resolves once they are durable per the fsync policy. Waits first while
   * the buffer is full (maxBufferBytes), committing the active segment so consumers can drain it.
   */
  async append(msgs: readonly BridgeMessage[]): Promise<void> {
    if (msgs.length === 0) return;
    const records = msgs.map((m) => encodeRecord(m));
    const bytes = records.reduce((n, r) => n + r.length, 0);
    await this.waitForSpace(bytes);
    await this.mutex.run(async () => {
      this.ensureUsable();
      if (!this.fd) {
        this.fd = await fs.promises.open(this.activePath, 'a');
        this.activeBytes = (await this.fd.stat()).size;
      }
      if (failpointFires('append.torn')) {
        const all = Buffer.concat(records, bytes);
        // Cut inside a record (not on a record boundary), as a kill mid-write would.
        await this.fd.write(all.subarray(0, Math.min(all.length - 1, (all.length >> 1) + 7)));
        await this.fd.datasync();
        crashNow();
      }
      await writeAll(this.fd, records, bytes);
      const firstRecord = this.activeRecords === 0;
      this.activeBytes += bytes;
      this.activeRecords += records.length;
      if (this.opts.fsync === 'always') await this.fd.datasync();
      if (this.activeBytes >= this.opts.commitFileBytes) {
        await this.commitLocked();
      } else if (firstRecord) {
        this.armAgeTimer();
      }
    });
    if (this.opts.fsync === 'interval') await this.syncSoon();
  }

  /** Commits the active segment now (if it holds anything). */
  commit(): Promise<void> {
    return this.mutex.run(() => this.commitLocked());
  }

  private armAgeTimer(): void {
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.ageTimer = setTimeout(() => {
      this.ageTimer = undefined;
      this.commit().catch((err: unknown) => this.fail(err));
    }, this.opts.commitDurationMs);
    this.ageTimer.unref();
  }

  private async commitLocked(): Promise<void> {
    if (this.ageTimer) {
      clearTimeout(this.ageTimer);
      this.ageTimer = undefined;
    }
    if (this.activeBytes === 0) return;
    if (this.fd) {
      await this.fd.datasync();
      await this.fd.close();
      this.fd = undefined;
    }
    const info = this.nextName();
    await fs.promises.rename(this.activePath, info.path);
    if (failpointFires('commit.after-rename')) crashNow();
    await fsyncDir(this.committedDir);
    await fsyncDir(this.opts.dir);
    info.bytes = this.activeBytes;
    this.activeBytes = 0;
    this.activeRecords = 0;
    this.addCommitted(info);
    this.resolveSyncWaiters();
    this.opts.logger.debug({ segment: info.name, bytes: info.bytes }, 'segment committed');
    this.opts.onCommit?.(info.name);
  }

  private nextName(): SegmentInfo {
    let stamp = this.opts.clock.now();
    if (stamp <= this.lastStamp) stamp = this.lastStamp;
    else this.seq = 0;
    for (;;) {
      const name = `${String(stamp).padStart(13, '0')}-${String(this.seq).padStart(6, '0')}.seg`;
      this.seq++;
      const full = path.join(this.committedDir, name);
      if (!this.committed.has(name) && !fs.existsSync(full)) {
        this.lastStamp = stamp;
        return { name, committedAt: stamp, seq: this.seq - 1, bytes: 0, path: full };
      }
    }
  }

  private addCommitted(info: SegmentInfo): void {
    this.committed.set(info.name, info);
    this.committedBytes += info.bytes;
  }

  /** A consumer delivered the segment: delete it and make room. */
  async remove(name: string): Promise<void> {
    const info = this.committed.get(name);
    if (!info) return;
    await fs.promises.rm(info.path, { force: true });
    this.forget(info);
  }

  /** A consumer found the segment unreadable: move it aside (counted by the caller) so it never blocks. */
  async quarantine(name: string, reason: string): Promise<string> {
    const info = this.committed.get(name);
    if (!info) return '';
    const target = path.join(this.quarantineDir, name);
    await fs.promises.rename(info.path, target);
    this.forget(info);
    this.opts.logger.error({ segment: name, quarantined: target, reason }, 'segment quarantined');
    return target;
  }

  private forget(info: SegmentInfo): void {
    this.committed.delete(info.name);
    this.committedBytes -= info.bytes;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  private async waitForSpace(bytes: number): Promise<void> {
    const max = this.opts.maxBufferBytes;
    if (max <= 0) return;
    while (!this.closed && this.stats().bytes > 0 && this.stats().bytes + bytes > max) {
      if (this.activeBytes > 0) await this.commit();
      if (this.stats().bytes + bytes <= max) break;
      this.opts.logger.debug(
        { buffered: this.stats().bytes, max },
        'disk buffer full: waiting for the consumer',
      );
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    this.ensureUsable();
  }

  private syncSoon(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject });
      if (this.syncTimer) return;
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        const waiters = this.syncWaiters;
        this.syncWaiters = [];
        this.mutex
          .run(async () => {
            if (this.fd) await this.fd.datasync();
          })
          .then(
            () => waiters.forEach((w) => w.resolve()),
            (err: unknown) => waiters.forEach((w) => w.reject(err)),
          );
      }, this.opts.fsyncIntervalMs);
    });
  }

  private resolveSyncWaiters(): void {
    // A commit fsyncs the segment, which covers every append waiting for the interval sync.
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    if (this.syncTimer) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
    }
    waiters.forEach((w) => w.resolve());
  }

  private ensureUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`disk buffer ${this.opts.dir} is closed`);
  }

  private fail(err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(errorMessage(err));
    this.opts.logger.error({ err: errorMessage(err) }, 'disk buffer commit failed');
  }

  /** Closes the active file without committing (a later open() recovers it). */
  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.ageTimer) clearTimeout(this.ageTimer);
      if (this.syncTimer) clearTimeout(this.syncTimer);
      if (this.fd) {
        await this.fd.datasync();
        await this.fd.close();
        this.fd = undefined;
      }
      this.resolveSyncWaiters();
      this.closed = true;
    });
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }
}

async function writeAll(fd: fs.promises.FileHandle, chunks: Buffer[], total: number): Promise<void> {
  let written = 0;
  let pending = chunks;
  while (written < total) {
    const { bytesWritten } = await fd.writev(pending);
    written += bytesWritten;
    if (written >= total) break;
    // Partial write: drop the chunks already written and retry with the rest.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const c of pending) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      rest.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
    pending = rest;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = await fs.promises.open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

async function copyRange(from: string, to: string, start: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const r = fs.createReadStream(from, { start });
    const w = fs.createWriteStream(to);
    r.on('error', reject);
    w.on('error', reject);
    w.on('finish', () => resolve());
    r.pipe(w);
  });
}
