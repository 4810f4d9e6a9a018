import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Client, ConnectConfig, SFTPWrapper, Stats } from 'ssh2';
import { PlexusError, TransientError, UserInputError, errorMessage } from '../errors/index.js';
import type { Logger } from '../obs/index.js';
import {
  blobKeyType,
  checkHostKey,
  hostKeyFingerprint,
  knownHostName,
  parseKnownHosts,
} from './known-hosts.js';

/**
 * sftp:// URLs (`sftp://user@host[:port]/absolute/path`) through ssh2: key-only authentication with a
 * private key file per user, the server's host key checked against an OpenSSH known_hosts file when one is
 * configured. One connection per user@host:port is shared by the operations that run at the same time and
 * closed when it has been idle for a moment.
 */

export interface SftpTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** Absolute path on the server. */
  readonly path: string;
}

export interface SftpSettings {
  /** User name -> private key file (OpenSSH or PEM, without passphrase). Env: PLEXUS_SFTP_PRIVATE_KEYS. */
  readonly privateKeys?: Readonly<Record<string, string>>;
  /**
   * An OpenSSH known_hosts file: when set, a server's host key must be listed there. Unset: any host key is
   * accepted and its fingerprint logged (info) once per host. Env: PLEXUS_SFTP_KNOWN_HOSTS.
   */
  readonly knownHosts?: string;
  /** TCP connect + SSH handshake + authentication, in ms (default 20000). Env: PLEXUS_SFTP_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number;
  /**
   * An unused connection is closed after this many ms (default 2000). While unused it does not keep the
   * process alive.
   */
  readonly idleTimeoutMs?: number;
  /**
   * A connection with operations under way that receives nothing for this many ms is given up (default
   * 60000): its operations fail with a transient error.
   */
  readonly ioTimeoutMs?: number;
}

const KEYS_ENV = 'PLEXUS_SFTP_PRIVATE_KEYS';
const KNOWN_HOSTS_ENV = 'PLEXUS_SFTP_KNOWN_HOSTS';
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_IDLE_TIMEOUT_MS = 2_000;
const DEFAULT_IO_TIMEOUT_MS = 60_000;
/** Parallel requests and request size of fastGet/fastPut (OpenSSH serves up to 255 KiB per read). */
const TRANSFER = { concurrency: 32, chunkSize: 64 * 1024 };

/**
 * The user -> key file map, from a JSON object (`{"alice": "/keys/alice"}`) or from
 * `alice=/keys/alice,bob=/keys/bob`. `source` names where the text came from in errors.
 */
