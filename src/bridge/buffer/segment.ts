import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import type { BridgeMessage, MessageAttributes } from '../types.js';

/**
 * Segment file format: a sequence of records, each
 *
 *     u32 BE  body length
 *     u32 BE  CRC-32 of the body
 *     body:   u8 version (1) | u32 BE attributes length | attributes (JSON, UTF-8) | payload
 *
 * The CRC lets recovery tell a complete record from a torn one (a process killed mid-write) and detect
 * a damaged file, which is quarantined rather than uploaded.
 */
const HEADER = 8;
const VERSION = 1;

export function encodeRecord(msg: BridgeMessage): Buffer {
  const attrs = hasAttributes(msg.attributes) ? Buffer.from(JSON.stringify(msg.attributes), 'utf8') : EMPTY;
  const bodyLen = 1 + 4 + attrs.length + msg.data.length;
  const out = Buffer.allocUnsafe(HEADER + bodyLen);
  out.writeUInt32BE(bodyLen, 0);
  out.writeUInt8(VERSION, HEADER);
  out.writeUInt32BE(attrs.length, HEADER + 1);
  attrs.copy(out, HEADER + 5);
  msg.data.copy(out, HEADER + 5 + attrs.length);
  out.writeUInt32BE(crc32(out.subarray(HEADER)), 4);
  return out;
}

const EMPTY = Buffer.alloc(0);

function hasAttributes(a: MessageAttributes): boolean {
  for (const k in a) {
    if ((a as Record<string, unknown>)[k] !== undefined) return true;
  }
  return false;
}

/** Why a segment could not be read to its end. */
export type SegmentDamage =
  /** The file ends inside a record: a write that never completed. */
  | 'torn'
  /** A complete-looking record fails its CRC or its structure: the file is damaged. */
  | 'corrupt';

export class SegmentCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly damage: SegmentDamage,
    detail: string,
  ) {
    super(`segment ${file}: ${damage} record at byte ${offset}: ${detail}`);
    this.name = 'SegmentCorruptError';
  }
}

/** Most bytes one record may take (a guard against reading garbage lengths). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

type ParseStep =
  | { kind: 'record'; msg: BridgeMessage; size: number }
  | { kind: 'need' }
  | { kind: 'bad'; damage: SegmentDamage; detail: string };

function parseAt(buf: Buffer, pos: number, atEof: boolean): ParseStep {
  const avail = buf.length - pos;
  if (avail < HEADER)
    return atEof && avail > 0
      ? { kind: 'bad', damage: 'torn', detail: 'incomplete header' }
      : { kind: 'need' };
  const bodyLen = buf.readUInt32BE(pos);
  if (bodyLen < 5 || bodyLen > MAX_RECORD_BYTES) {
    return { kind: 'bad', damage: 'corrupt', detail: `impossible record length ${bodyLen}` };
  }
  if (avail < HEADER + bodyLen) {
    return atEof
      ? { kind: 'bad', damage: 'torn', detail: `${avail} of ${HEADER + bodyLen} bytes` }
      : { kind: 'need' };
  }
  const body = buf.subarray(pos + HEADER, pos + HEADER + bodyLen);
  if (crc32(body) !== buf.readUInt32BE(pos + 4)) {
    // The last record of a file that fails its CRC is most likely torn too (a partially flushed page).
    const last = avail === HEADER + bodyLen && atEof;
    return { kind: 'bad', damage: last ? 'torn' : 'corrupt', detail: 'CRC mismatch' };
  }
  if (body.readUInt8(0) !== VERSION)
    return { kind: 'bad', damage: 'corrupt', detail: `unknown version ${body.readUInt8(0)}` };
  const attrLen = body.readUInt32BE(1);
  if (5 + attrLen > bodyLen)
    return { kind: 'bad', damage: 'corrupt', detail: 'attributes longer than the record' };
  let attributes: MessageAttributes = {};
  if (attrLen > 0) {
    try {
      attributes = JSON.parse(body.subarray(5, 5 + attrLen).toString('utf8')) as MessageAttributes;
    } catch {
      return { kind: 'bad', damage: 'corrupt', detail: 'attributes are not JSON' };
    }
  }
  const data = Buffer.from(body.subarray(5 + attrLen));
  return { kind: 'record', msg: { data, attributes }, size: HEADER + bodyLen };
}

export interface ScanResult {
  /** Bytes of complete, valid records from the start of the file. */
  validBytes: number;
  records: number;
  fileBytes: number;
  damage?: { kind: SegmentDamage; offset: number; detail: string };
}

/** Reads a segment through, validating every record, without keeping payloads. */
export async function scanSegment(file: string): Promise<ScanResult> {
  let records = 0;
  let validBytes = 0;
  const fileBytes = (await fs.promises.stat(file)).size;
  try {
    for await (const rec of readSegment(file)) {
      records++;
      validBytes = rec.end;
    }
  } catch (err) {
    if (err instanceof SegmentCorruptError) {
      return {
        validBytes,
        records,
        fileBytes,
        damage: { kind: err.damage, offset: err.offset, detail: err.message },
      };
    }
    throw err;
  }
  return { validBytes, records, fileBytes };
}

export interface SegmentRecord {
  msg: BridgeMessage;
  /** Offset just past this record. */
  end: number;
}

/** Streams the records of a segment; throws SegmentCorruptError at the first bad one. */
export async function* readSegment(file: string, chunkBytes = 1024 * 1024): AsyncGenerator<SegmentRecord> {
  const stream = fs.createReadStream(file, { highWaterMark: chunkBytes });
  let buf: Buffer = EMPTY;
  let base = 0; // file offset of buf[0]
  let pos = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buf = pos < buf.length ? Buffer.concat([buf.subarray(pos), chunk]) : chunk;
      base += pos;
      pos = 0;
      for (;;) {
        const step = parseAt(buf, pos, false);
        if (step.kind === 'need') break;
        if (step.kind === 'bad') throw new SegmentCorruptError(file, base + pos, step.damage, step.detail);
        pos += step.size;
        yield { msg: step.msg, end: base + pos };
      }
    }
    for (;;) {
      const step = parseAt(buf, pos, true);
      if (step.kind === 'need') break;
      if (step.kind === 'bad') throw new SegmentCorruptError(file, base + pos, step.damage, step.detail);
      pos += step.size;
      yield { msg: step.msg, end: base + pos };
    }
  } finally {
    stream.destroy();
  }
}
