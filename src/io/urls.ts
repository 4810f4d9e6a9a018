import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { PlexusError, TransientError, UserInputError, errorMessage } from '../errors/index.js';
import { createLogger, type Logger } from '../obs/index.js';
import { customCaFetch, type CustomCaFetch } from './https-ca.js';
import {
  SftpClient,
  remoteTmpName,
  sftpError,
  sftpFastGet,
  sftpFastPut,
  sftpReplace,
  sftpSettingsFromEnv,
  sftpStat,
  sftpStatOrUndefined,
  sftpUnlink,
  type SftpSettings,
  type SftpTarget,
} from './sftp.js';

/**
 * One module for all URL I/O: plain paths and `file://` URLs, `s3://bucket/key`, `sftp://user@host/path`,
 * and `http(s)://` for reading. Reads are streams (sftp: the file is downloaded whole first); writes go to a
 * temporary file first and become visible only on commit, so a failed batch never leaves a half-written
 * file that looks complete.
 */

export type ParsedUrl =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly key: string }
  | ({ readonly scheme: 'sftp' } & SftpTarget)
  | { readonly scheme: 'http'; readonly url: string };

export interface S3Settings {
  /** e.g. http://127.0.0.1:9000 for an S3-compatible server; unset = AWS. Env: PLEXUS_S3_ENDPOINT. */
  readonly endpoint?: string;
  /** Env: AWS_REGION (default us-east-1). */
  readonly region?: string;
  /** Env: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; unset = the SDK's default credential chain. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Env: PLEXUS_S3_FORCE_PATH_STYLE (true/1). Needed by most S3-compatible servers. */
  readonly forcePathStyle?: boolean;
  /** Multipart part size in bytes for uploads (minimum and default 5 MiB). */
  readonly partSize?: number;
  /** Parts uploaded in parallel (default 4). */
  readonly queueSize?: number;
}

export interface UrlIoOptions {
  readonly s3?: S3Settings;
  /** sftp:// keys and host checking; explicit settings win over PLEXUS_SFTP_* in `env`. */
  readonly sftp?: SftpSettings;
  /**
   * A directory of PEM certificates trusted for https reads in addition to the default roots (Capillaries'
   * `ca_path`). Env: PLEXUS_CA_PATH.
   */
  readonly caPath?: string;
  /** Directory for downloads of remote files (default: the OS temp directory). */
  readonly tmpDir?: string;
  /** Environment to read S3, SFTP and CA settings from (default process.env); explicit settings win. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For the host key fingerprints of unchecked SFTP servers (default: a logger created on first use). */
  readonly logger?: Logger;
}

export interface UrlWriter {
  /** Write the content here; `commit` ends it if the caller did not. */
  readonly stream: Writable;
  /** Makes the content visible at the URL (rename or upload). */
  commit(): Promise<void>;
  /** Discards the content; the URL keeps what it had before. */
  abort(): Promise<void>;
}

export interface TempFile {
  readonly path: string;
  /** Removes the file if it was a download (a local input is never removed). */
  cleanup(): Promise<void>;
}

const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** Classifies a URL; a string without `scheme://` is a local path. */
export function parseUrl(url: string): ParsedUrl {
  if (url === '') throw new UserInputError('URL_INVALID', 'empty file URL');
  const m = SCHEME_RE.exec(url);
  if (!m) return { scheme: 'file', path: url };
  const scheme = (m[1] ?? '').toLowerCase();
  switch (scheme) {
    case 'file':
      try {
        return { scheme: 'file', path: fileURLToPath(url) };
      } catch (err) {
        throw new UserInputError('URL_INVALID', `${url}: not a valid local file URL: ${errorMessage(err)}`);
      }
    case 's3': {
      const rest = url.slice(m[0].length);
      const slash = rest.indexOf('/');
      const bucket = slash < 0 ? rest : rest.slice(0, slash);
      const key = slash < 0 ? '' : rest.slice(slash + 1);
      if (!bucket || !key) {
        throw new UserInputError('URL_INVALID', `${url}: an S3 URL must look like s3://bucket/key`);
      }
      return { scheme: 's3', bucket, key };
    }
    case 'sftp':
      return parseSftpUrl(url);
    case 'http':
    case 'https':
      return { scheme: 'http', url };
    default:
      throw new UserInputError(
        'URL_SCHEME',
        `${url}: unsupported URL scheme '${scheme}' (supported: local paths, file://, s3://, sftp://, http://, https://)`,
      );
  }
}

