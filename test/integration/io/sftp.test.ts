import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { utils as sshUtils } from 'ssh2';
import { UrlIo, type UrlIoOptions } from '../../../src/io/index.js';
import { silentLogger } from '../../../src/obs/index.js';
import { requireService } from '../services.js';

// Real OpenSSH sshd started by test/infra/up.sh (service sftp). The server runs on this machine, so the
// tests look at its files directly under SFTP_ROOT as well.
const HOST = requireService('SFTP_HOST');
const PORT = Number(requireService('SFTP_PORT'));
const DENY_PORT = Number(requireService('SFTP_DENY_PORT'));
const USER = requireService('SFTP_USER');
const KEY = requireService('SFTP_PRIVATE_KEY');
const KNOWN_HOSTS = requireService('SFTP_KNOWN_HOSTS');
const ROOT = requireService('SFTP_ROOT');

const TIMEOUT = 60_000;
const runDir = path.join(ROOT, `io-${process.pid}-${randomBytes(4).toString('hex')}`);
const base = `sftp://${USER}@${HOST}:${PORT}${runDir}`;
let localDir: string;

function newIo(extra: Partial<UrlIoOptions['sftp']> = {}, opts: Omit<UrlIoOptions, 'sftp'> = {}): UrlIo {
  return new UrlIo({
    env: {},
    tmpDir: localDir,
    ...opts,
    sftp: { privateKeys: { [USER]: KEY }, knownHosts: KNOWN_HOSTS, ...extra },
  });
}

let io: UrlIo;

beforeAll(async () => {
  await fsp.mkdir(runDir, { recursive: true });
  localDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-sftp-it-'));
  io = newIo();
});
afterAll(async () => {
  io.close();
  await fsp.rm(runDir, { recursive: true, force: true });
  await fsp.rm(localDir, { recursive: true, force: true });
});

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

