import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import {
  Backoff,
  DEFAULT_BUFFER,
  DEFAULT_FRAMING,
  encodeRecord,
  S3Sink,
  type BufferSettings,
} from '../../../src/bridge/index.js';
import { silentLogger } from '../../../src/obs/index.js';
import { msg, recordingReporter, type RecordedReport } from './helpers.js';

/**
 * An in-memory S3 behind a real S3Client (its config, endpoint resolution and lib-storage's Upload are
 * the real ones; only `send` is answered here), with switches for outages and wrong sizes.
 */
class MemoryS3 extends S3Client {
  objects = new Map<string, Buffer>();
  parts = new Map<string, Map<number, Buffer>>();
  down = false;
  lieAboutSize = 0;
  calls: string[] = [];
  constructor() {
    super({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  }
  override send(command: unknown): Promise<never> {
    const name = (command as object).constructor.name;
    const input = (command as { input: Record<string, unknown> }).input;
    this.calls.push(name);
    if (this.down) {
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'NetworkingError' }),
      );
    }
    const key = `${String(input.Bucket)}/${String(input.Key)}`;
    const ok = (v: unknown): Promise<never> => Promise.resolve(v as never);
    switch (name) {
      case 'HeadBucketCommand':
        return ok({});
      case 'ListMultipartUploadsCommand':
        return ok({ Uploads: [] });
      case 'PutObjectCommand':
        this.objects.set(key, Buffer.from(input.Body as Uint8Array));
        return ok({ ETag: '"x"' });
      case 'CreateMultipartUploadCommand':
        this.parts.set(key, new Map());
        return ok({ UploadId: 'u1' });
      case 'UploadPartCommand':
        this.parts.get(key)?.set(input.PartNumber as number, Buffer.from(input.Body as Uint8Array));
        return ok({ ETag: `"p${String(input.PartNumber)}"` });
      case 'CompleteMultipartUploadCommand': {
        const parts = [...(this.parts.get(key) ?? new Map<number, Buffer>()).entries()].sort(
          (a, b) => a[0] - b[0],
        );
        this.objects.set(key, Buffer.concat(parts.map((p) => p[1])));
        return ok({ ETag: '"m"' });
      }
      case 'AbortMultipartUploadCommand':
        this.parts.delete(key);
        return ok({});
      case 'HeadObjectCommand': {
        const o = this.objects.get(key);
        if (!o) return Promise.reject(Object.assign(new Error('not found'), { name: 'NotFound' }));
        return ok({ ContentLength: o.length + this.lieAboutSize });
      }
      default:
        return Promise.reject(new Error(`unexpected command ${name}`));
    }
  }
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-s3sink-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function context(report: RecordedReport) {
  return {
    bridge: 'b1',
    logger: silentLogger(),
    clock: {
      now: () => Date.now(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20))),
    },
    newBackoff: () => new Backoff({ initialMs: 10, maxMs: 20, multiplier: 2, jitter: 'none' }),
    report,
    signal: new AbortController().signal,
  };
}

