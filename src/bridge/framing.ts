import { UserInputError } from '../errors/index.js';
import type { BridgeMessage, MessageAttributes } from './types.js';

/**
 * How messages become bytes on byte-stream connectors (S3 objects, stdio, the generic disk buffer's
 * output) and back.
 *
 * - `ndjson` (default): payload followed by the delimiter (default "\n"). A payload containing the
 *   delimiter reads back as several records: use `json` or `length-prefixed` for such data.
 * - `json`: one JSON object per line, `{"data": ..., "encoding": "utf8"|"base64", "attributes": {...}}`;
 *   lossless for any payload and keeps headers/keys/timestamps.
 * - `raw`: payload bytes as they are, no separator (decoding: each chunk read is one message).
 * - `length-prefixed`: 4-byte big-endian length, then the payload.
 */
export type FramingKind = 'ndjson' | 'json' | 'raw' | 'length-prefixed';

export interface FramingSettings {
  kind: FramingKind;
  /** Record delimiter for `ndjson` (default "\n"). */
  delimiter: string;
  /** Largest record accepted when decoding (default 16 MiB); a longer one is an error, never a silent cut. */
  maxRecordBytes: number;
}

export const DEFAULT_FRAMING: FramingSettings = {
  kind: 'ndjson',
  delimiter: '\n',
  maxRecordBytes: 16 * 1024 * 1024,
};

export interface Encoder {
  encode(msg: BridgeMessage): Buffer;
  /** File extension for objects written with this framing (without gzip). */
  readonly extension: string;
}

export function createEncoder(settings: FramingSettings = DEFAULT_FRAMING): Encoder {
  switch (settings.kind) {
    case 'ndjson': {
      const delim = Buffer.from(settings.delimiter, 'utf8');
      return {
        extension: settings.delimiter === '\n' ? 'ndjson' : 'txt',
        encode: (msg) => Buffer.concat([msg.data, delim]),
      };
    }
    case 'json':
      return {
        extension: 'jsonl',
        encode: (msg) => Buffer.from(JSON.stringify(toJsonRecord(msg)) + '\n', 'utf8'),
      };
    case 'raw':
      return { extension: 'bin', encode: (msg) => msg.data };
    case 'length-prefixed':
      return {
        extension: 'lp',
        encode: (msg) => {
          const head = Buffer.allocUnsafe(4);
          head.writeUInt32BE(msg.data.length, 0);
          return Buffer.concat([head, msg.data]);
        },
      };
  }
}

interface JsonRecord {
  data: string;
  encoding: 'utf8' | 'base64';
  attributes?: MessageAttributes;
}

function toJsonRecord(msg: BridgeMessage): JsonRecord {
  const text = msg.data.toString('utf8');
  const utf8 = Buffer.byteLength(text, 'utf8') === msg.data.length && !text.includes('\uFFFD');
  const rec: JsonRecord = utf8
    ? { data: text, encoding: 'utf8' }
    : { data: msg.data.toString('base64'), encoding: 'base64' };
  if (msg.attributes && Object.keys(msg.attributes).length > 0) rec.attributes = msg.attributes;
  return rec;
}

/** Error raised for a byte stream that does not follow its framing. */
export class FramingError extends UserInputError {
  constructor(message: string) {
    super('BRIDGE_FRAMING', message);
  }
}

/**
 * Incremental decoder: feed chunks as they arrive, get complete messages back. Memory is bounded by
 * `maxRecordBytes` plus one chunk.
 */
export class Decoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly delim: Buffer;
  /** Records produced so far (1-based record numbers in errors). */
  private records = 0;

  constructor(
    private readonly settings: FramingSettings = DEFAULT_FRAMING,
    private readonly what = 'input',
  ) {
    this.delim = Buffer.from(settings.delimiter, 'utf8');
    if (settings.kind === 'ndjson' && this.delim.length === 0) {
      throw new UserInputError('BRIDGE_CONFIG', `${what}: framing.delimiter must not be empty`);
    }
  }

  push(chunk: Buffer): BridgeMessage[] {
    if (this.settings.kind === 'raw') {
      if (chunk.length === 0) return [];
      this.records++;
      return [{ data: chunk, attributes: {} }];
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.drain(false);
  }

  /** End of stream: returns a final unterminated line (lines/json), or fails on a torn length-prefixed record. */
  end(): BridgeMessage[] {
    const out = this.settings.kind === 'raw' ? [] : this.drain(true);
    return out;
  }

  private drain(final: boolean): BridgeMessage[] {
    let buf =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingBytes);
    const out: BridgeMessage[] = [];
    if (this.settings.kind === 'length-prefixed') {
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > this.settings.maxRecordBytes) {
          throw new FramingError(
            `${this.what}: record ${this.records + 1} declares ${len} bytes, more than maxRecordBytes ${this.settings.maxRecordBytes}`,
          );
        }
        if (buf.length < 4 + len) break;
        out.push({ data: Buffer.from(buf.subarray(4, 4 + len)), attributes: {} });
        this.records++;
        buf = buf.subarray(4 + len);
      }
      if (final && buf.length > 0) {
        throw new FramingError(
          `${this.what}: stream ended inside record ${this.records + 1} (${buf.length} bytes of a length-prefixed record)`,
        );
      }
    } else {
      let start = 0;
      for (;;) {
        const idx = buf.indexOf(this.delim, start);
        if (idx < 0) break;
        out.push(this.record(buf.subarray(start, idx)));
        start = idx + this.delim.length;
      }
      buf = buf.subarray(start);
      if (buf.length > this.settings.maxRecordBytes) {
        throw new FramingError(
          `${this.what}: record ${this.records + 1} is longer than maxRecordBytes ${this.settings.maxRecordBytes} without a delimiter`,
        );
      }
      if (final && buf.length > 0) {
        out.push(this.record(buf));
        buf = Buffer.alloc(0);
      }
    }
    this.pending = buf.length > 0 ? [Buffer.from(buf)] : [];
    this.pendingBytes = buf.length;
    return out;
  }

  private record(bytes: Buffer): BridgeMessage {
    this.records++;
    if (this.settings.kind === 'json') return parseJsonRecord(bytes, `${this.what}: record ${this.records}`);
    return { data: Buffer.from(bytes), attributes: {} };
  }
}

function parseJsonRecord(bytes: Buffer, where: string): BridgeMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FramingError(`${where}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FramingError(`${where}: expected an object {"data": ..., "encoding": ...}`);
  }
  const rec = parsed as Partial<JsonRecord>;
  if (typeof rec.data !== 'string') throw new FramingError(`${where}: field "data" must be a string`);
  const enc = rec.encoding ?? 'utf8';
  if (enc !== 'utf8' && enc !== 'base64') {
    throw new FramingError(
      `${where}: field "encoding" must be "utf8" or "base64", got ${JSON.stringify(enc)}`,
    );
  }
  const attrs = rec.attributes;
  if (attrs !== undefined && (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs))) {
    throw new FramingError(`${where}: field "attributes" must be an object`);
  }
  return { data: Buffer.from(rec.data, enc), attributes: attrs ?? {} };
}
