import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserInputError } from '../../../src/errors/index.js';
import { UrlIo, parseUrl, s3SettingsFromEnv } from '../../../src/io/index.js';

let dir: string;
const io = new UrlIo({ env: {} });

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-urls-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe('parseUrl', () => {
  test('plain paths, file URLs (percent-decoded), s3 and http', () => {
    expect(parseUrl('/tmp/a b.csv')).toEqual({ scheme: 'file', path: '/tmp/a b.csv' });
    expect(parseUrl('rel/x.csv')).toEqual({ scheme: 'file', path: 'rel/x.csv' });
    expect(parseUrl('file:///tmp/a%20b.csv')).toEqual({ scheme: 'file', path: '/tmp/a b.csv' });
    expect(parseUrl('s3://bucket/dir/key.csv')).toEqual({
      scheme: 's3',
      bucket: 'bucket',
      key: 'dir/key.csv',
    });
    expect(parseUrl('https://example.com/x')).toEqual({ scheme: 'http', url: 'https://example.com/x' });
  });

  test('bad URLs are named in the error', () => {
    expect(() => parseUrl('s3://bucket')).toThrow('s3://bucket: an S3 URL must look like s3://bucket/key');
    expect(() => parseUrl('sftp://u@h/x')).toThrow(/sftp:\/\/u@h\/x: unsupported URL scheme 'sftp'/);
    expect(() => parseUrl('file://otherhost/x')).toThrow(/file:\/\/otherhost\/x: not a valid local file URL/);
    expect(() => parseUrl('')).toThrow(UserInputError);
  });
});

test('S3 settings from the environment', () => {
  expect(
    s3SettingsFromEnv({
      PLEXUS_S3_ENDPOINT: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
      PLEXUS_S3_FORCE_PATH_STYLE: 'true',
    }),
  ).toEqual({
    endpoint: 'http://127.0.0.1:9000',
    region: 'eu-west-1',
    accessKeyId: 'k',
    secretAccessKey: 's',
    forcePathStyle: true,
    partSize: undefined,
  });
  expect(s3SettingsFromEnv({ PLEXUS_S3_FORCE_PATH_STYLE: '0' }).forcePathStyle).toBe(false);
});

