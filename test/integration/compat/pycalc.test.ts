import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { COMPAT_DIR, expectOk, readLines, scenario, sortedDataLines } from './helpers.js';

jest.setTimeout(300_000);

/**
 * py_calc-style pipeline: 5 input files (5 batches), decimal math in a table_table, a py_calc node with
 * outputs of every type and chained p.* fields from two .py files, a table_file with 2 batches and
 * {batch_idx} in its URL, top. Expected output computed by gen_expected.py.
 */
describe('compat: py_calc pipeline', () => {
  test('two output parts, concatenated and sorted, equal the expected rows', async () => {
    const s = scenario('pycalc');
    try {
      const res = await s.run('script.json', {
        params: 'params.json',
        startNodes: 'read_items',
        param: { dir_py: path.join(COMPAT_DIR, 'pycalc', 'cfg') },
      });
      expectOk(res);
      const parts = ['taxed_items_00000.csv', 'taxed_items_00001.csv'].map((f) => path.join(s.out, f));
      for (const p of parts) {
        const text = fs.readFileSync(p, 'utf8');
        expect(
          text.startsWith(
            'id,value_taxed,price_dec,taxed_value,doubled,next_day,label,is_big,name_len,not_flag\r\n',
          ),
        ).toBe(true);
        // top: each part in ascending id order
        const ids = readLines(p)
          .slice(1)
          .map((l) => Number(l.split(',')[0]));
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
      const expected = readLines(path.join(COMPAT_DIR, 'pycalc', 'expected', 'taxed_items.csv')).slice(1);
      expect(sortedDataLines(parts)).toEqual(
        [...expected].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
    } finally {
      s.cleanup();
    }
  });
});
