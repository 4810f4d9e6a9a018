import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DiskBuffer,
  encodeRecord,
  readSegment,
  scanSegment,
  type DiskBufferOptions,
  type BridgeMessage,
} from '../../../src/bridge/index.js';
import { msg, until } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-buf-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function buffer(extra: Partial<DiskBufferOptions> = {}): DiskBuffer {
  return new DiskBuffer({
    dir,
    commitFileBytes: 1024 * 1024,
    commitDurationMs: 60_000,
    maxBufferBytes: 0,
    fsync: 'always',
    fsyncIntervalMs: 20,
    ...extra,
  });
}

async function records(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readSegment(file)) out.push(r.msg.data.toString());
  return out;
}

describe('segment records', () => {
  it('round-trip payloads and attributes, and find a torn tail', async () => {
    const f = path.join(dir, 's.seg');
    const a = encodeRecord(msg('first', { key: 'k', headers: { h: 'v' } }));
    const b = encodeRecord(msg('second'));
    fs.writeFileSync(f, Buffer.concat([a, b, b.subarray(0, 7)]));
    const seen: BridgeMessage[] = [];
    await expect(
      (async () => {
        for await (const r of readSegment(f)) seen.push(r.msg);
      })(),
    ).rejects.toThrow(/torn record at byte/);
    expect(seen.map((m) => m.data.toString())).toEqual(['first', 'second']);
    expect(seen[0]?.attributes).toEqual({ key: 'k', headers: { h: 'v' } });
    const scan = await scanSegment(f);
    expect(scan).toMatchObject({ records: 2, validBytes: a.length + b.length, damage: { kind: 'torn' } });
  });

  it('flags a damaged record in the middle as corrupt', async () => {
    const f = path.join(dir, 's.seg');
    const a = encodeRecord(msg('aaaa'));
    const b = Buffer.from(encodeRecord(msg('bbbb')));
    b.writeUInt8(b.readUInt8(b.length - 1) ^ 0xff, b.length - 1);
    fs.writeFileSync(f, Buffer.concat([a, b, encodeRecord(msg('cccc'))]));
    const scan = await scanSegment(f);
    expect(scan).toMatchObject({ records: 1, validBytes: a.length, damage: { kind: 'corrupt' } });
  });
});

