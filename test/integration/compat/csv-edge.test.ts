import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { COMPAT_DIR, expectOk, scenario } from './helpers.js';

jest.setTimeout(300_000);

/**
 * CSV reading and writing details (§3.1, §3.2): blank lines skipped, `;` separator with a quoted field,
 * col_default_value of every type for empty (or blank) cells, %f Sscanf of 1e3, decimal2 rounding half away
 * from zero, a header with a comma, \r\n after the header only, %03d, %8s of a decimal, %v of a bool,
 * a Go layout with `_2` and `Z07:00`. Expected bytes derived by hand from in/items.csv.
 */
describe('compat: CSV details', () => {
  test('output bytes equal the expected file', async () => {
    const s = scenario('csv_edge');
    try {
      expectOk(await s.run('script.yaml', { startNodes: 'read', param: {} }));
      expect(fs.readFileSync(path.join(s.out, 'items_out.csv'), 'utf8')).toBe(
        fs.readFileSync(path.join(COMPAT_DIR, 'csv_edge', 'expected', 'items_out.csv'), 'utf8'),
      );
    } finally {
      s.cleanup();
    }
  });
});