async function writeAll(w: Writable, data: Buffer, chunk = 256 * 1024): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) {
    if (!w.write(data.subarray(i, i + chunk))) await new Promise((r) => w.once('drain', r));
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test(
  'write, then read as text, as a stream and as a downloaded temp file; exists',
  async () => {
    const url = `${base}/out.csv`;
    expect(await io.exists(url)).toBe(false);
    const w = await io.openWrite(url);
    w.stream.write('a,b\r\n');
    w.stream.write('1,"x,y"\n');
    expect(await io.exists(url)).toBe(false); // nothing visible before commit
    await w.commit();
    expect(await io.exists(url)).toBe(true);
    expect(await fsp.readFile(path.join(runDir, 'out.csv'), 'utf8')).toBe('a,b\r\n1,"x,y"\n');
    expect(await io.readText(url)).toBe('a,b\r\n1,"x,y"\n');
    expect((await readAll(await io.openRead(url))).toString()).toBe('a,b\r\n1,"x,y"\n');
    const t = await io.downloadToTemp(url);
    expect(path.dirname(t.path)).toBe(localDir);
    expect(await fsp.readFile(t.path, 'utf8')).toBe('a,b\r\n1,"x,y"\n');
    await t.cleanup();
    expect(fs.existsSync(t.path)).toBe(false);
    // no temporary files left on either side
    expect(await fsp.readdir(runDir)).toEqual(['out.csv']);
    expect(await fsp.readdir(localDir)).toEqual([]);
  },
  TIMEOUT,
);

test(
  'a file name with spaces and other characters, percent-encoded in the URL',
  async () => {
    const url = `${base}/a%20b%23%3F%25.txt`;
    const w = await io.openWrite(url);
    w.stream.end('odd name');
    await w.commit();
    expect(await fsp.readFile(path.join(runDir, 'a b#?%.txt'), 'utf8')).toBe('odd name');
    expect(await io.readText(url)).toBe('odd name');
  },
  TIMEOUT,
);

test(
  'commit replaces a file atomically: a reader sees the old or the whole new content, never a part',
  async () => {
    const name = 'replace.bin';
    const target = path.join(runDir, name);
    const old = Buffer.from('old content\n');
    await fsp.writeFile(target, old);
    const fresh = randomBytes(8 * 1024 * 1024);
    const w = await io.openWrite(`${base}/${name}`);
    await writeAll(w.stream, fresh);
    let done = false;
    const seen = new Set<string>();
    const tmpNames = new Set<string>();
    const watcher = (async () => {
      while (!done) {
        const content = await fsp.readFile(target);
        seen.add(content.equals(old) ? 'old' : content.equals(fresh) ? 'new' : `partial:${content.length}`);
        for (const f of await fsp.readdir(runDir)) if (f.startsWith('.')) tmpNames.add(f);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await w.commit();
    done = true;
    await watcher;
    expect([...seen].filter((s) => s.startsWith('partial'))).toEqual([]);
    expect(seen.has('old')).toBe(true); // the upload took a while and the old file was there meanwhile
    expect(sha(await fsp.readFile(target))).toBe(sha(fresh));
    // the upload went to a hidden temporary name beside the target
    expect([...tmpNames].every((f) => new RegExp(`^\\.${name}\\.\\d+\\.[0-9a-f]{12}\\.tmp$`).test(f))).toBe(
      true,
    );
    expect(tmpNames.size).toBe(1);
    expect(await fsp.readdir(runDir)).not.toContain([...tmpNames][0]);
  },
  TIMEOUT,
);

test(
  'abort keeps the old content and leaves nothing behind',
  async () => {
    const target = path.join(runDir, 'keep.csv');
    await fsp.writeFile(target, 'old');
    const before = await fsp.readdir(runDir);
    const w = await io.openWrite(`${base}/keep.csv`);
    w.stream.write('half a fi');
    await w.abort();
    expect(await fsp.readFile(target, 'utf8')).toBe('old');
    expect(await fsp.readdir(runDir)).toEqual(before);
    expect(await fsp.readdir(localDir)).toEqual([]);
  },
  TIMEOUT,
);

test(
  'large files (24 MiB) go up and come down intact',
  async () => {
    const data = randomBytes(24 * 1024 * 1024);
    const url = `${base}/big.bin`;
    const w = await io.openWrite(url);
    await writeAll(w.stream, data);
    await w.commit();
    expect((await fsp.stat(path.join(runDir, 'big.bin'))).size).toBe(data.length);
    expect(sha(await fsp.readFile(path.join(runDir, 'big.bin')))).toBe(sha(data));
    expect(sha(await readAll(await io.openRead(url)))).toBe(sha(data));
    const t = await io.downloadToTemp(url);
    expect(sha(await fsp.readFile(t.path))).toBe(sha(data));
    await t.cleanup();
    // the stream's local copy is gone once the stream is closed
    await new Promise((r) => setTimeout(r, 50));
    expect(await fsp.readdir(localDir)).toEqual([]);
  },
  TIMEOUT,
);

test(
  'operations at the same time share one connection, closed once idle and opened again later',
  async () => {
    // connections are counted at a proxy in front of the server (its port is not in known_hosts)
    const proxy = await stallableProxy();
    const shared = newIo({ knownHosts: undefined, idleTimeoutMs: 1500 }, { logger: silentLogger() });
    const viaProxy = `sftp://${USER}@127.0.0.1:${proxy.port}${runDir}`;
    try {
      const names = Array.from({ length: 8 }, (_, i) => `par-${i}.txt`);
      await Promise.all(names.map((n) => fsp.writeFile(path.join(runDir, n), n)));
      const texts = await Promise.all(names.map((n) => shared.readText(`${viaProxy}/${n}`)));
      expect(texts).toEqual(names);
      expect(await shared.exists(`${viaProxy}/${names[0]}`)).toBe(true);
      expect(proxy.connections()).toBe(1);
      // idle for longer than 1.5 s: closed; the next operation connects again
      await new Promise((r) => setTimeout(r, 4000));
      expect(await shared.readText(`${viaProxy}/${names[1]}`)).toBe(names[1]);
      expect(proxy.connections()).toBe(2);
    } finally {
      shared.close();
      await proxy.close();
    }
  },
  TIMEOUT,
);

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  const ok = (): boolean => {
    try {
      return check();
    } catch {
      return false; // e.g. a file listed and gone before its stat
    }
  };
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('errors name the URL and say what is wrong', () => {
  test(
    'missing file, missing directory, a directory where a file is expected',
    async () => {
      const missing = `${base}/missing.csv`;
      await expect(io.readText(missing)).rejects.toMatchObject({
        name: 'UserInputError',
        code: 'SFTP_NO_SUCH_FILE',
        message: `cannot read ${missing}: no such file or directory`,
      });
      await expect(io.openRead(missing)).rejects.toThrow(`cannot read ${missing}: no such file or directory`);
      await expect(io.downloadToTemp(missing)).rejects.toThrow(/no such file or directory/);
      expect(await io.exists(missing)).toBe(false);
      const inMissingDir = `${base}/nodir/x.csv`;
      await expect(io.openWrite(inMissingDir)).rejects.toMatchObject({
        name: 'UserInputError',
        code: 'DIR_NOT_FOUND',
        message: `cannot write ${inMissingDir}: directory ${runDir}/nodir does not exist on ${HOST}`,
      });
      await fsp.mkdir(path.join(runDir, 'adir'), { recursive: true });
      await expect(io.readText(`${base}/adir`)).rejects.toThrow(
        `cannot read ${base}/adir: it is a directory`,
      );
      await expect(io.openWrite(`${base}/adir`)).rejects.toThrow(
        `cannot write ${base}/adir: it is a directory`,
      );
      expect(await fsp.readdir(localDir)).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    'permission denied when reading and when writing',
    async () => {
      await fsp.writeFile(path.join(runDir, 'guarded.csv'), 'x');
      const denied = `sftp://${USER}@${HOST}:${DENY_PORT}${runDir}/guarded.csv`;
      await expect(io.readText(denied)).rejects.toMatchObject({
        name: 'UserInputError',
        code: 'SFTP_PERMISSION_DENIED',
        message: `cannot read ${denied}: permission denied`,
      });
      const w = await io.openWrite(denied);
      w.stream.end('new');
      await expect(w.commit()).rejects.toMatchObject({
        name: 'UserInputError',
        message: `cannot write ${denied}: permission denied`,
      });
      expect(await fsp.readFile(path.join(runDir, 'guarded.csv'), 'utf8')).toBe('x');
      expect(await fsp.readdir(localDir)).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    'no key for the user; a key the server does not accept (its content never shown)',
    async () => {
      const other = `sftp://somebody@${HOST}:${PORT}${runDir}/x.csv`;
      await expect(io.readText(other)).rejects.toMatchObject({
        name: 'UserInputError',
        code: 'SFTP_NO_KEY',
        message: `cannot read ${other}: no private key for user 'somebody': add it to PLEXUS_SFTP_PRIVATE_KEYS (e.g. somebody=/path/to/key); keys are set for: ${USER}`,
      });
      const stranger = sshUtils.generateKeyPairSync('ed25519');
      const keyFile = path.join(localDir, 'stranger_key');
      await fsp.writeFile(keyFile, stranger.private, { mode: 0o600 });
      const refused = newIo({ privateKeys: { [USER]: keyFile } });
      try {
        const url = `${base}/out.csv`;
        const err = (await refused.readText(url).catch((e: unknown) => e)) as Error;
        expect(err).toMatchObject({
          name: 'UserInputError',
          code: 'SFTP_AUTH_REFUSED',
          message: `cannot read ${url}: authentication refused: ${USER}@${HOST}:${PORT} did not accept the private key ${keyFile} of user '${USER}'`,
        });
        expect(err.message).not.toContain(stranger.private.split('\n')[1] ?? '-');
      } finally {
        refused.close();
        await fsp.rm(keyFile);
      }
    },
    TIMEOUT,
  );

  test(
    'host key checking: a different key for the host, a host not listed',
    async () => {
      const fake = sshUtils.generateKeyPairSync('ed25519');
      const fakeBlob = fake.public.split(' ')[1];
      const mismatchFile = path.join(localDir, 'kh-mismatch');
      await fsp.writeFile(mismatchFile, `[${HOST}]:${PORT} ssh-ed25519 ${fakeBlob}\n`);
      const unknownFile = path.join(localDir, 'kh-unknown');
      await fsp.writeFile(unknownFile, `other.example.org ssh-ed25519 ${fakeBlob}\n`);
      const url = `${base}/out.csv`;
      const mismatch = newIo({ knownHosts: mismatchFile });
      const unknown = newIo({ knownHosts: unknownFile });
      const noFile = newIo({ knownHosts: path.join(localDir, 'nope') });
      try {
        await expect(mismatch.readText(url)).rejects.toMatchObject({
          name: 'UserInputError',
          code: 'SFTP_HOST_KEY_MISMATCH',
          message: expect.stringMatching(
            new RegExp(
              `^cannot read ${esc(url)}: the host key of \\[${esc(HOST)}\\]:${PORT} \\(ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}\\) does not match the known_hosts file ${esc(mismatchFile)} \\(it lists ssh-ed25519 for this host\\)`,
            ),
          ),
        });
        await expect(unknown.exists(url)).rejects.toMatchObject({
          name: 'UserInputError',
          code: 'SFTP_HOST_KEY_UNKNOWN',
          message: expect.stringContaining(
            `cannot check ${url}: [${HOST}]:${PORT} is not in the known_hosts file ${unknownFile} (its host key: ssh-ed25519 SHA256:`,
          ),
        });
        await expect(noFile.readText(url)).rejects.toThrow(
          `cannot read ${url}: the known_hosts file ${path.join(localDir, 'nope')} (PLEXUS_SFTP_KNOWN_HOSTS) cannot be read: no such file`,
        );
      } finally {
        mismatch.close();
        unknown.close();
        noFile.close();
        await fsp.rm(mismatchFile);
        await fsp.rm(unknownFile);
      }
    },
    TIMEOUT,
  );

  test(
    'connection refused, reset and a server that never answers are transient',
    async () => {
      const closedPort = await freePort();
      const refusedUrl = `sftp://${USER}@127.0.0.1:${closedPort}/x.csv`;
      await expect(io.readText(refusedUrl)).rejects.toMatchObject({
        name: 'TransientError',
        code: 'SFTP_CONNECTION',
        message: `cannot read ${refusedUrl}: ECONNREFUSED`,
      });

      // accepts and drops every connection at once
      const resetting = net.createServer((s) => s.resetAndDestroy());
      // accepts and says nothing (no SSH banner)
      const silent = new Set<net.Socket>();
      const mute = net.createServer((s) => silent.add(s));
      await Promise.all([listen(resetting), listen(mute)]);
      const quick = newIo({ connectTimeoutMs: 700 });
      try {
        const resetUrl = `sftp://${USER}@127.0.0.1:${port(resetting)}/x.csv`;
        await expect(quick.readText(resetUrl)).rejects.toMatchObject({
          name: 'TransientError',
          message: expect.stringMatching(new RegExp(`^cannot read ${esc(resetUrl)}: `)),
        });
        const muteUrl = `sftp://${USER}@127.0.0.1:${port(mute)}/x.csv`;
        const t0 = Date.now();
        await expect(quick.openWrite(muteUrl)).rejects.toMatchObject({
          name: 'TransientError',
          code: 'SFTP_TIMEOUT',
          message: `cannot write ${muteUrl}: timed out (Timed out while waiting for handshake)`,
        });
        expect(Date.now() - t0).toBeLessThan(10_000);
      } finally {
        quick.close();
        for (const s of silent) s.destroy();
        await Promise.all([close(resetting), close(mute)]);
      }
    },
    TIMEOUT,
  );
});

/**
 * A TCP proxy to the SFTP server that counts connections, can stop passing the server's data on (now, or on new connections after
 * a number of bytes), or cut every connection.
 */
async function stallableProxy(): Promise<{
  port: number;
  stall(): void;
  stallAfter(bytes: number): void;
  /** Connections accepted so far. */
  connections(): number;
  cut(): void;
  close(): Promise<void>;
}> {
  interface Pair {
    client: net.Socket;
    upstream: net.Socket;
    stalled: boolean;
  }
  const pairs = new Set<Pair>();
  let limit = Infinity;
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(PORT, HOST);
    const pair: Pair = { client, upstream, stalled: false };
    const pairLimit = limit;
    let passed = 0;
    pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.stalled && passed + chunk.length > pairLimit) pair.stalled = true;
      if (pair.stalled) {
        upstream.pause(); // the server's data stops here
        return;
      }
      passed += chunk.length;
      client.write(chunk);
    });
  });
  await listen(server);
  const destroyAll = (): void => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    port: port(server),
    stall: () => {
      for (const pair of pairs) {
        pair.stalled = true;
        pair.upstream.pause();
      }
    },
    stallAfter: (bytes) => {
      limit = bytes;
    },
    connections: () => accepted,
    cut: destroyAll,
    close: async () => {
      destroyAll();
      await close(server);
    },
  };
}

