import { jest } from '@jest/globals';
import path from 'node:path';
import { COMPAT_DIR, expectOk, readLines, scenario } from './helpers.js';

jest.setTimeout(300_000);

/** Parquet reader edge cases end to end: every physical/logical type Capillaries reads, and a row of nulls. */
describe('compat: Parquet input types', () => {
  test('INT96, DATE, TIMESTAMP millis/micros, decimals in INT32/INT64/FLBA, nulls; delta, RLE, byte-stream-split encodings, NaN, several row groups -> CSV', async () => {
    const s = scenario('parquet_types');
    try {
      expectOk(await s.run('script.json', { startNodes: 'read_types,read_encodings', param: {} }));
      for (const f of ['types.csv', 'encodings.csv']) {
        expect(readLines(path.join(s.out, f))).toEqual(
          readLines(path.join(COMPAT_DIR, 'parquet_types', 'expected', f)),
        );
      }
    } finally {
      s.cleanup();
    }
  });
});
