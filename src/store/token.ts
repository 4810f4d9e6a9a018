import type { TokenRange } from './types.js';

/**
 * Token arithmetic shared by both stores. `tokenOf` is the token Cassandra's Murmur3Partitioner assigns to
 * a BIGINT partition key, so the embedded store orders and splits rows exactly like Cassandra does.
 */

export const MIN_TOKEN = -(1n << 63n);
export const MAX_TOKEN = (1n << 63n) - 1n;

const MASK64 = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK64;
}

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
}

/**
 * Cassandra's Murmur3Partitioner token of a BIGINT partition key: MurmurHash3 x64 128 (seed 0) over the
 * 8-byte big-endian value, first 64 bits as a signed long, Long.MIN_VALUE mapped to Long.MAX_VALUE.
 * Cassandra's implementation sign-extends the tail bytes (Java bytes are signed); this reproduces that.
 */
export function tokenOf(rowid: bigint): bigint {
  const v = BigInt.asUintN(64, rowid);
  // key bytes b0..b7 are the big-endian bytes of v; the 8-byte tail is k1 = xor of signExt(b_i) << 8i
  let k1 = 0n;
  for (let i = 0n; i < 8n; i++) {
    const b = (v >> ((7n - i) * 8n)) & 0xffn;
    const ext = b >= 0x80n ? b | ~0xffn : b; // Java's (long) of a negative byte
    k1 ^= (ext << (8n * i)) & MASK64;
  }
  k1 = (k1 * C1) & MASK64;
  k1 = rotl64(k1, 31n);
  k1 = (k1 * C2) & MASK64;
  let h1 = k1 ^ 8n; // h1 = 0 ^ k1, then ^= length
  let h2 = 8n; // h2 = 0 ^ length
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  const token = BigInt.asIntN(64, h1);
  return token === MIN_TOKEN ? MAX_TOKEN : token;
}

/**
 * The token ranges of `n` batches (Capillaries' batching of table readers): n = 1 is the whole ring;
 * otherwise step = MaxInt64/n − MinInt64/n (integer division truncating toward zero), range i starts at
 * MinInt64 + i·step and ends one before the next start; the last range ends at MaxInt64.
 */
export function splitTokenRange(n: number): TokenRange[] {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`number of token ranges must be a positive integer, got ${n}`);
  if (n === 1) return [{ first: MIN_TOKEN, last: MAX_TOKEN }];
  const N = BigInt(n);
  const step = MAX_TOKEN / N - MIN_TOKEN / N; // BigInt division truncates toward zero, like Go
  const out: TokenRange[] = [];
  let left = MIN_TOKEN;
  for (let i = 0; i < n; i++) {
    const last = i === n - 1 ? MAX_TOKEN : left + step - 1n;
    out.push({ first: left, last });
    left += step;
  }
  return out;
}

export function tokenInRange(token: bigint, range: TokenRange): boolean {
  return token >= range.first && token <= range.last;
}

const MASK63 = (1n << 63n) - 1n;
/** Largest batch index and row sequence `rowidFor` accepts. */
export const MAX_ROWID_BATCH_IDX = (1 << 20) - 1;
export const MAX_ROWID_SEQ = (1n << 43n) - 1n;

function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & MASK64;
  }
  return h;
}

/**
 * A row id generator for one batch: `seq` → a non-negative int63 that is the same every time the batch
 * is processed, so a re-processed batch overwrites its own rows. Within one (run, node) — one table — the
 * mapping is injective: (batchIdx, seq) is packed into 63 bits (20 + 43) and passed through a bijective
 * mix keyed by run and node, so two rows of a table never share an id and the ids look random.
 */
export function rowidGenerator(
  runId: number,
  node: string,
  batchIdx: number,
): (seq: number | bigint) => bigint {
  if (!Number.isInteger(batchIdx) || batchIdx < 0 || batchIdx > MAX_ROWID_BATCH_IDX) {
    throw new RangeError(`batch index ${batchIdx} is outside 0..${MAX_ROWID_BATCH_IDX}`);
  }
  const key = fnv1a64(`${runId}/${node}`) & MASK63;
  const hi = BigInt(batchIdx) << 43n;
  return (seq) => {
    const s = BigInt(seq);
    if (s < 0n || s > MAX_ROWID_SEQ) throw new RangeError(`row sequence ${s} is outside 0..${MAX_ROWID_SEQ}`);
    let x = (hi | s) ^ key;
    // each step is a bijection on 63-bit integers
    x = (x * 0x5851f42d4c957f2dn) & MASK63;
    x ^= x >> 31n;
    x = (x * 0x14057b7ef767814fn) & MASK63;
    x ^= x >> 29n;
    return x;
  };
}

/** The row id of row `seq` of batch `batchIdx` of `node` in run `runId` (see rowidGenerator). */
export function rowidFor(runId: number, node: string, batchIdx: number, seq: number | bigint): bigint {
  return rowidGenerator(runId, node, batchIdx)(seq);
}