function sink(client: MemoryS3, extra: Partial<BufferSettings> = {}, gzip = false): S3Sink {
  return new S3Sink({
    bucket: 'bk',
    folder: 'f',
    framing: DEFAULT_FRAMING,
    gzip,
    client,
    buffer: { ...DEFAULT_BUFFER, bufferPath: dir, commitDurationMs: 30, uploadEveryMs: 30, ...extra },
  });
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const allLines = (s3: MemoryS3, gz = false): string[] =>
  [...s3.objects.values()].flatMap((b) => (gz ? gunzipSync(b) : b).toString().split('\n').filter(Boolean));

describe('S3Sink (uploader logic against an in-memory S3)', () => {
  it('uploads segments a previous process left during start(), then deletes them locally', async () => {
    const committed = path.join(dir, 'b1', 'committed');
    fs.mkdirSync(committed, { recursive: true });
    fs.writeFileSync(
      path.join(committed, '1767323045678-000003.seg'),
      Buffer.concat([encodeRecord(msg('a')), encodeRecord(msg('b'))]),
    );
    fs.writeFileSync(path.join(dir, 'b1', 'active.seg'), encodeRecord(msg('c')));
    const s3 = new MemoryS3();
    const report = recordingReporter();
    const s = sink(s3);
    await s.start(context(report));
    expect([...s3.objects.keys()].sort()[0]).toBe('bk/f/2026/01/02/03/b1-1767323045678-000003.ndjson');
    expect(allLines(s3).sort()).toEqual(['a', 'b', 'c']);
    expect(fs.readdirSync(committed)).toEqual([]);
    expect(report.events[0]).toMatch(/^connected:/);
    await s.close();
  });

  it('keeps writing to disk while S3 is down, reports it, then drains', async () => {
    const s3 = new MemoryS3();
    const report = recordingReporter();
    const s = sink(s3);
    await s.start(context(report));
    s3.down = true;
    for (let i = 0; i < 20; i++) await s.write([msg(`m${i}`)]);
    await waitFor(() => report.events.some((e) => e.startsWith('disconnected:Unreachable')));
    await waitFor(() => s.bufferStats().files >= 1);
    expect(s3.objects.size).toBe(0);
    expect(report.events.filter((e) => e === 'retry:upload').length).toBeGreaterThan(0);
    s3.down = false;
    await waitFor(() => s.bufferStats().bytes === 0);
    expect(allLines(s3).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    expect(report.events).toContain('reconnected');
    await s.close();
  });

  it('does not delete a segment whose stored size does not match, and retries', async () => {
    const s3 = new MemoryS3();
    s3.lieAboutSize = 1;
    const report = recordingReporter();
    const s = sink(s3);
    await s.start(context(report));
    await s.write([msg('x')]);
    await waitFor(() => report.events.filter((e) => e === 'retry:upload').length >= 2);
    expect(s.bufferStats().files).toBe(1);
    s3.lieAboutSize = 0;
    await waitFor(() => s.bufferStats().files === 0);
    await s.close();
  });

  it('quarantines an unreadable segment (counted) and uploads the others', async () => {
    const committed = path.join(dir, 'b1', 'committed');
    fs.mkdirSync(committed, { recursive: true });
    const bad = Buffer.concat([
      encodeRecord(msg('ok')),
      encodeRecord(msg('broken')),
      encodeRecord(msg('after')),
    ]);
    bad.writeUInt8(bad.readUInt8(30) ^ 0xff, 30);
    fs.writeFileSync(path.join(committed, '1767323045678-000001.seg'), bad);
    fs.writeFileSync(path.join(committed, '1767323045679-000000.seg'), encodeRecord(msg('good')));
    const s3 = new MemoryS3();
    const report = recordingReporter();
    const s = sink(s3);
    await s.start(context(report));
    expect(allLines(s3)).toEqual(['good']);
    expect(report.events).toContain('discarded:quarantined-segment:1');
    expect(fs.readdirSync(path.join(dir, 'b1', 'quarantine'))).toEqual(['1767323045678-000001.seg']);
    await s.close();
  });

  it('gzips objects and uses multipart above the part size', async () => {
    const s3 = new MemoryS3();
    const s = sink(s3, { commitFileBytes: 64 * 1024 * 1024, commitDurationMs: 60_000 }, true);
    await s.start(context(recordingReporter()));
    const big = Array.from({ length: 40_000 }, (_, i) => `${i}-${randomBytes(250).toString('base64')}`);
    for (let i = 0; i < big.length; i += 500) await s.write(big.slice(i, i + 500).map((t) => msg(t)));
    await s.flush(Date.now() + 10_000);
    expect(s3.calls).toContain('CompleteMultipartUploadCommand');
    const keys = [...s3.objects.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/\.ndjson\.gz$/);
    const lines = allLines(s3, true);
    // Compare without printing megabytes on failure.
    expect(lines.length).toBe(big.length);
    expect(lines.every((l, i) => l === big[i])).toBe(true);
    await s.close();
  });
});
