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

/**
 * One module for all URL I/O: plain paths and `file://` URLs, `s3://bucket/key`, and `http(s)://` for
 * reading. Reads are streams; writes go to a temporary file first and become visible only on commit, so a
 * failed batch never leaves a half-written file that looks complete.
 */

export type ParsedUrl =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly key: string }
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
  /** Directory for downloads of remote files (default: the OS temp directory). */
  readonly tmpDir?: string;
  /** Environment to read S3 settings from (default process.env); explicit `s3` settings win. */
  readonly env?: Readonly<Record<string, string | undefined>>;
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
    case 'http':
    case 'https':
      return { scheme: 'http', url };
    default:
      throw new UserInputError(
        'URL_SCHEME',
        `${url}: unsupported URL scheme '${scheme}' (supported: local paths, file://, s3://, http://, https://)`,
      );
  }
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

/** URL I/O bound to one configuration (S3 client, temp directory). */
export class UrlIo {
  private readonly s3Settings: S3Settings;
  private readonly tmpDir: string;
  private s3Client: S3Client | undefined;

  constructor(options: UrlIoOptions = {}) {
    this.s3Settings = {
      ...s3SettingsFromEnv(options.env ?? process.env),
      ...stripUndefined(options.s3 ?? {}),
    };
    this.tmpDir = options.tmpDir ?? os.tmpdir();
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

  close(): void {
    this.s3Client?.destroy();
    this.s3Client = undefined;
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
      case 'http': {
        let res: Response;
        try {
          res = await fetch(u.url, { redirect: 'follow' });
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
      case 'http': {
        try {
          const res = await fetch(u.url, { method: 'HEAD', redirect: 'follow' });
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
    const base = path.basename(u.scheme === 's3' ? u.key : new URL(u.url).pathname) || 'download';
    const tmp = path.join(this.tmpDir, `plexus-${process.pid}-${randomBytes(6).toString('hex')}-${base}`);
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

  /**
   * A writer for the URL. Local files: a temp file in the same directory, renamed over the target on
   * commit (the parent directory must exist). S3: a local temp file uploaded on commit (multipart for
   * large files). HTTP is read-only.
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

function httpError(url: string, err: unknown): PlexusError {
  if (err instanceof PlexusError) return err;
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? errorMessage(err);
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
