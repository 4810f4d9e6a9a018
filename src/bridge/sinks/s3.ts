import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Histogram, Counter } from 'prom-client';
import { errorMessage } from '../../errors/index.js';
import { awsClientConfig, awsReason } from '../aws.js';
import { isAborted } from '../clock.js';
import { crashNow, failpointFires } from '../failpoints.js';
import { Wakeup } from '../buffer/wakeup.js';
import { DiskBuffer, type SegmentInfo } from '../buffer/disk-buffer.js';
import { readSegment, SegmentCorruptError } from '../buffer/segment.js';
import type { BufferSettings } from '../config.js';
import { createEncoder, type Encoder, type FramingSettings } from '../framing.js';
import type { BridgeMessage, BufferStats, Sink, SinkContext, WriteResult } from '../types.js';

export interface S3SinkOptions {
  bucket: string;
  folder?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  keyTemplate?: string;
  framing: FramingSettings;
  gzip?: boolean;
  partSizeBytes?: number;
  partConcurrency?: number;
  createBucket?: boolean;
  buffer: BufferSettings;
  /** Upload metrics (optional: the bridge passes its registry's series). */
  metrics?: {
    uploadSeconds: Histogram<'bridge'>;
    uploadedObjects: Counter<'bridge'>;
    uploadedBytes: Counter<'bridge'>;
  };
  /** A ready client (tests); otherwise one is built from the settings. */
  client?: S3Client;
}

export const DEFAULT_KEY_TEMPLATE = '{folder}/{yyyy}/{mm}/{dd}/{hh}/{bridge}-{epoch}-{seq}.{ext}';
const MIN_PART = 5 * 1024 * 1024;

/**
 * The object key of a committed segment. Derived only from the segment name (its commit time and
 * sequence number), so re-uploading a segment after a crash overwrites the same key: effectively-once.
 */
