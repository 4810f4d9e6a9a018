import { Ajv, type ErrorObject } from 'ajv';
import { validateBatchMessage } from '../memory/index.js';
import type { BatchMessage } from '../types.js';

/**
 * The wire format of a batch message: UTF-8 JSON of BatchMessage, `v` = 1. The schema is checked with ajv
 * (shape and types), then the cross-field rules (batch index below the total, token order) are checked.
 * A new field or a changed meaning needs a new version number; consumers dead-letter versions they do not
 * know.
 */
export const BATCH_MESSAGE_SCHEMA_V1 = {
  $id: 'plexus.batch-message.v1',
  type: 'object',
  additionalProperties: false,
  required: [
    'v',
    'id',
    'ts',
    'ks',
    'runId',
    'node',
    'batchIdx',
    'batchesTotal',
    'firstToken',
    'lastToken',
    'attempt',
  ],
  properties: {
    v: { const: 1 },
    id: { type: 'string', minLength: 1, maxLength: 200 },
    ts: { type: 'number' },
    ks: { type: 'string', pattern: '^[A-Za-z0-9_]{1,48}$' },
    runId: { type: 'integer', minimum: 1 },
    node: { type: 'string', minLength: 1, maxLength: 200 },
    batchIdx: { type: 'integer', minimum: 0 },
    batchesTotal: { type: 'integer', minimum: 1 },
    firstToken: { type: 'string', pattern: '^-?[0-9]{1,19}$' },
    lastToken: { type: 'string', pattern: '^-?[0-9]{1,19}$' },
    attempt: { type: 'integer', minimum: 0 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const check = ajv.compile<BatchMessage>(BATCH_MESSAGE_SCHEMA_V1);

function describe(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'message';
      if (e.keyword === 'additionalProperties') {
        return `${where}: unknown field ${String((e.params as { additionalProperty?: string }).additionalProperty)}`;
      }
      return `${where} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

export type Decoded =
  { readonly ok: true; readonly msg: BatchMessage } | { readonly ok: false; readonly reason: string };

/** Parses and validates a message body; a failure says what is wrong, for the dead-letter reason. */
export function decodeBatchMessage(body: Buffer): Decoded {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const v = (data as { v?: unknown }).v;
    if (v !== 1)
      return { ok: false, reason: `unsupported message version ${JSON.stringify(v)} (this worker reads 1)` };
  }
  if (!check(data)) return { ok: false, reason: `invalid batch message: ${describe(check.errors)}` };
  const problem = validateBatchMessage(data);
  if (problem) return { ok: false, reason: `invalid batch message: ${problem}` };
  return { ok: true, msg: data };
}

export function encodeBatchMessage(msg: BatchMessage): Buffer {
  const problem = validateBatchMessage(msg);
  if (problem) throw new RangeError(`refusing to publish an invalid batch message: ${problem}`);
  return Buffer.from(JSON.stringify(msg), 'utf8');
}
