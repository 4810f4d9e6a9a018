import { createRequire } from 'node:module';
import {
  MAX_TOKEN,
  MIN_TOKEN,
  rowidFor,
  rowidGenerator,
  splitTokenRange,
  tokenInRange,
  tokenOf,
} from '../../../src/store/index.js';

describe('tokenOf (Cassandra Murmur3Partitioner of a BIGINT key)', () => {
  // token(1) and token(2) as printed by cqlsh `select id, token(id)` on a real Cassandra with a bigint key;
  // the others are published Murmur3 test vectors for 8-byte big-endian keys. tokenOf was also compared
  // with `SELECT id, token(id)` on the project's Cassandra 5 test server for these keys and 200 pseudo-random
  // ones (all equal).
  test.each<[bigint, bigint]>([
    [0n, 2945182322382062539n],
    [1n, 6292367497774912474n],
    [2n, -8218881827949364593n],
    [3n, -8048510690352527683n],
    [-1n, 7071048584287372947n],
    [-9223372036854775808n, 9204767954415360687n],
    [1234567890123n, 8056999751681019901n],
  ])('token(%p) = %p', (key, token) => {
    expect(tokenOf(key)).toBe(token);
  });

  test('agrees with the cassandra-driver tokenizer on many keys (incl. bytes >= 0x80)', () => {
    const require = createRequire(import.meta.url);
    const { Murmur3Tokenizer } = require('cassandra-driver/lib/tokenizer.js') as {
      Murmur3Tokenizer: new () => { hash(b: Buffer): { getValue(): { toString(): string } } };
    };
    const t = new Murmur3Tokenizer();
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 3000; i++) {
      x = BigInt.asIntN(64, x * 6364136223846793005n + 1442695040888963407n);
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(x);
      expect(tokenOf(x)).toBe(BigInt(t.hash(b).getValue().toString()));
    }
  });
});

describe('splitTokenRange', () => {
  test('one batch is the whole ring', () => {
    expect(splitTokenRange(1)).toEqual([{ first: MIN_TOKEN, last: MAX_TOKEN }]);
  });

  test('exact Go integer arithmetic', () => {
    expect(splitTokenRange(2)).toEqual([
      { first: -9223372036854775808n, last: -2n },
      { first: -1n, last: 9223372036854775807n },
    ]);
    expect(splitTokenRange(3)).toEqual([
      { first: -9223372036854775808n, last: -3074457345618258605n },
      { first: -3074457345618258604n, last: 3074457345618258599n },
      { first: 3074457345618258600n, last: 9223372036854775807n },
    ]);
  });

  test.each([4, 7, 10, 100, 1000, 32768])('%i ranges are contiguous and cover the ring', (n) => {
    const r = splitTokenRange(n);
    expect(r).toHaveLength(n);
    expect(r[0]?.first).toBe(MIN_TOKEN);
    expect(r[n - 1]?.last).toBe(MAX_TOKEN);
    for (let i = 1; i < n; i++) expect(r[i]?.first).toBe((r[i - 1]?.last ?? 0n) + 1n);
    expect(tokenInRange(tokenOf(5n), r.find((x) => tokenInRange(tokenOf(5n), x)) ?? r[0]!)).toBe(true);
  });

  test('rejects non-positive counts', () => {
    expect(() => splitTokenRange(0)).toThrow(RangeError);
    expect(() => splitTokenRange(1.5)).toThrow(RangeError);
  });
});

describe('rowidFor', () => {
  test('deterministic, non-negative int63', () => {
    const a = rowidFor(3, 'orders', 7, 42);
    expect(rowidFor(3, 'orders', 7, 42)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0n);
    expect(a).toBeLessThan(1n << 63n);
    expect(rowidGenerator(3, 'orders', 7)(42n)).toBe(a);
  });

  test('depends on run, node, batch and sequence', () => {
    const base = rowidFor(1, 'n', 0, 0);
    expect(rowidFor(2, 'n', 0, 0)).not.toBe(base);
    expect(rowidFor(1, 'm', 0, 0)).not.toBe(base);
    expect(rowidFor(1, 'n', 1, 0)).not.toBe(base);
    expect(rowidFor(1, 'n', 0, 1)).not.toBe(base);
  });

  test('no collisions within a table (many batches x rows)', () => {
    const seen = new Set<bigint>();
    for (let b = 0; b < 100; b++) {
      const gen = rowidGenerator(1, 'node', b);
      for (let s = 0; s < 2000; s++) seen.add(gen(s));
    }
    expect(seen.size).toBe(200_000);
  });

  test('range checks', () => {
    expect(() => rowidFor(1, 'n', -1, 0)).toThrow(RangeError);
    expect(() => rowidFor(1, 'n', 1 << 20, 0)).toThrow(RangeError);
    expect(() => rowidFor(1, 'n', 0, 1n << 43n)).toThrow(RangeError);
  });
});