export function parsePrivateKeys(text: string, source = KEYS_ENV): Record<string, string> {
  const t = text.trim();
  const out: Record<string, string> = {};
  if (t === '') return out;
  if (t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (err) {
      throw new UserInputError('SFTP_KEYS_INVALID', `${source}: not valid JSON: ${errorMessage(err)}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UserInputError(
        'SFTP_KEYS_INVALID',
        `${source}: expected a JSON object of user name -> key file`,
      );
    }
    for (const [user, file] of Object.entries(parsed as Record<string, unknown>)) {
      if (user.trim() === '') throw new UserInputError('SFTP_KEYS_INVALID', `${source}: an empty user name`);
      if (typeof file !== 'string' || file.trim() === '') {
        throw new UserInputError(
          'SFTP_KEYS_INVALID',
          `${source}: the key file of user '${user}' must be a non-empty string (a path)`,
        );
      }
      out[user.trim()] = file.trim();
    }
    return out;
  }
  for (const part of t.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const user = eq < 0 ? '' : entry.slice(0, eq).trim();
    const file = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (!user || !file) {
      throw new UserInputError(
        'SFTP_KEYS_INVALID',
        `${source}: '${entry}' is not user=keyfile (expected e.g. alice=/keys/alice,bob=/keys/bob, or a JSON object)`,
      );
    }
    if (Object.hasOwn(out, user)) {
      throw new UserInputError('SFTP_KEYS_INVALID', `${source}: user '${user}' is given twice`);
    }
    out[user] = file;
  }
  return out;
}

/**
 * Why `data` cannot serve as an SFTP private key, or undefined when it can: an unencrypted private key in
 * OpenSSH or PEM format (Ed25519, ECDSA, RSA). The reason never quotes the data.
 */
export async function privateKeyProblem(data: Buffer | string): Promise<string | undefined> {
  const ssh2 = await loadSsh2();
  const parsed = ssh2.utils.parseKey(data);
  const key = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
  if (key instanceof Error) return key.message;
  if (!key || !(key as { isPrivateKey(): boolean }).isPrivateKey()) return 'it holds no private key';
  return undefined;
}

/** SFTP settings from PLEXUS_SFTP_PRIVATE_KEYS, PLEXUS_SFTP_KNOWN_HOSTS, PLEXUS_SFTP_CONNECT_TIMEOUT_MS. */
export function sftpSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): SftpSettings {
  const timeout = env.PLEXUS_SFTP_CONNECT_TIMEOUT_MS;
  let connectTimeoutMs: number | undefined;
  if (timeout !== undefined && timeout.trim() !== '') {
    connectTimeoutMs = Number(timeout);
    if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
      throw new UserInputError(
        'SFTP_SETTINGS_INVALID',
        `PLEXUS_SFTP_CONNECT_TIMEOUT_MS: '${timeout}' is not a positive whole number of milliseconds`,
      );
    }
  }
  return {
    privateKeys: env[KEYS_ENV] ? parsePrivateKeys(env[KEYS_ENV]) : undefined,
    knownHosts: env[KNOWN_HOSTS_ENV]?.trim() || undefined,
    connectTimeoutMs,
  };
}

/** ssh2 is loaded on the first sftp:// access (most runs never need it). */
let ssh2Module: Promise<typeof import('ssh2')> | undefined;
function loadSsh2(): Promise<typeof import('ssh2')> {
  ssh2Module ??= import('ssh2').then((m) => (m as { default?: typeof import('ssh2') }).default ?? m);
  return ssh2Module;
}

// SFTP status codes (draft-ietf-secsh-filexfer-02), as ssh2 puts them in `err.code`
const FX_NO_SUCH_FILE = 2;
const FX_PERMISSION_DENIED = 3;
const FX_FAILURE = 4;
const FX_NO_CONNECTION = 6;
const FX_CONNECTION_LOST = 7;
const FX_OP_UNSUPPORTED = 8;

const TRANSIENT_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Maps an ssh2 / SFTP error to a typed error naming the URL (never any key material). */
export function sftpError(url: string, action: string, err: unknown): PlexusError {
  if (err instanceof PlexusError) return err;
  const e = (err ?? {}) as { code?: unknown; level?: unknown; message?: unknown };
  const msg = errorMessage(err);
  const cause = { cause: err };
  switch (e.code) {
    case FX_NO_SUCH_FILE:
      return new UserInputError(
        'SFTP_NO_SUCH_FILE',
        `cannot ${action} ${url}: no such file or directory`,
        cause,
      );
    case FX_PERMISSION_DENIED:
      return new UserInputError(
        'SFTP_PERMISSION_DENIED',
        `cannot ${action} ${url}: permission denied`,
        cause,
      );
    case FX_OP_UNSUPPORTED:
      return new UserInputError(
        'SFTP_UNSUPPORTED',
        `cannot ${action} ${url}: the SFTP server does not support this operation (${msg})`,
        cause,
      );
    case FX_NO_CONNECTION:
    case FX_CONNECTION_LOST:
      return new TransientError(
        'SFTP_CONNECTION',
        `cannot ${action} ${url}: connection lost (${msg})`,
        cause,
      );
    case FX_FAILURE:
      return new PlexusError(
        'SFTP_FAILURE',
        `cannot ${action} ${url}: the SFTP server reported: ${msg}`,
        cause,
      );
    case 'ENOTFOUND':
      return new UserInputError(
        'SFTP_HOST_NOT_FOUND',
        `cannot ${action} ${url}: unknown host (ENOTFOUND)`,
        cause,
      );
    default:
      break;
  }
  if (typeof e.code === 'string' && TRANSIENT_NET_CODES.has(e.code)) {
    return new TransientError('SFTP_CONNECTION', `cannot ${action} ${url}: ${e.code}`, cause);
  }
  if (e.level === 'client-timeout') {
    return new TransientError('SFTP_TIMEOUT', `cannot ${action} ${url}: timed out (${msg})`, cause);
  }
  if (e.level === 'client-dns') {
    return new TransientError('SFTP_CONNECTION', `cannot ${action} ${url}: ${msg}`, cause);
  }
  if (e.level === 'handshake') {
    return new UserInputError(
      'SFTP_HANDSHAKE',
      `cannot ${action} ${url}: SSH handshake failed: ${msg}`,
      cause,
    );
  }
  return new TransientError('SFTP_IO', `cannot ${action} ${url}: ${msg}`, cause);
}

/** `[sftp://user@host:port]` as shown in messages about a connection. */
function endpointName(t: Pick<SftpTarget, 'user' | 'host' | 'port'>): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user}@${host}:${t.port}`;
}

interface Conn {
  readonly key: string;
  /** Set once ssh2 is loaded and the key read. */
  client?: Client;
  sock?: net.Socket;
  /** Rejects (with ConnectionLost) when the connection fails or closes. */
  readonly lost: Promise<never>;
  readonly markLost: (reason: unknown) => void;
  ready: Promise<SFTPWrapper>;
  users: number;
  idle?: NodeJS.Timeout;
  closed: boolean;
}

/** Why the operations of a connection fail: it was lost (the reason is the first error, or the close). */
class ConnectionLost extends Error {
  constructor(readonly reason: unknown) {
    super('connection lost');
  }
}

/** Host keys already logged (no known_hosts file): once per host:port and process. */
const loggedHostKeys = new Set<string>();

/** Connections to SFTP servers and the operations of UrlIo on them. */
export class SftpClient {
  private readonly conns = new Map<string, Conn>();

  constructor(
    private readonly settings: SftpSettings,
    private readonly logger: () => Logger,
  ) {}

  /** Runs `fn` on a shared connection for the target; errors come back typed, naming the URL. */
  async with<T>(
    t: SftpTarget,
    url: string,
    action: string,
    fn: (sftp: SFTPWrapper) => Promise<T>,
  ): Promise<T> {
    const conn = this.acquire(t);
    try {
      let sftp: SFTPWrapper;
      try {
        sftp = await conn.ready;
      } catch (err) {
        throw connectError(url, action, err);
      }
      // ssh2 does not always call back an operation whose connection went away (fastGet/fastPut queue a
      // close of their handles that is never answered): the loss of the connection ends the wait
      const op = fn(sftp);
      op.catch(() => undefined);
      return await Promise.race([op, conn.lost]);
    } catch (err) {
      if (err instanceof ConnectionLost) throw connectError(url, action, err.reason);
      throw sftpError(url, action, err);
    } finally {
      this.release(conn);
    }
  }

  /** Closes every connection (idle or not); later operations open new ones. */
  close(): void {
    for (const c of [...this.conns.values()]) this.drop(c);
  }

  private acquire(t: SftpTarget): Conn {
    const key = endpointName(t);
    let c = this.conns.get(key);
    if (!c || c.closed) {
      let markLost: (reason: unknown) => void = () => undefined;
      const lost = new Promise<never>((_, reject) => {
        markLost = (reason) => reject(new ConnectionLost(reason));
      });
      lost.catch(() => undefined);
      const conn: Conn = {
        key,
        users: 0,
        closed: false,
        lost,
        markLost,
        ready: this.connect(t, () => conn),
      };
      // a connection that failed is never handed out again (its waiters get the error)
      conn.ready.catch(() => this.forget(conn));
      this.conns.set(key, conn);
      c = conn;
    }
    c.users++;
    if (c.idle) {
      clearTimeout(c.idle);
      c.idle = undefined;
    }
    this.applyUse(c);
    return c;
  }

  /**
   * In use: the socket keeps the process alive and a silent server is timed out. Unused: neither (no
   * keepalive timer either), so a CLI run ends as soon as its work is done.
   */
  private applyUse(c: Conn): void {
    const sock = c.sock;
    if (!sock || sock.destroyed) return;
    if (c.users > 0) {
      sock.ref();
      sock.setTimeout(this.settings.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS);
    } else {
      sock.unref();
      sock.setTimeout(0);
    }
  }

  private release(c: Conn): void {
    c.users--;
    this.applyUse(c);
    if (c.users > 0) return;
    if (c.closed) {
      this.shut(c); // closed while in use (close()): ended now that its last operation is over
      return;
    }
    c.idle = setTimeout(() => {
      if (c.users === 0) this.drop(c);
    }, this.settings.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    c.idle.unref();
  }

  private forget(c: Conn): void {
    c.closed = true;
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
  }

  private drop(c: Conn): void {
    if (c.idle) clearTimeout(c.idle);
    c.idle = undefined;
    this.forget(c);
    this.shut(c);
  }

  private shut(c: Conn): void {
    c.client?.end();
    // end() does nothing on a socket still connecting
    if (c.sock?.connecting) c.sock.destroy();
  }

  /** Connects and authenticates; resolves with the SFTP channel. */
  private async connect(t: SftpTarget, self: () => Conn): Promise<SFTPWrapper> {
    const [ssh2, privateKey, known] = await Promise.all([
      loadSsh2(),
      this.privateKeyFor(t),
      this.knownHostsEntries(),
    ]);
    const conn = self();
    if (conn.closed) {
      throw new TransientError(
        'SFTP_CLOSED',
        `the connection to ${endpointName(t)} was closed while opening`,
      );
    }
    const client = new ssh2.Client();
    conn.client = client;
    // our own socket (connecting already, as ssh2 expects), so that it can be unref'ed while unused
    const sock = net.connect({ host: t.host, port: t.port });
    conn.sock = sock;
    sock.on('timeout', () => {
      if (conn.users > 0) {
        const ms = this.settings.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS;
        sock.destroy(new TransientError('SFTP_TIMEOUT', `no data from the server for ${ms} ms`));
      }
    });
    this.applyUse(conn);
    let hostKeyProblem: PlexusError | undefined;
    try {
      return await new Promise<SFTPWrapper>((resolve, reject) => {
        let settled = false;
        let lostReason: unknown;
        const fail = (err: unknown): void => {
          // after the start, an error or close retires the connection and fails the operations on it
          this.forget(conn);
          if (settled) {
            lostReason ??= err;
            conn.markLost(lostReason);
            return;
          }
          settled = true;
          this.shut(conn);
          reject(hostKeyProblem ?? err);
        };
        client.on('error', fail);
        client.on('close', () => fail(new TransientError('SFTP_CONNECTION', 'the connection was closed')));
        client.on('ready', () => {
          client.sftp((err, s) => {
            if (err) return fail(err);
            settled = true;
            resolve(s);
          });
        });
        const config: ConnectConfig = {
          host: t.host,
          port: t.port,
          username: t.user,
          privateKey: privateKey.data,
          readyTimeout: this.settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          sock,
          // no keepalive: its interval timer would keep an unused connection's process alive; a silent
          // server is noticed by the socket timeout instead (applyUse)
          keepaliveInterval: 0,
          hostVerifier: (hostKey: Buffer) => {
            hostKeyProblem = this.verifyHostKey(t, hostKey, known);
            return hostKeyProblem === undefined;
          },
        };
        try {
          client.connect(config);
        } catch (err) {
          // ssh2 checks the key and the options synchronously
          fail(
            new UserInputError(
              'SFTP_KEY_INVALID',
              `the private key file ${privateKey.file} of user '${t.user}' cannot be used: ${errorMessage(err)}`,
            ),
          );
        }
      });
    } catch (err) {
      if (err instanceof PlexusError) throw err;
      if ((err as { level?: string }).level === 'client-authentication') {
        throw new UserInputError(
          'SFTP_AUTH_REFUSED',
          `authentication refused: ${endpointName(t)} did not accept the private key ${privateKey.file} of user '${t.user}'`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  private async privateKeyFor(t: SftpTarget): Promise<{ file: string; data: Buffer }> {
    const keys = this.settings.privateKeys ?? {};
    const file = Object.hasOwn(keys, t.user) ? keys[t.user] : undefined;
    if (!file) {
      const known = Object.keys(keys);
      throw new UserInputError(
        'SFTP_NO_KEY',
        `no private key for user '${t.user}': add it to ${KEYS_ENV} (e.g. ${t.user}=/path/to/key)` +
          (known.length > 0 ? `; keys are set for: ${known.join(', ')}` : '; it is not set'),
      );
    }
    let data: Buffer;
    try {
      data = await fsp.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
      throw new UserInputError(
        'SFTP_KEY_FILE',
        `the private key file ${file} of user '${t.user}' (${KEYS_ENV}) cannot be read: ${why}`,
        { cause: err },
      );
    }
    const why = await privateKeyProblem(data);
    if (why !== undefined) {
      throw new UserInputError(
        'SFTP_KEY_INVALID',
        `the private key file ${file} of user '${t.user}' (${KEYS_ENV}) cannot be used: ${why}` +
          ' (an unencrypted OpenSSH or PEM private key is needed)',
      );
    }
    return { file, data };
  }

  private async knownHostsEntries(): Promise<ReturnType<typeof parseKnownHosts> | undefined> {
    const file = this.settings.knownHosts;
    if (!file) return undefined;
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
      throw new UserInputError(
        'KNOWN_HOSTS_FILE',
        `the known_hosts file ${file} (${KNOWN_HOSTS_ENV}) cannot be read: ${why}`,
        { cause: err },
      );
    }
    return parseKnownHosts(text, file);
  }

  /** Undefined when the key is accepted; otherwise the reason it is refused. */
  private verifyHostKey(
    t: SftpTarget,
    hostKey: Buffer,
    known: ReturnType<typeof parseKnownHosts> | undefined,
  ): PlexusError | undefined {
    const shown = `${blobKeyType(hostKey) || 'unknown type'} ${hostKeyFingerprint(hostKey)}`;
    const name = knownHostName(t.host, t.port);
    if (!known) {
      if (!loggedHostKeys.has(name)) {
        loggedHostKeys.add(name);
        this.logger().info(
          { host: name, hostKey: shown },
          `sftp: accepted the host key of ${name} (${shown}) without checking it: ${KNOWN_HOSTS_ENV} is not set`,
        );
      }
      return undefined;
    }
    const check = checkHostKey(known, t.host, t.port, hostKey);
    switch (check.result) {
      case 'match':
        return undefined;
      case 'revoked':
        return new UserInputError(
          'SFTP_HOST_KEY_REVOKED',
          `the host key of ${name} (${shown}) is marked @revoked in the known_hosts file ${this.settings.knownHosts}`,
        );
      case 'mismatch':
        return new UserInputError(
          'SFTP_HOST_KEY_MISMATCH',
          `the host key of ${name} (${shown}) does not match the known_hosts file ${this.settings.knownHosts}` +
            ` (it lists ${check.knownTypes.join(', ')} for this host): the server's key changed or another` +
            ' machine answers in its place',
        );
      case 'unknown':
        return new UserInputError(
          'SFTP_HOST_KEY_UNKNOWN',
          `${name} is not in the known_hosts file ${this.settings.knownHosts} (its host key: ${shown}); add it` +
            ` there, e.g. with ssh-keyscan${t.port === 22 ? '' : ` -p ${t.port}`} ${t.host}`,
        );
    }
  }
}

