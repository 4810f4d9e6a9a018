import type { BatchMessage } from '../types.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function isInt(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function token(v: unknown): bigint | undefined {
  if (typeof v !== 'string' || !/^-?[0-9]{1,19}$/.test(v)) return undefined;
  const t = BigInt(v);
  return t >= INT64_MIN && t <= INT64_MAX ? t : undefined;
}

/**
 * Checks a received batch message (any queue implementation: it may come from JSON). Returns undefined
 * when it is valid, else the first problem found, worded for the dead-letter reason.
 */
export function validateBatchMessage(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not an object';
  const o = m as Record<string, unknown>;
  if (o.v !== 1) return `unsupported message version ${JSON.stringify(o.v)} (expected 1)`;
  if (!isText(o.id)) return 'id must be a non-empty string';
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return 'ts must be a number (ms since the epoch)';
  if (!isText(o.ks)) return 'ks must be a non-empty string';
  if (!isInt(o.runId, 1)) return 'runId must be a positive integer';
  if (!isText(o.node)) return 'node must be a non-empty string';
  if (!isInt(o.batchesTotal, 1)) return 'batchesTotal must be a positive integer';
  if (!isInt(o.batchIdx, 0) || o.batchIdx >= o.batchesTotal) {
    return `batchIdx must be an integer from 0 to batchesTotal-1 (${o.batchesTotal - 1})`;
  }
  const first = token(o.firstToken);
  const last = token(o.lastToken);
  if (first === undefined) return 'firstToken must be a signed 64-bit integer in a string';
  if (last === undefined) return 'lastToken must be a signed 64-bit integer in a string';
  if (first > last) return `firstToken ${first} is greater than lastToken ${last}`;
  if (!isInt(o.attempt, 0)) return 'attempt must be a non-negative integer';
  return undefined;
}

/** Type guard form of validateBatchMessage. */
export function isBatchMessage(m: unknown): m is BatchMessage {
  return validateBatchMessage(m) === undefined;
}
