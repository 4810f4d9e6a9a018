import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ParquetTableWriter, UrlIo, readCsvRecords, readParquetUrl } from '../../../src/io/index.js';
import { DateTime, Decimal } from '../../../src/values/index.js';
import { requireService } from '../services.js';

// Real S3-compatible server started by test/infra/up.sh.
const io = new UrlIo({
  env: {},
  s3: {
    endpoint: requireService('S3_ENDPOINT'),
    accessKeyId: requireService('S3_ACCESS_KEY_ID'),
    secretAccessKey: requireService('S3_SECRET_ACCESS_KEY'),
    region: requireService('S3_REGION'),
    forcePathStyle: /^(1|true)$/i.test(requireService('S3_FORCE_PATH_STYLE')),
  },
});
const bucket = `plexus-io-${randomBytes(4).toString('hex')}`;
const prefix = `it-${Date.now()}`;

beforeAll(async () => {
  await (await io.s3()).send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => {
  io.close();
});

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

test('write then read text, stream and temp download', async () => {
  const url = `s3://${bucket}/${prefix}/dir/out.csv`;
  const w = await io.openWrite(url);
  w.stream.write('a,b\r\n');
  w.stream.write('1,"x,y"\n');
  expect(await io.exists(url)).toBe(false); // nothing visible before commit
  await w.commit();
  expect(await io.exists(url)).toBe(true);
  expect(await io.readText(url)).toBe('a,b\r\n1,"x,y"\n');
  const recs = [];
  for await (const r of readCsvRecords(await io.openRead(url), { source: url })) recs.push(r.fields);
  expect(recs).toEqual([
    ['a', 'b'],
    ['1', 'x,y'],
  ]);
  const t = await io.downloadToTemp(url);
  expect(await fsp.readFile(t.path, 'utf8')).toBe('a,b\r\n1,"x,y"\n');
  await t.cleanup();
  await expect(fsp.stat(t.path)).rejects.toThrow();
});

test('abort uploads nothing', async () => {
  const url = `s3://${bucket}/${prefix}/aborted.csv`;
  const w = await io.openWrite(url);
  w.stream.write('partial');
  await w.abort();
  expect(await io.exists(url)).toBe(false);
});

test('multipart upload of a file larger than one part', async () => {
  const url = `s3://${bucket}/${prefix}/big.bin`;
  const part = randomBytes(1024 * 1024);
  const w = await io.openWrite(url);
  for (let i = 0; i < 12; i++) {
    if (!w.stream.write(part)) await new Promise((r) => w.stream.once('drain', r));
  }
  await w.commit();
  const head = await (
    await io.s3()
  ).send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/big.bin` }));
  expect(head.ContentLength).toBe(12 * 1024 * 1024);
  // a multipart object's ETag carries the part count ("...-3" with 5 MiB parts)
  expect(head.ETag).toMatch(/-3"?$/);
  const back = await readAll(await io.openRead(url));
  expect(back.length).toBe(12 * 1024 * 1024);
  expect(back.subarray(11 * 1024 * 1024).equals(part)).toBe(true);
  await (await io.s3()).send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}/big.bin` }));
});

test('NoSuchKey and NoSuchBucket are clear errors naming the URL', async () => {
  const missingKey = `s3://${bucket}/${prefix}/missing.csv`;
  await expect(io.readText(missingKey)).rejects.toMatchObject({
    code: 'S3_NO_SUCH_KEY',
    message: `cannot read ${missingKey}: no such key (NoSuchKey)`,
  });
  await expect(io.downloadToTemp(missingKey)).rejects.toMatchObject({ code: 'S3_NO_SUCH_KEY' });
  const missingBucket = `s3://${bucket}-nope/x.csv`;
  await expect(io.openRead(missingBucket)).rejects.toMatchObject({
    code: 'S3_NO_SUCH_BUCKET',
    message: `cannot read ${missingBucket}: the bucket does not exist (NoSuchBucket)`,
  });
  const w = await io.openWrite(missingBucket);
  w.stream.write('x');
  await expect(w.commit()).rejects.toMatchObject({ code: 'S3_NO_SUCH_BUCKET' });
});

test('an unreachable endpoint is a transient error naming the URL', async () => {
  const down = new UrlIo({
    env: {},
    s3: {
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'a',
      secretAccessKey: 'b',
      region: 'us-east-1',
      forcePathStyle: true,
    },
  });
  await expect(down.readText('s3://b/k.csv')).rejects.toMatchObject({
    name: 'TransientError',
    message: expect.stringMatching(/^cannot read s3:\/\/b\/k\.csv: .*ECONNREFUSED/),
  });
  down.close();
});

test('wrong credentials are reported', async () => {
  const bad = new UrlIo({
    env: {},
    s3: {
      endpoint: requireService('S3_ENDPOINT'),
      accessKeyId: 'wrong',
      secretAccessKey: 'wrong-secret',
      region: requireService('S3_REGION'),
      forcePathStyle: true,
    },
  });
  const url = `s3://${bucket}/${prefix}/dir/out.csv`;
  await expect(bad.readText(url)).rejects.toMatchObject({
    code: 'S3_CREDENTIALS',
    message: `cannot read ${url}: credentials rejected (InvalidAccessKeyId)`,
  });
  const w = await bad.openWrite(url);
  w.stream.write('x');
  await expect(w.commit()).rejects.toMatchObject({ code: 'S3_CREDENTIALS' });
  bad.close();
});

test('Parquet written to s3:// and read back through a temporary download', async () => {
  const url = `s3://${bucket}/${prefix}/out.parquet`;
  const w = await io.openWrite(url);
  const pq = new ParquetTableWriter(w.stream, [
    { name: 'id', type: 'int' },
    { name: 'amount', type: 'decimal2' },
    { name: 'at', type: 'datetime' },
  ]);
  await pq.writeRows([
    [1n, new Decimal('10.5'), new DateTime(1_500_000_000_000)],
    [2n, new Decimal('-0.01'), DateTime.zero()],
  ]);
  await pq.finish();
  await w.commit();
  const rows = [];
  for await (const r of readParquetUrl(
    url,
    {
      columns: [
        { name: 'id', column: 'id' },
        { name: 'amount', column: 'amount' },
        { name: 'at', column: 'at' },
      ],
    },
    io,
  )) {
    rows.push([r.id, (r.amount as Decimal).toFixed(2), (r.at as DateTime).epochMs]);
  }
  expect(rows).toEqual([
    [1n, '10.50', 1_500_000_000_000],
    [2n, '-0.01', DateTime.ZERO_EPOCH_MS],
  ]);
});