describe('local files', () => {
  test('write, commit, read back through a path and a file:// URL', async () => {
    const target = path.join(dir, 'out put.csv');
    const w = await io.openWrite(target);
    w.stream.write('a,b\r\n');
    w.stream.write('1,2\n');
    // nothing visible before commit
    expect(fs.existsSync(target)).toBe(false);
    await w.commit();
    expect(await fsp.readFile(target, 'utf8')).toBe('a,b\r\n1,2\n');
    expect(await io.readText(pathToFileURL(target).href)).toBe('a,b\r\n1,2\n');
    expect(await readAll(await io.openRead(target))).toBe('a,b\r\n1,2\n');
    expect(await io.exists(target)).toBe(true);
    expect(await fsp.readdir(dir)).toEqual(['out put.csv']);
  });

  test('abort leaves the previous content and no temp file', async () => {
    const target = path.join(dir, 'x.csv');
    await fsp.writeFile(target, 'old');
    const w = await io.openWrite(target);
    w.stream.write('half a fi');
    await w.abort();
    expect(await fsp.readFile(target, 'utf8')).toBe('old');
    expect(await fsp.readdir(dir)).toEqual(['x.csv']);
  });

  test('commit replaces an existing file atomically', async () => {
    const target = path.join(dir, 'x.csv');
    await fsp.writeFile(target, 'old content that is longer');
    const w = await io.openWrite(target);
    w.stream.end('new');
    await w.commit();
    expect(await fsp.readFile(target, 'utf8')).toBe('new');
    await expect(w.commit()).rejects.toThrow(/already committed/);
  });

  test('large content streams through with backpressure', async () => {
    const target = path.join(dir, 'big.txt');
    const w = await io.openWrite(target);
    const line = 'x'.repeat(99) + '\n';
    for (let i = 0; i < 50_000; i++) {
      if (!w.stream.write(line)) await new Promise((r) => w.stream.once('drain', r));
    }
    await w.commit();
    expect((await fsp.stat(target)).size).toBe(5_000_000);
  });

  test('missing parent directory is a clear error', async () => {
    const target = path.join(dir, 'nope', 'x.csv');
    await expect(io.openWrite(target)).rejects.toThrow(
      `cannot write ${target}: directory ${path.join(dir, 'nope')} does not exist`,
    );
  });

  test('missing file, directory as file', async () => {
    const missing = path.join(dir, 'missing.csv');
    await expect(io.openRead(missing)).rejects.toThrow(`cannot read ${missing}: no such file or directory`);
    await expect(io.readText(missing)).rejects.toThrow(`cannot read ${missing}: no such file or directory`);
    await expect(io.downloadToTemp(missing)).rejects.toThrow(/no such file/);
    await expect(io.openRead(dir)).rejects.toThrow(`cannot read ${dir}: it is a directory`);
    await expect(io.openWrite(dir)).rejects.toThrow(`cannot write ${dir}: it is a directory`);
    expect(await io.exists(missing)).toBe(false);
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? test.skip : test)('permission denied (not testable as root)', async () => {
    const f = path.join(dir, 'secret.csv');
    await fsp.writeFile(f, 'x');
    await fsp.chmod(f, 0o000);
    await expect(io.openRead(f)).rejects.toThrow(`cannot read ${f}: permission denied`);
  });

  test('downloadToTemp returns a local file as it is', async () => {
    const f = path.join(dir, 'in.parquet');
    await fsp.writeFile(f, 'PAR1');
    const t = await io.downloadToTemp(f);
    expect(t.path).toBe(f);
    await t.cleanup();
    expect(fs.existsSync(f)).toBe(true);
  });
});

describe('http(s) reading', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/data.csv') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('a,b\n1,2\n');
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/data.csv' });
        res.end();
      } else if (req.url === '/boom') {
        res.writeHead(503);
        res.end('busy');
      } else {
        res.writeHead(404);
        res.end('not here');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test('reads text and streams, follows redirects, downloads to a temp file', async () => {
    expect(await io.readText(`${base}/data.csv`)).toBe('a,b\n1,2\n');
    expect(await readAll(await io.openRead(`${base}/moved`))).toBe('a,b\n1,2\n');
    const t = await io.downloadToTemp(`${base}/data.csv`);
    expect(await fsp.readFile(t.path, 'utf8')).toBe('a,b\n1,2\n');
    await t.cleanup();
    expect(fs.existsSync(t.path)).toBe(false);
    expect(await io.exists(`${base}/data.csv`)).toBe(true);
    expect(await io.exists(`${base}/nothing`)).toBe(false);
  });

  test('HTTP status errors name the URL', async () => {
    await expect(io.readText(`${base}/nothing`)).rejects.toThrow(
      `cannot read ${base}/nothing: HTTP 404 Not Found`,
    );
    await expect(io.openRead(`${base}/boom`)).rejects.toMatchObject({
      name: 'TransientError',
      message: `cannot read ${base}/boom: HTTP 503 Service Unavailable`,
    });
  });

  test('connection refused is transient and names the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(io.readText(`http://127.0.0.1:${port}/x`)).rejects.toMatchObject({
      name: 'TransientError',
      message: `cannot read http://127.0.0.1:${port}/x: ECONNREFUSED`,
    });
  });

  test('http is read-only', async () => {
    await expect(io.openWrite(`${base}/x`)).rejects.toThrow(/read-only/);
  });
});

test('an error while streaming names the URL', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100000' });
    res.write('a,b\n1,2\n');
    setTimeout(() => res.destroy(), 20); // connection dies mid-body
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/broken.csv`;
  try {
    const s = await io.openRead(url);
    await expect(readAll(s)).rejects.toMatchObject({
      name: 'TransientError',
      message: expect.stringContaining(`cannot read ${url}:`),
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
});