/** Errors of connecting: typed errors keep their message and are prefixed with the URL and action. */
function connectError(url: string, action: string, err: unknown): PlexusError {
  if (err instanceof PlexusError) {
    const Cls =
      err instanceof UserInputError
        ? UserInputError
        : err instanceof TransientError
          ? TransientError
          : PlexusError;
    return new Cls(err.code, `cannot ${action} ${url}: ${err.message}`, { cause: err });
  }
  return sftpError(url, action, err);
}

// ---- promise wrappers of the SFTP operations UrlIo needs ----

export function sftpStat(sftp: SFTPWrapper, p: string): Promise<Stats> {
  return new Promise((resolve, reject) => sftp.stat(p, (err, st) => (err ? reject(err) : resolve(st))));
}

/** stat, or undefined when the path does not exist. */
export async function sftpStatOrUndefined(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
  try {
    return await sftpStat(sftp, p);
  } catch (err) {
    if ((err as { code?: unknown }).code === FX_NO_SUCH_FILE) return undefined;
    throw err;
  }
}

export function sftpFastGet(sftp: SFTPWrapper, remote: string, local: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastGet(remote, local, TRANSFER, (err) => (err ? reject(err) : resolve())),
  );
}

export function sftpFastPut(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastPut(local, remote, TRANSFER, (err) => (err ? reject(err) : resolve())),
  );
}

export function sftpUnlink(sftp: SFTPWrapper, p: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.unlink(p, (err) => (err ? reject(err) : resolve())));
}

/**
 * Renames `from` over `to` atomically (posix-rename@openssh.com, rename(2) on the server). A server without
 * that extension gets the plain SFTP rename, which refuses an existing target: the target is removed first,
 * so a reader may then briefly see no file (never a partial one).
 */
export async function sftpReplace(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  let posix = true;
  try {
    await new Promise<void>((resolve, reject) => {
      try {
        sftp.ext_openssh_rename(from, to, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        posix = false; // thrown synchronously: the server does not offer the extension
        reject(err);
      }
    });
    return;
  } catch (err) {
    if (posix) throw err;
  }
  try {
    await sftpUnlink(sftp, to);
  } catch (err) {
    if ((err as { code?: unknown }).code !== FX_NO_SUCH_FILE) throw err;
  }
  await new Promise<void>((resolve, reject) =>
    sftp.rename(from, to, (err) => (err ? reject(err) : resolve())),
  );
}

/** A hidden temporary name beside the final remote path. */
export function remoteTmpName(finalPath: string): string {
  return path.posix.join(
    path.posix.dirname(finalPath),
    `.${path.posix.basename(finalPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
}