const SFTP_SHAPE = 'an SFTP URL must look like sftp://user@host[:port]/absolute/path';

/** `sftp://user@host[:port]/abs/path`: user and path percent-decoded, port 22 when absent. */
function parseSftpUrl(url: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserInputError('URL_INVALID', `${redactPassword(url)}: not a valid URL: ${SFTP_SHAPE}`);
  }
  if (u.password) {
    throw new UserInputError(
      'URL_INVALID',
      `${redactPassword(url)}: passwords in sftp:// URLs are not supported: sftp authenticates with a` +
        ' private key per user (PLEXUS_SFTP_PRIVATE_KEYS)',
    );
  }
  if (!u.username) throw new UserInputError('URL_INVALID', `${url}: the user is missing: ${SFTP_SHAPE}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UserInputError('URL_INVALID', `${url}: the host is missing: ${SFTP_SHAPE}`);
  if (u.search || u.hash) {
    throw new UserInputError(
      'URL_INVALID',
      `${url}: '?' and '#' are not part of an SFTP path (write them as %3F and %23): ${SFTP_SHAPE}`,
    );
  }
  let user: string;
  let filePath: string;
  try {
    user = decodeURIComponent(u.username);
    filePath = decodeURIComponent(u.pathname);
  } catch {
    throw new UserInputError('URL_INVALID', `${url}: malformed percent-encoding: ${SFTP_SHAPE}`);
  }
  if (filePath === '' || filePath === '/') {
    throw new UserInputError('URL_INVALID', `${url}: the file path is missing: ${SFTP_SHAPE}`);
  }
  return { scheme: 'sftp', user, host, port: u.port ? Number(u.port) : 22, path: filePath };
}

/** The URL with the password (if any) of its user-info replaced, for messages. */
function redactPassword(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

function envFlag(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  return /^(1|true|yes|on)$/i.test(v.trim());
}

/** S3 settings from the environment (PLEXUS_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, ...). */
export function s3SettingsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): S3Settings {
  const partSize = env.PLEXUS_S3_PART_SIZE ? Number(env.PLEXUS_S3_PART_SIZE) : undefined;
  return {
    endpoint: env.PLEXUS_S3_ENDPOINT || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    accessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
    forcePathStyle: envFlag(env.PLEXUS_S3_FORCE_PATH_STYLE),
    partSize: partSize !== undefined && Number.isFinite(partSize) ? partSize : undefined,
  };
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

function fsError(url: string, action: string, err: unknown): PlexusError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new UserInputError('FILE_NOT_FOUND', `cannot ${action} ${url}: no such file or directory`, {
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new UserInputError('FILE_PERMISSION', `cannot ${action} ${url}: permission denied`, {
        cause: err,
      });
    case 'EISDIR':
      return new UserInputError('FILE_IS_DIRECTORY', `cannot ${action} ${url}: it is a directory`, {
        cause: err,
      });
    case 'ENOTDIR':
      return new UserInputError(
        'FILE_NOT_FOUND',
        `cannot ${action} ${url}: a part of the path is not a directory`,
        {
          cause: err,
        },
      );
    case 'ENOSPC':
      return new TransientError('FILE_NO_SPACE', `cannot ${action} ${url}: no space left on device`, {
        cause: err,
      });
    default:
      return new PlexusError('FILE_IO', `cannot ${action} ${url}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The AWS SDK is loaded on the first S3 access: most runs read and write local files only, and a worker
 * thread or CLI start should not pay for loading it.
 */
let awsSdk:
  | Promise<{ s3: typeof import('@aws-sdk/client-s3'); storage: typeof import('@aws-sdk/lib-storage') }>
  | undefined;
function loadAwsSdk(): NonNullable<typeof awsSdk> {
  awsSdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(
    ([s3, storage]) => ({ s3, storage }),
  );
  return awsSdk;
}

function s3Error(url: string, action: string, err: unknown): PlexusError {
  if (err instanceof PlexusError) return err;
  const name = (err as { name?: string } | undefined)?.name ?? '';
  // Service exceptions of the SDK carry the HTTP status in $metadata.
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const shown = name && name !== 'Unknown' && name !== 'Error' ? name : status ? `HTTP ${status}` : '';
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new UserInputError('S3_CREDENTIALS', `cannot ${action} ${url}: credentials rejected (${name})`, {
      cause: err,
    });
  }
  if (name === 'NoSuchBucket') {
    return new UserInputError(
      'S3_NO_SUCH_BUCKET',
      `cannot ${action} ${url}: the bucket does not exist (NoSuchBucket)`,
      {
        cause: err,
      },
    );
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new UserInputError('S3_NO_SUCH_KEY', `cannot ${action} ${url}: no such key (NoSuchKey)`, {
      cause: err,
    });
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return new UserInputError(
      'S3_ACCESS_DENIED',
      `cannot ${action} ${url}: access denied (${shown || 'HTTP 403'})`,
      {
        cause: err,
      },
    );
  }
  const detail = status ? `${shown}: ${errorMessage(err)}` : errorMessage(err);
  return new TransientError('S3_IO', `cannot ${action} ${url}: ${detail}`, { cause: err });
}