describe('DiskBuffer', () => {
  it('commits by size into timestamped segments, oldest first', async () => {
    const commits: string[] = [];
    const b = buffer({ commitFileBytes: 200, onCommit: (s) => commits.push(s) });
    await b.open();
    for (let i = 0; i < 20; i++)
      await b.append([msg(`message-${String(i).padStart(3, '0')}-${'x'.repeat(20)}`)]);
    await b.commit();
    const segs = b.segments();
    expect(segs.length).toBeGreaterThan(2);
    expect(commits).toEqual(segs.map((s) => s.name));
    for (const s of segs) expect(s.name).toMatch(/^\d{13}-\d{6}\.seg$/);
    const all: string[] = [];
    for (const s of segs) all.push(...(await records(s.path)));
    expect(all).toHaveLength(20);
    expect(all[0]).toMatch(/^message-000/);
    expect(all[19]).toMatch(/^message-019/);
    expect(b.stats()).toEqual({
      bytes: segs.reduce((n, s) => n + s.bytes, 0),
      files: segs.length,
      maxBytes: 0,
    });
    await b.close();
  });

  it('commits by age', async () => {
    const b = buffer({ commitDurationMs: 400 });
    await b.open();
    await b.append([msg('a'), msg('b')]);
    expect(b.segments()).toHaveLength(0);
    // committed once the active file is older than 400 ms (polled: the timer and the rename are asynchronous)
    await until('committed by age', () => b.segments().length > 0);
    expect(b.segments()).toHaveLength(1);
    expect(await records((b.segments()[0] as { path: string }).path)).toEqual(['a', 'b']);
    await b.close();
  });

  it('on open, commits what a killed process left and cuts a torn last record', async () => {
    fs.mkdirSync(path.join(dir, 'committed'), { recursive: true });
    const good = Buffer.concat([encodeRecord(msg('one')), encodeRecord(msg('two'))]);
    const torn = encodeRecord(msg('three')).subarray(0, 10);
    fs.writeFileSync(path.join(dir, 'active.seg'), Buffer.concat([good, torn]));
    fs.writeFileSync(
      path.join(dir, 'committed', '0001700000000000-000000.seg'.slice(3)),
      encodeRecord(msg('older')),
    );
    const discards: string[] = [];
    const b = buffer({ onDiscard: (r, n) => discards.push(`${r}:${n}`) });
    await b.open();
    const segs = b.segments();
    expect(segs).toHaveLength(2);
    expect(await records((segs[0] as { path: string }).path)).toEqual(['older']);
    expect(await records((segs[1] as { path: string }).path)).toEqual(['one', 'two']);
    expect(fs.existsSync(path.join(dir, 'active.seg'))).toBe(false);
    expect(discards).toEqual(['torn-record:1']);
    await b.close();
  });

  it('quarantines the damaged tail of the active segment and keeps its valid records', async () => {
    const a = encodeRecord(msg('ok'));
    const bad = Buffer.from(encodeRecord(msg('bad!')));
    bad.writeUInt8(bad.readUInt8(9) ^ 0xff, 9);
    fs.writeFileSync(path.join(dir, 'active.seg'), Buffer.concat([a, bad, encodeRecord(msg('after'))]));
    const discards: string[] = [];
    const b = buffer({ onDiscard: (r, n) => discards.push(`${r}:${n}`) });
    await b.open();
    expect(await records((b.segments()[0] as { path: string }).path)).toEqual(['ok']);
    expect(discards).toEqual(['corrupt-tail:1']);
    const q = fs.readdirSync(path.join(dir, 'quarantine'));
    expect(q).toHaveLength(1);
    expect(fs.statSync(path.join(dir, 'quarantine', q[0] as string)).size).toBeGreaterThan(0);
    await b.close();
  });

  it('applies backpressure when full and resumes once a segment is removed', async () => {
    const b = buffer({ commitFileBytes: 100, maxBufferBytes: 300 });
    await b.open();
    const payload = 'y'.repeat(80);
    for (let i = 0; i < 3; i++) await b.append([msg(payload)]);
    let done = false;
    const blocked = b.append([msg(payload)]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(b.stats().bytes).toBeLessThanOrEqual(300);
    await b.remove((b.segments()[0] as { name: string }).name);
    await blocked;
    expect(done).toBe(true);
    await b.close();
  });

  it('fsync interval: appends resolve after the next timed sync', async () => {
    const b = buffer({ fsync: 'interval', fsyncIntervalMs: 30 });
    await b.open();
    let synced = false;
    const appends = Promise.all([b.append([msg('a')]), b.append([msg('b')])]).then(() => (synced = true));
    // a timer set now, on the same event-loop clock as the buffer's sync timer, fires before the 30 ms sync
    await new Promise((r) => setTimeout(r, 20));
    expect(synced).toBe(false);
    await appends;
    await b.commit();
    expect(await records((b.segments()[0] as { path: string }).path)).toEqual(['a', 'b']);
    await b.close();
  });

  it('quarantine moves a committed segment aside and frees its space', async () => {
    const b = buffer();
    await b.open();
    await b.append([msg('x')]);
    await b.commit();
    const seg = b.segments()[0] as { name: string };
    const target = await b.quarantine(seg.name, 'test');
    expect(fs.existsSync(target)).toBe(true);
    expect(b.stats()).toMatchObject({ bytes: 0, files: 0 });
    await b.close();
  });

  it('never reuses a segment name, even within one millisecond', async () => {
    const clock = { now: () => 1_700_000_000_000, sleep: () => Promise.resolve() };
    const b = buffer({ clock });
    await b.open();
    for (let i = 0; i < 3; i++) {
      await b.append([msg(String(i))]);
      await b.commit();
    }
    expect(b.segments().map((s) => s.name)).toEqual([
      '1700000000000-000000.seg',
      '1700000000000-000001.seg',
      '1700000000000-000002.seg',
    ]);
    await b.close();
  });
});
