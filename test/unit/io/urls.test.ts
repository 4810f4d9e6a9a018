import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
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
    expect(() => parseUrl('ftp://u@h/x')).toThrow(
      "ftp://u@h/x: unsupported URL scheme 'ftp' (supported: local paths, file://, s3://, sftp://, http://, https://)",
    );
    expect(() => parseUrl('file://otherhost/x')).toThrow(/file:\/\/otherhost\/x: not a valid local file URL/);
    expect(() => parseUrl('')).toThrow(UserInputError);
  });
});

describe('parseUrl: sftp', () => {
  test('user, host, port (22 by default) and the absolute path, percent-decoded', () => {
    expect(parseUrl('sftp://alice@files.example.org/data/in.csv')).toEqual({
      scheme: 'sftp',
      user: 'alice',
      host: 'files.example.org',
      port: 22,
      path: '/data/in.csv',
    });
    expect(parseUrl('SFTP://svc%2Bio@10.1.2.3:2222/a%20b/c%3F.csv')).toEqual({
      scheme: 'sftp',
      user: 'svc+io',
      host: '10.1.2.3',
      port: 2222,
      path: '/a b/c?.csv',
    });
    expect(parseUrl('sftp://u@[::1]:2200/x')).toMatchObject({ host: '::1', port: 2200, path: '/x' });
  });

  test('malformed sftp URLs say what is missing', () => {
    const shape = 'an SFTP URL must look like sftp://user@host[:port]/absolute/path';
    expect(() => parseUrl('sftp://host/x')).toThrow(`sftp://host/x: the user is missing: ${shape}`);
    expect(() => parseUrl('sftp://u@host')).toThrow(`sftp://u@host: the file path is missing: ${shape}`);
    expect(() => parseUrl('sftp://u@host/')).toThrow(`sftp://u@host/: the file path is missing: ${shape}`);
    expect(() => parseUrl('sftp://u@host:99999/x')).toThrow(
      `sftp://u@host:99999/x: not a valid URL: ${shape}`,
    );
    expect(() => parseUrl('sftp://u@host/x?y')).toThrow(/'\?' and '#' are not part of an SFTP path/);
    expect(() => parseUrl('sftp://u@host/%E0%A4%A')).toThrow(/malformed percent-encoding/);
    // a password is refused and never echoed
    let message = '';
    try {
      parseUrl('sftp://u:s3cret@host/x');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'sftp://u:***@host/x: passwords in sftp:// URLs are not supported: sftp authenticates with a private key per user (PLEXUS_SFTP_PRIVATE_KEYS)',
    );
  });

  test('a missing key or a malformed key map fails sftp access only, with the variable named', async () => {
    const noKeys = new UrlIo({ env: {} });
    await expect(noKeys.readText('sftp://alice@127.0.0.1:9/data/x.csv')).rejects.toMatchObject({
      name: 'UserInputError',
      code: 'SFTP_NO_KEY',
      message:
        "cannot read sftp://alice@127.0.0.1:9/data/x.csv: no private key for user 'alice': add it to PLEXUS_SFTP_PRIVATE_KEYS (e.g. alice=/path/to/key); it is not set",
    });
    const badMap = new UrlIo({ env: { PLEXUS_SFTP_PRIVATE_KEYS: 'alice' } });
    await expect(badMap.exists('sftp://alice@127.0.0.1:9/x')).rejects.toThrow(
      /PLEXUS_SFTP_PRIVATE_KEYS: 'alice' is not user=keyfile/,
    );
    // local files are not affected by it
    const f = path.join(dir, 'local.txt');
    await fsp.writeFile(f, 'ok');
    expect(await badMap.readText(f)).toBe('ok');
  });

  test('a key file that is missing or not a private key is named, its content never shown', async () => {
    const pub = path.join(dir, 'id.pub');
    await fsp.writeFile(
      pub,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPiZRnWMO1EBxgHTaUPxWSmBIJpfvCBCN/9Cz0CBg/2Z k\n',
    );
    const garbage = path.join(dir, 'garbage');
    await fsp.writeFile(garbage, 'SECRET-LOOKING-TEXT');
    const missing = path.join(dir, 'nope');
    const io2 = new UrlIo({ env: {}, sftp: { privateKeys: { a: pub, b: garbage, c: missing } } });
    await expect(io2.readText('sftp://a@127.0.0.1:9/x')).rejects.toThrow(
      new RegExp(
        `cannot read sftp://a@127.0.0.1:9/x: the private key file ${pub} of user 'a' \\(PLEXUS_SFTP_PRIVATE_KEYS\\) cannot be used`,
      ),
    );
    const err = await io2.readText('sftp://b@127.0.0.1:9/x').catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name: 'UserInputError', code: 'SFTP_KEY_INVALID' });
    expect((err as Error).message).not.toContain('SECRET-LOOKING-TEXT');
    await expect(io2.readText('sftp://c@127.0.0.1:9/x')).rejects.toThrow(
      `cannot read sftp://c@127.0.0.1:9/x: the private key file ${missing} of user 'c' (PLEXUS_SFTP_PRIVATE_KEYS) cannot be read: no such file`,
    );
    io2.close();
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

describe('https with a custom CA directory (PLEXUS_CA_PATH)', () => {
  const tlsDir = path.resolve(import.meta.dirname ?? '.', '../../fixtures/tls');
  const caDir = path.join(tlsDir, 'ca');
  let server: https.Server;
  let base: string;
  beforeAll(async () => {
    server = https.createServer(
      {
        key: fs.readFileSync(path.join(tlsDir, 'server.key')),
        cert: fs.readFileSync(path.join(tlsDir, 'server.pem')),
      },
      (req, res) => {
        if (req.url === '/data.csv') {
          res.writeHead(200, { 'content-type': 'text/csv' });
          res.end('a,b\n1,2\n');
        } else if (req.url === '/moved') {
          res.writeHead(302, { location: '/data.csv' });
          res.end();
        } else {
          res.writeHead(404);
          res.end();
        }
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('a server certified by a CA of the directory is trusted (reads, redirects, HEAD, downloads)', async () => {
    const caIo = new UrlIo({ env: { PLEXUS_CA_PATH: caDir } });
    try {
      expect(await caIo.readText(`${base}/data.csv`)).toBe('a,b\n1,2\n');
      expect(await readAll(await caIo.openRead(`${base}/moved`))).toBe('a,b\n1,2\n');
      expect(await caIo.exists(`${base}/data.csv`)).toBe(true);
      expect(await caIo.exists(`${base}/nothing`)).toBe(false);
      const t = await caIo.downloadToTemp(`${base}/data.csv`);
      expect(await fsp.readFile(t.path, 'utf8')).toBe('a,b\n1,2\n');
      await t.cleanup();
      await expect(caIo.readText(`${base}/nothing`)).rejects.toThrow(`cannot read ${base}/nothing: HTTP 404`);
    } finally {
      caIo.close();
    }
  });

  test('without the CA the certificate is not trusted: a user error that names the setting', async () => {
    await expect(io.readText(`${base}/data.csv`)).rejects.toMatchObject({
      name: 'UserInputError',
      code: 'HTTP_TLS',
      message: `cannot read ${base}/data.csv: the server's certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); put the certificate of a private CA in the directory PLEXUS_CA_PATH names`,
    });
  });

  test('a CA directory that is missing, empty of certificates or holds a broken one is named', async () => {
    const missing = path.join(dir, 'no-such-dir');
    const mk = (ca: string): UrlIo => new UrlIo({ env: {}, caPath: ca });
    await expect(mk(missing).readText(`${base}/data.csv`)).rejects.toThrow(
      `PLEXUS_CA_PATH=${missing}: cannot read the CA directory: no such directory`,
    );
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'no certificates here');
    await expect(mk(dir).readText(`${base}/data.csv`)).rejects.toThrow(
      `PLEXUS_CA_PATH=${dir}: the CA directory holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    const broken = path.join(dir, 'broken.pem');
    await fsp.writeFile(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await expect(mk(dir).readText(`${base}/data.csv`)).rejects.toThrow(
      `PLEXUS_CA_PATH: ${broken} holds a certificate that does not parse`,
    );
  });
});