test(
  'a server that stops answering during an operation, or a connection cut mid-transfer: transient errors',
  async () => {
    const data = randomBytes(16 * 1024 * 1024);
    await fsp.writeFile(path.join(runDir, 'far.bin'), data);
    const proxy = await stallableProxy();
    // the proxy's port is not in known_hosts: host keys are not checked here
    // 3 s without data counts as a stalled server: long enough for a loaded machine not to trip it by itself
    const viaProxy = newIo({ knownHosts: undefined, ioTimeoutMs: 3000 }, { logger: silentLogger() });
    try {
      const url = `sftp://${USER}@127.0.0.1:${proxy.port}${runDir}/far.bin`;
      expect(await viaProxy.exists(url)).toBe(true); // connected, and kept for the next operation
      proxy.stall();
      const t0 = Date.now();
      await expect(viaProxy.readText(url)).rejects.toMatchObject({
        name: 'TransientError',
        code: 'SFTP_TIMEOUT',
        message: `cannot read ${url}: no data from the server for 3000 ms`,
      });
      expect(Date.now() - t0).toBeLessThan(10_000);

      // a fresh connection, cut while the 16 MiB download runs (the proxy holds it after 1 MiB, so it cannot
      // finish before the cut)
      proxy.stallAfter(1024 * 1024);
      const pending = viaProxy.downloadToTemp(url);
      await eventually(() =>
        fs.readdirSync(localDir).some((f) => fs.statSync(path.join(localDir, f)).size > 0),
      );
      proxy.cut();
      const cutErr = (await pending.catch((e: unknown) => e)) as Error;
      expect(cutErr).toMatchObject({ name: 'TransientError' });
      expect(cutErr.message).toMatch(new RegExp(`^cannot read ${esc(url)}: `));
      expect(await fsp.readdir(localDir)).toEqual([]); // the partial download is gone
      // and the next operation connects again
      proxy.stallAfter(Infinity);
      expect(sha(await readAll(await viaProxy.openRead(url)))).toBe(sha(data));
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  },
  TIMEOUT,
);

test(
  'without a known_hosts file the host key is accepted and its fingerprint logged once',
  async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    // the deny port: a host:port no other test of this process reads without known_hosts
    const url = `sftp://${USER}@${HOST}:${DENY_PORT}${runDir}/out.csv`;
    const trusting = newIo({ knownHosts: undefined, idleTimeoutMs: 100 }, { logger });
    try {
      expect(await trusting.exists(url)).toBe(true);
      trusting.close(); // the next check opens a new connection: the key is seen again, not logged again
      expect(await trusting.exists(url)).toBe(true);
    } finally {
      trusting.close();
    }
    const hostPub = (await fsp.readFile(KNOWN_HOSTS, 'utf8')).split('\n')[0]?.split(' ')[2] ?? '';
    const fp = `SHA256:${createHash('sha256').update(Buffer.from(hostPub, 'base64')).digest('base64').replace(/=+$/, '')}`;
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; level: number; hostKey: string });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 30,
      hostKey: `ssh-ed25519 ${fp}`,
      msg: `sftp: accepted the host key of [${HOST}]:${DENY_PORT} (ssh-ed25519 ${fp}) without checking it: PLEXUS_SFTP_KNOWN_HOSTS is not set`,
    });
  },
  TIMEOUT,
);

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await listen(s);
  const p = port(s);
  await close(s);
  return p;
}
function listen(s: net.Server): Promise<void> {
  return new Promise((r) => s.listen(0, '127.0.0.1', r));
}
function port(s: net.Server): number {
  return (s.address() as net.AddressInfo).port;
}
function close(s: net.Server): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}