function tmpName(finalPath: string): string {
  return path.join(
    path.dirname(finalPath),
    `.${path.basename(finalPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
}

async function unlinkQuiet(p: string): Promise<void> {
  try {
    await fsp.unlink(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Ends the stream if needed and waits until everything was written (and flushed to disk for files). */
async function endAndWait(stream: Writable): Promise<void> {
  if (!stream.writableEnded) stream.end();
  await finished(stream);
}

/** URL I/O bound to one configuration (S3 client, SFTP connections, CA directory, temp directory). */
export class UrlIo {
  private readonly s3Settings: S3Settings;
  private readonly tmpDir: string;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly caPath: string | undefined;
  private s3Client: S3Client | undefined;
  private sftpClient: SftpClient | undefined;
  private caFetch: Promise<CustomCaFetch> | undefined;
  private logger: Logger | undefined;

  constructor(private readonly options: UrlIoOptions = {}) {
    this.env = options.env ?? process.env;
    this.s3Settings = {
      ...s3SettingsFromEnv(this.env),
      ...stripUndefined(options.s3 ?? {}),
    };
    this.caPath = options.caPath ?? (this.env.PLEXUS_CA_PATH?.trim() || undefined);
    this.tmpDir = options.tmpDir ?? os.tmpdir();
    this.logger = options.logger;
  }

  /**
   * The SFTP connections (created on first use). PLEXUS_SFTP_* is read here, not in the constructor, so
   * a malformed value fails sftp:// access only, with its message.
   */
  private sftp(): SftpClient {
    this.sftpClient ??= new SftpClient(
      { ...sftpSettingsFromEnv(this.env), ...stripUndefined(this.options.sftp ?? {}) },
      () => (this.logger ??= createLogger({ name: 'plexus-io' })),
    );
    return this.sftpClient;
  }

  /** fetch for http(s) reads: undici's with the extra roots when a CA directory is set, else the global one. */
  private async httpFetch(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpResponse> {
    if (!this.caPath) return await fetch(url, { method, redirect: 'follow' });
    const caPath = this.caPath;
    const pending = (this.caFetch ??= customCaFetch(caPath));
    // a CA directory that could not be read is reported, and read again on the next request
    pending.catch(() => {
      if (this.caFetch === pending) this.caFetch = undefined;
    });
    const { fetch: caFetch, agent } = await pending;
    return (await caFetch(url, { method, redirect: 'follow', dispatcher: agent })) as HttpResponse;
  }

  /** The S3 client (created on first use, loading the AWS SDK). */
  async s3(): Promise<S3Client> {
    const { S3Client } = (await loadAwsSdk()).s3;
    // checked after the await: concurrent first calls share one client
    if (!this.s3Client) {
      const s = this.s3Settings;
      const config: S3ClientConfig = {
        region: s.region ?? 'us-east-1',
        forcePathStyle: s.forcePathStyle ?? false,
        // S3-compatible servers do not all support the newer default checksums
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      };
      if (s.endpoint) config.endpoint = s.endpoint;
      if (s.accessKeyId && s.secretAccessKey) {
        config.credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
      }
      this.s3Client = new S3Client(config);
    }
    return this.s3Client;
  }

  /** Releases the S3 client, the SFTP connections and the https agent (a later call opens new ones). */
  close(): void {
    this.s3Client?.destroy();
    this.s3Client = undefined;
    this.sftpClient?.close();
    const ca = this.caFetch;
    this.caFetch = undefined;
    ca?.then(
      (c) => c.agent.destroy(),
      () => undefined,
    ).catch(() => undefined);
  }

  /** Whole content as UTF-8 text (scripts, parameter files, criteria, code). */
  async readText(url: string): Promise<string> {
    const u = parseUrl(url);
    if (u.scheme === 'file') {
      try {
        return await fsp.readFile(u.path, 'utf8');
      } catch (err) {
        throw fsError(url, 'read', err);
      }
    }
    if (u.scheme === 'sftp') {
      const tmp = await this.downloadToTemp(url);
      try {
        return await fsp.readFile(tmp.path, 'utf8');
      } catch (err) {
        throw fsError(`${tmp.path} (downloaded from ${url})`, 'read', err);
      } finally {
        await tmp.cleanup();
      }
    }
    const stream = await this.openRead(url);
    const chunks: Buffer[] = [];
    try {
      for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
    } catch (err) {
      throw u.scheme === 's3' ? s3Error(url, 'read', err) : httpError(url, err);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A byte stream of the content. Missing files, buckets, keys and HTTP errors are reported here. */
  async openRead(url: string): Promise<Readable> {
    const u = parseUrl(url);
    switch (u.scheme) {
      case 'file': {
        let fh: fsp.FileHandle;
        try {
          fh = await fsp.open(u.path, 'r');
          const st = await fh.stat();
          if (st.isDirectory()) {
            await fh.close();
            throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
          }
        } catch (err) {
          throw fsError(url, 'read', err);
        }
        return withUrlErrors(fh.createReadStream({ highWaterMark: 256 * 1024 }), (err) =>
          fsError(url, 'read', err),
        );
      }
      case 's3': {
        try {
          const client = await this.s3();
          const { GetObjectCommand } = (await loadAwsSdk()).s3;
          const res = await client.send(new GetObjectCommand({ Bucket: u.bucket, Key: u.key }));
          const body = res.Body;
          if (!body) throw new Error('empty response body');
          const src =
            body instanceof Readable
              ? body
              : Readable.fromWeb(
                  (body as { transformToWebStream(): ReadableStream }).transformToWebStream() as Parameters<
                    typeof Readable.fromWeb
                  >[0],
                );
          return withUrlErrors(src, (err) => s3Error(url, 'read', err));
        } catch (err) {
          throw s3Error(url, 'read', err);
        }
      }
      case 'sftp': {
        // downloaded whole (the connection is free again at once), then read from the local copy
        const tmp = await this.downloadToTemp(url);
        let fh: fsp.FileHandle;
        try {
          fh = await fsp.open(tmp.path, 'r');
        } catch (err) {
          await tmp.cleanup();
          throw fsError(`${tmp.path} (downloaded from ${url})`, 'read', err);
        }
        const local = fh.createReadStream({ highWaterMark: 256 * 1024 });
        local.once('close', () => void tmp.cleanup().catch(() => undefined));
        return withUrlErrors(local, (err) => fsError(`${tmp.path} (downloaded from ${url})`, 'read', err));
      }
      case 'http': {
        let res: HttpResponse;
        try {
          res = await this.httpFetch(u.url);
        } catch (err) {
          throw httpError(url, err);
        }
        if (!res.ok) {
          await res.body?.cancel().catch(() => undefined);
          const msg = `cannot read ${url}: HTTP ${res.status} ${res.statusText}`.trim();
          if (res.status >= 500 || res.status === 429 || res.status === 408) {
            throw new TransientError('HTTP_STATUS', msg);
          }
          throw new UserInputError('HTTP_STATUS', msg);
        }
        if (!res.body) return Readable.from([]);
        return withUrlErrors(Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]), (err) =>
          httpError(url, err),
        );
      }
    }
  }

  /** Whether the URL names an existing file or object (http: a successful HEAD). */
  async exists(url: string): Promise<boolean> {
    const u = parseUrl(url);
    switch (u.scheme) {
      case 'file':
        try {
          await fsp.access(u.path);
          return true;
        } catch {
          return false;
        }
      case 's3':
        try {
          const client = await this.s3();
          const { HeadObjectCommand } = (await loadAwsSdk()).s3;
          await client.send(new HeadObjectCommand({ Bucket: u.bucket, Key: u.key }));
          return true;
        } catch (err) {
          const e = s3Error(url, 'check', err);
          if (e.code === 'S3_NO_SUCH_KEY') return false;
          throw e;
        }
      case 'sftp':
        return (
          (await this.sftp().with(u, url, 'check', (sftp) => sftpStatOrUndefined(sftp, u.path))) !== undefined
        );
      case 'http': {
        try {
          const res = await this.httpFetch(u.url, 'HEAD');
          return res.ok;
        } catch (err) {
          throw httpError(url, err);
        }
      }
    }
  }

  /**
   * A local file with the content, for formats that need random access (Parquet). A local input is
   * returned as it is; remote content is downloaded into the temp directory and removed by `cleanup`.
   */
  async downloadToTemp(url: string): Promise<TempFile> {
    const u = parseUrl(url);
    if (u.scheme === 'file') {
      try {
        const st = await fsp.stat(u.path);
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      } catch (err) {
        throw fsError(url, 'read', err);
      }
      return { path: u.path, cleanup: async () => undefined };
    }
    const base =
      path.basename(u.scheme === 's3' ? u.key : u.scheme === 'sftp' ? u.path : new URL(u.url).pathname) ||
      'download';
    const tmp = path.join(this.tmpDir, `plexus-${process.pid}-${randomBytes(6).toString('hex')}-${base}`);
    if (u.scheme === 'sftp') {
      await this.sftpDownload(u, url, tmp);
      return { path: tmp, cleanup: () => unlinkQuiet(tmp) };
    }
    const src = await this.openRead(url);
    try {
      await pipeline(src, fs.createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      await unlinkQuiet(tmp);
      if (err instanceof PlexusError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code && /^E[A-Z]+$/.test(code) && (err as { path?: string }).path === tmp) {
        throw fsError(tmp, `download ${url} to`, err);
      }
      throw u.scheme === 's3' ? s3Error(url, 'download', err) : httpError(url, err);
    }
    return { path: tmp, cleanup: () => unlinkQuiet(tmp) };
  }

  /** Downloads an sftp:// file whole into `tmp` (removed again when the download fails). */
  private async sftpDownload(u: SftpTarget, url: string, tmp: string): Promise<void> {
    try {
      // created here, so a problem of the temp directory is reported as such (not as a remote error)
      await (await fsp.open(tmp, 'wx')).close();
    } catch (err) {
      throw fsError(tmp, `download ${url} to`, err);
    }
    try {
      await this.sftp().with(u, url, 'read', async (sftp) => {
        const st = await sftpStat(sftp, u.path);
        if (st.isDirectory()) {
          throw new UserInputError('SFTP_IS_DIRECTORY', `cannot read ${url}: it is a directory`);
        }
        await sftpFastGet(sftp, u.path, tmp);
      });
    } catch (err) {
      await unlinkQuiet(tmp);
      throw err;
    }
  }

  /**
   * A writer for the URL. Local files: a temp file in the same directory, renamed over the target on
   * commit (the parent directory must exist). S3: a local temp file uploaded on commit (multipart for
   * large files). SFTP: a local temp file uploaded on commit under a temporary name beside the target, then
   * renamed over it (the remote directory must exist). HTTP is read-only.
   */
  async openWrite(url: string): Promise<UrlWriter> {
    const u = parseUrl(url);
    switch (u.scheme) {
      case 'http':
        throw new UserInputError('URL_READ_ONLY', `cannot write ${url}: http(s) URLs are read-only`);
      case 'file': {
        const dir = path.dirname(path.resolve(u.path));
        try {
          const st = await fsp.stat(dir);
          if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') {
            throw new UserInputError(
              'DIR_NOT_FOUND',
              `cannot write ${url}: directory ${dir} does not exist`,
              {
                cause: err,
              },
            );
          }
          throw fsError(url, 'write', err);
        }
        try {
          const st = await fsp.stat(u.path);
          if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(url, 'write', err);
        }
        return this.tempWriter(url, tmpName(path.resolve(u.path)), async (tmp) => {
          try {
            await fsp.rename(tmp, u.path);
          } catch (err) {
            throw fsError(url, 'write', err);
          }
        });
      }
      case 's3': {
        const tmp = path.join(this.tmpDir, `plexus-up-${process.pid}-${randomBytes(6).toString('hex')}`);
        return this.tempWriter(url, tmp, async (file) => {
          try {
            await this.uploadFile(file, u.bucket, u.key);
          } catch (err) {
            throw s3Error(url, 'write', err);
          } finally {
            await unlinkQuiet(file);
          }
        });
      }
      case 'sftp': {
        const dir = path.posix.dirname(u.path);
        // the directory and the target are checked now, before the batch produces its rows
        await this.sftp().with(u, url, 'write', async (sftp) => {
          const d = await sftpStatOrUndefined(sftp, dir);
          if (!d || !d.isDirectory()) {
            throw new UserInputError(
              'DIR_NOT_FOUND',
              `cannot write ${url}: directory ${dir} does not exist on ${u.host}`,
            );
          }
          const target = await sftpStatOrUndefined(sftp, u.path);
          if (target?.isDirectory()) {
            throw new UserInputError('FILE_IS_DIRECTORY', `cannot write ${url}: it is a directory`);
          }
        });
        const tmp = path.join(this.tmpDir, `plexus-up-${process.pid}-${randomBytes(6).toString('hex')}`);
        return this.tempWriter(url, tmp, async (file) => {
          try {
            await this.sftp().with(u, url, 'write', async (sftp) => {
              const remoteTmp = remoteTmpName(u.path);
              try {
                await sftpFastPut(sftp, file, remoteTmp);
                await sftpReplace(sftp, remoteTmp, u.path);
              } catch (err) {
                // the old file stays; the partial upload goes (best effort: the connection may be gone)
                await sftpUnlink(sftp, remoteTmp).catch(() => undefined);
                throw sftpError(url, 'write', err);
              }
            });
          } finally {
            await unlinkQuiet(file);
          }
        });
      }
    }
  }

  /** Uploads a local file to S3 (multipart when it is larger than one part). */
  async uploadFile(file: string, bucket: string, key: string): Promise<void> {
    const partSize = Math.max(MIN_PART_SIZE, this.s3Settings.partSize ?? MIN_PART_SIZE);
    const client = await this.s3();
    const { Upload } = (await loadAwsSdk()).storage;
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: fs.createReadStream(file) },
      partSize,
      queueSize: this.s3Settings.queueSize ?? 4,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  private async tempWriter(
    url: string,
    tmp: string,
    publish: (tmp: string) => Promise<void>,
  ): Promise<UrlWriter> {
    let file: fs.WriteStream;
    try {
      file = fs.createWriteStream(tmp, { flags: 'wx', flush: true });
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve());
        file.once('error', reject);
      });
    } catch (err) {
      throw fsError(url, 'write', err);
    }
    // The caller writes to a pass-through so that errors of the file surface in commit() with the URL.
    const stream = new PassThrough();
    const piping = pipeline(stream, file);
    piping.catch(() => undefined);
    let state: 'open' | 'committed' | 'aborted' = 'open';
    return {
      stream,
      commit: async () => {
        if (state !== 'open')
          throw new PlexusError('WRITER_STATE', `cannot commit ${url}: writer already ${state}`);
        state = 'committed';
        try {
          await endAndWait(stream);
          await piping;
        } catch (err) {
          await unlinkQuiet(tmp);
          throw fsError(url, 'write', err);
        }
        await publish(tmp).catch(async (err: unknown) => {
          await unlinkQuiet(tmp);
          throw err;
        });
      },
      abort: async () => {
        if (state !== 'open') return;
        state = 'aborted';
        stream.destroy();
        file.destroy();
        await piping.catch(() => undefined);
        await unlinkQuiet(tmp);
      },
    };
  }
}

/**
 * Re-emits the stream with errors that happen while reading (connection reset, I/O error) mapped to typed
 * errors naming the URL; destroying the returned stream releases the source (file handle, socket).
 */
function withUrlErrors(src: Readable, map: (err: unknown) => Error): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  src.on('error', (err) => out.destroy(map(err)));
  out.on('close', () => {
    if (!src.destroyed) src.destroy();
  });
  src.pipe(out);
  return out;
}

/** The parts of a fetch Response the http(s) reads use (global fetch and undici's). */
interface HttpResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly body: ReadableStream<Uint8Array> | null;
}

/** TLS verification failures: the server's certificate is not trusted (retrying will not help). */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function httpError(url: string, err: unknown): PlexusError {
  if (err instanceof PlexusError) return err;
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? errorMessage(err);
  if (cause?.code && TLS_TRUST_CODES.has(cause.code)) {
    return new UserInputError(
      'HTTP_TLS',
      `cannot read ${url}: the server's certificate is not trusted (${cause.code}); put the certificate` +
        ' of a private CA in the directory PLEXUS_CA_PATH names',
      { cause: err },
    );
  }
  return new TransientError('HTTP_IO', `cannot read ${url}: ${detail}`, { cause: err });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

let defaultIo: UrlIo | undefined;

/** The process-wide UrlIo configured from the environment. */
export function urlIo(): UrlIo {
  defaultIo ??= new UrlIo();
  return defaultIo;
}

export function readText(url: string): Promise<string> {
  return urlIo().readText(url);
}

export function openRead(url: string): Promise<Readable> {
  return urlIo().openRead(url);
}

export function downloadToTemp(url: string): Promise<TempFile> {
  return urlIo().downloadToTemp(url);
}

export function openWrite(url: string): Promise<UrlWriter> {
  return urlIo().openWrite(url);
}