export function objectKey(
  template: string,
  vars: { folder: string; bridge: string; ext: string },
  seg: Pick<SegmentInfo, 'committedAt' | 'seq'>,
): string {
  const d = new Date(seg.committedAt);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const values: Record<string, string> = {
    folder: vars.folder.replace(/^\/+|\/+$/g, ''),
    bridge: vars.bridge,
    ext: vars.ext,
    yyyy: String(d.getUTCFullYear()),
    mm: pad(d.getUTCMonth() + 1),
    dd: pad(d.getUTCDate()),
    hh: pad(d.getUTCHours()),
    epoch: String(seg.committedAt).padStart(13, '0'),
    seq: pad(seg.seq, 6),
  };
  const key = template.replace(/\{([a-z]+)\}/g, (all, name: string) => values[name] ?? all);
  return key.replace(/\/{2,}/g, '/').replace(/^\//, '');
}

/**
 * S3 sink. The collector is the disk buffer: `write()` appends and resolves once the records are
 * durable, so the source is acknowledged without waiting for S3. The uploader runs beside it: at
 * start (leftovers of a previous process first), after every commit, and every `uploadEvery`, it
 * uploads committed segments oldest first (multipart above the part size), checks the object with a
 * HEAD, and only then deletes the local file. Failures are retried forever with backoff while the
 * buffer grows on disk (up to maxBufferBytes, then the source is paused).
 */
export class S3Sink implements Sink {
  readonly kind = 's3';
  private client!: S3Client;
  private buffer!: DiskBuffer;
  private ctx!: SinkContext;
  private encoder: Encoder;
  private readonly stopCtl = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly wakeup = new Wakeup(this.stopCtl.signal);
  private bucketChecked = false;
  private connected = false;
  private currentUpload: Upload | undefined;
  private readonly ext: string;

  constructor(private readonly opts: S3SinkOptions) {
    this.encoder = createEncoder(opts.framing);
    this.ext = this.encoder.extension + (opts.gzip ? '.gz' : '');
  }

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.client =
      this.opts.client ??
      new S3Client({ ...awsClientConfig(this.opts), forcePathStyle: this.opts.forcePathStyle ?? false });
    this.buffer = new DiskBuffer({
      dir: path.join(this.opts.buffer.bufferPath, ctx.bridge),
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
    const leftovers = this.buffer.segments().length;
    if (leftovers > 0)
      ctx.logger.info({ segments: leftovers }, 'uploading segments left by a previous process first');
    let firstPass!: () => void;
    const first = new Promise<void>((resolve) => (firstPass = resolve));
    this.loopDone = this.loop(firstPass);
    await first;
  }

  write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    return this.buffer.append(batch).then(() => ({ rejected: [] }));
  }

  bufferStats(): BufferStats {
    return this.buffer
      ? this.buffer.stats()
      : { bytes: 0, files: 0, maxBytes: this.opts.buffer.maxBufferBytes };
  }

  /** Commits the active segment and keeps uploading until the buffer is empty or the deadline passes. */
  async flush(deadline: number): Promise<void> {
    await this.buffer.commit();
    this.wakeup.kick();
    while (
      this.buffer.segments().length > 0 &&
      this.ctx.clock.now() < deadline &&
      !this.stopCtl.signal.aborted
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const left = this.buffer.segments().length;
    if (left > 0)
      this.ctx.logger.warn(
        { segments: left },
        'segments left on disk at shutdown: the next start uploads them',
      );
  }

  async close(): Promise<void> {
    this.stopCtl.abort();
    this.wakeup.kick();
    if (this.currentUpload) await this.currentUpload.abort().catch(() => undefined);
    await this.loopDone.catch(() => undefined);
    await this.buffer?.close();
    if (!this.opts.client) this.client?.destroy();
  }

  private async loop(firstPass: () => void): Promise<void> {
    const backoff = this.ctx.newBackoff();
    let first = true;
    while (!this.stopCtl.signal.aborted) {
      try {
        await this.uploadAll();
        backoff.reset();
        if (first) firstPass();
        first = false;
        await this.wakeup.wait(this.opts.buffer.uploadEveryMs);
      } catch (err) {
        if (first) firstPass();
        first = false;
        if (this.stopCtl.signal.aborted) break;
        const reason = awsReason(err);
        this.connected = false;
        this.ctx.report.disconnected(reason, `S3 bucket ${this.opts.bucket}: ${errorMessage(err)}`);
        this.ctx.report.retry('upload', err);
        const delay = backoff.next();
        this.ctx.logger.warn(
          { err: errorMessage(err), delayMs: delay, buffered: this.buffer.stats() },
          'upload failed, retrying',
        );
        try {
          await this.ctx.clock.sleep(delay, this.stopCtl.signal);
        } catch (e) {
          if (!isAborted(e)) throw e;
        }
      }
    }
    firstPass();
  }

  private markConnected(): void {
    if (!this.connected) {
      const wasLost = this.bucketChecked;
      this.connected = true;
      this.ctx.report.connected(`bucket ${this.opts.bucket} reachable`);
      if (wasLost) this.ctx.report.reconnected();
    }
  }

  private async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 && this.opts.createBucket) {
        await this.client.send(new CreateBucketCommand({ Bucket: this.opts.bucket }));
      } else if (status === 404) {
        throw Object.assign(
          new Error(`bucket ${this.opts.bucket} does not exist (set createBucket: true to create it)`),
          {
            name: 'NoSuchBucket',
          },
        );
      } else {
        throw err;
      }
    }
    if (!this.bucketChecked) await this.abortStaleUploads();
    this.markConnected();
    this.bucketChecked = true;
  }

  /** Multipart uploads a killed process left open under our key prefix are aborted (they are retried whole). */
  private async abortStaleUploads(): Promise<void> {
    const prefix = (this.opts.folder ?? '').replace(/^\/+/, '');
    try {
      const res = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.opts.bucket, Prefix: prefix || undefined }),
      );
      for (const u of res.Uploads ?? []) {
        if (!u.Key || !u.UploadId || !u.Key.includes(`${this.ctx.bridge}-`)) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.opts.bucket, Key: u.Key, UploadId: u.UploadId }),
        );
        this.ctx.logger.info({ key: u.Key }, 'aborted a stale multipart upload');
      }
    } catch (err) {
      this.ctx.logger.debug(
        { err: errorMessage(err) },
        'listing multipart uploads is not available; skipping',
      );
    }
  }

  private async uploadAll(): Promise<void> {
    if (!this.connected) await this.ensureBucket();
    for (const seg of this.buffer.segments()) {
      if (this.stopCtl.signal.aborted) return;
      await this.uploadSegment(seg);
    }
  }

  keyFor(seg: Pick<SegmentInfo, 'committedAt' | 'seq'>): string {
    return objectKey(
      this.opts.keyTemplate ?? DEFAULT_KEY_TEMPLATE,
      { folder: this.opts.folder ?? '', bridge: this.ctx.bridge, ext: this.ext },
      seg,
    );
  }

  private async uploadSegment(seg: SegmentInfo): Promise<void> {
    const key = this.keyFor(seg);
    const started = Date.now();
    let bytes = 0;
    const counter = new PassThrough();
    counter.on('data', (c: Buffer) => (bytes += c.length));
    const records = Readable.from(this.encodeSegment(seg.path));
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const piping = this.opts.gzip
      ? pipeline(records, createGzip(), counter, body)
      : pipeline(records, counter, body);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.opts.bucket,
        Key: key,
        Body: body,
        ContentType: this.opts.gzip ? 'application/gzip' : contentType(this.opts.framing),
      },
      queueSize: this.opts.partConcurrency ?? 4,
      partSize: Math.max(MIN_PART, this.opts.partSizeBytes ?? MIN_PART),
      leavePartsOnError: false,
    });
    this.currentUpload = upload;
    try {
      const [pipeResult, uploadResult] = await Promise.allSettled([piping, upload.done()]);
      if (pipeResult.status === 'rejected') throw pipeResult.reason;
      if (uploadResult.status === 'rejected') throw uploadResult.reason;
    } catch (err) {
      body.destroy();
      if (err instanceof SegmentCorruptError) {
        await upload.abort().catch(() => undefined);
        await this.buffer.quarantine(seg.name, err.message);
        this.ctx.report.discarded('quarantined-segment', 1);
        this.ctx.report.error('segment', err);
        return;
      }
      throw err;
    } finally {
      this.currentUpload = undefined;
    }
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }));
    if (head.ContentLength !== undefined && head.ContentLength !== bytes) {
      throw new Error(
        `S3 object ${key}: stored ${head.ContentLength} bytes, uploaded ${bytes}; uploading again`,
      );
    }
    if (failpointFires('upload.after-put')) crashNow();
    await this.buffer.remove(seg.name);
    this.markConnected();
    const seconds = (Date.now() - started) / 1000;
    this.opts.metrics?.uploadSeconds.observe({ bridge: this.ctx.bridge }, seconds);
    this.opts.metrics?.uploadedObjects.inc({ bridge: this.ctx.bridge });
    this.opts.metrics?.uploadedBytes.inc({ bridge: this.ctx.bridge }, bytes);
    this.ctx.logger.debug({ key, bytes, seconds }, 'segment uploaded');
  }

  /** Segment records → framed bytes, in chunks of about 256 KiB. */
  private async *encodeSegment(file: string): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let size = 0;
    for await (const rec of readSegment(file)) {
      const b = this.encoder.encode(rec.msg);
      parts.push(b);
      size += b.length;
      if (size >= 256 * 1024) {
        yield Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield Buffer.concat(parts, size);
  }
}

function contentType(f: FramingSettings): string {
  switch (f.kind) {
    case 'ndjson':
      return f.delimiter === '\n' ? 'application/x-ndjson' : 'text/plain';
    case 'json':
      return 'application/x-ndjson';
    default:
      return 'application/octet-stream';
  }
}
