import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  AckTracker,
  Bridge,
  BufferedSink,
  chunkEntries,
  DEFAULT_BUFFER,
  DEFAULT_KEY_TEMPLATE,
  FileCheckpointStore,
  KINESIS_LIMITS,
  objectKey,
  partitionKeyFn,
  StdioSink,
  StdioSource,
  type BridgeMessage,
  type Sink,
  type SinkContext,
  type WriteResult,
} from '../../../src/bridge/index.js';
import { msg, registry } from './helpers.js';

describe('S3 object keys', () => {
  it('derive only from the segment name (same key on re-upload), in UTC', () => {
    const seg = { committedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678), seq: 7 };
    expect(
      objectKey(DEFAULT_KEY_TEMPLATE, { folder: '/raw/orders/', bridge: 'orders', ext: 'ndjson.gz' }, seg),
    ).toBe(`raw/orders/2026/01/02/03/orders-${seg.committedAt}-000007.ndjson.gz`);
    expect(objectKey(DEFAULT_KEY_TEMPLATE, { folder: '', bridge: 'b', ext: 'ndjson' }, seg)).toBe(
      `2026/01/02/03/b-${seg.committedAt}-000007.ndjson`,
    );
    expect(objectKey('{bridge}/{epoch}.{ext}', { folder: 'x', bridge: 'b', ext: 'lp' }, seg)).toBe(
      `b/${seg.committedAt}.lp`,
    );
  });
});

describe('Kinesis batching', () => {
  it('splits at 500 records', () => {
    const entries = Array.from({ length: 1201 }, () => ({ bytes: 10 }));
    expect(chunkEntries(entries).map((c) => c.length)).toEqual([500, 500, 201]);
  });

  it('splits at 5 MiB', () => {
    const entries = Array.from({ length: 12 }, () => ({ bytes: KINESIS_LIMITS.recordBytes }));
    expect(chunkEntries(entries).map((c) => c.length)).toEqual([5, 5, 2]);
  });

  it('partition keys: random, message key, or a JSON field', () => {
    const random = partitionKeyFn(undefined);
    expect(random(msg('x'))).toMatch(/^[0-9a-f]{32}$/);
    expect(random(msg('x'))).not.toBe(random(msg('x')));
    expect(partitionKeyFn('key')(msg('x', { key: 'k1' }))).toBe('k1');
    const byField = partitionKeyFn('field:customer');
    expect(byField(msg('{"customer": "c-9", "n": 1}'))).toBe('c-9');
    expect(byField(msg('{"customer": 42}'))).toBe('42');
    expect(byField(msg('not json'))).toMatch(/^[0-9a-f]{32}$/);
    expect(() => partitionKeyFn('hash')).toThrow(
      /sink.kinesis.partitionKey: "hash" is not one of random, key, field:<name>/,
    );
  });
});

describe('AckTracker', () => {
  it('commits only the acknowledged prefix, whatever the ack order', () => {
    const t = new AckTracker<number>();
    const acks = [1, 2, 3, 4].map((n) => t.add(n));
    acks[1]?.();
    acks[2]?.();
    expect(t.committable()).toBeUndefined();
    acks[0]?.();
    expect(t.committable()).toBe(3);
    expect(t.outstanding()).toBe(1);
    acks[3]?.();
    expect(t.committable()).toBe(4);
  });
});

describe('FileCheckpointStore', () => {
  it('writes atomically and reads back; a damaged file is a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-ckpt-'));
    const store = new FileCheckpointStore<{ a: number }>(path.join(dir, 'sub', 'c.json'));
    expect(await store.load()).toBeUndefined();
    await store.save({ a: 1 });
    await store.save({ a: 2 });
    expect(await store.load()).toEqual({ a: 2 });
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['c.json']);
    fs.writeFileSync(store.file, '{"a":');
    await expect(store.load()).rejects.toThrow(/checkpoint file .*c\.json is not valid JSON/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

function collect(stream: PassThrough): Promise<string> {
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  return new Promise((resolve) => stream.on('end', () => resolve(Buffer.concat(parts).toString())));
}

describe('stdio connectors', () => {
  it('stdin → stdout: every line arrives, EOF completes the bridge', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const text = collect(output);
    const b = new Bridge({
      name: 'stdio',
      source: new StdioSource({ input }),
      sink: new StdioSink({ output, framing: { kind: 'json', delimiter: '\n', maxRecordBytes: 1024 } }),
      registry: registry(),
      delivery: { lingerMs: 1 },
    });
    await b.start();
    input.write('alpha\nbe');
    input.write('ta\ngamma');
    input.end();
    const out = await b.done;
    expect(out.status.phase).toBe('Completed');
    const lines = (await text)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { data: string });
    expect(lines.map((l) => l.data)).toEqual(['alpha', 'beta', 'gamma']);
  });
});

class FlakySink implements Sink {
  readonly kind = 'flaky';
  written: string[] = [];
  down = true;
  start(ctx: SinkContext): Promise<void> {
    ctx.report.connected('x');
    return Promise.resolve();
  }
  write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    if (this.down) return Promise.reject(new Error('outage'));
    this.written.push(...batch.map((m) => m.data.toString()));
    return Promise.resolve({ rejected: [] });
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('BufferedSink', () => {
  it('acks once on disk, keeps data through a sink outage and drains it afterwards', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-bsink-'));
    const inner = new FlakySink();
    const sink = new BufferedSink({
      inner,
      buffer: { ...DEFAULT_BUFFER, bufferPath: dir, commitDurationMs: 20, uploadEveryMs: 20 },
    });
    const input = new PassThrough();
    const b = new Bridge({
      name: 'buffered',
      source: new StdioSource({ input, exitOnEof: false }),
      sink,
      registry: registry(),
      backoff: { initialMs: 10, maxMs: 20, multiplier: 2, jitter: 'none' },
      delivery: { lingerMs: 1 },
    });
    await b.start();
    for (let i = 0; i < 100; i++) input.write(`line-${i}\n`);
    await waitFor(() => b.status().counters.delivered === 100);
    expect(inner.written).toHaveLength(0);
    expect(sink.bufferStats().bytes).toBeGreaterThan(0);
    inner.down = false;
    await waitFor(() => inner.written.length === 100);
    expect(inner.written[0]).toBe('line-0');
    await waitFor(() => sink.bufferStats().bytes === 0);
    await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
