import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { COMPAT_DIR, expectOk, readLines, scenario } from './helpers.js';

jest.setTimeout(300_000);

const gzip = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(zlib.gunzipSync(input)),
};

async function readParquet(file: string): Promise<{
  rows: Record<string, unknown>[];
  schema: { name: string; type?: string; converted_type?: string; scale?: number }[];
  codecs: string[];
}> {
  const buf = await asyncBufferFromFile(file);
  const meta = await parquetMetadataAsync(buf);
  const rows = (await parquetReadObjects({ file: buf, compressors: gzip })) as Record<string, unknown>[];
  return {
    rows,
    schema: meta.schema.slice(1),
    codecs: (meta.row_groups[0]?.columns ?? []).map((c) => c.meta_data?.codec ?? ''),
  };
}

const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date =>
  new Date(Date.UTC(y, m - 1, d, h, mi, s, ms));

/**
 * fannie_mae-style pipeline: Parquet inputs (two files with different physical types, column names with
 * spaces, nulls) named by a stringlist parameter; distinct_table on a single and a composite unique key;
 * grouped left lookup with sum/sum_if/min_if/avg(float())/count/string_agg and 10000-row read sizes;
 * grouped inner lookup on a composite join_on; Parquet output with top, math.Round, fmt.Sprintf JSON and
 * strings.ReplaceAll; CSV output with `having` on string comparison and len(), top on three string keys,
 * %.2f. Expected values derived by hand from gen_inputs.mjs.
 */
describe('compat: Parquet loans pipeline', () => {
  test.each(['one', 'multi'] as const)(
    '%s: outputs hold the expected values and Parquet types',
    async (variant) => {
      const s = scenario('loans');
      try {
        const input = path.join(COMPAT_DIR, 'loans', 'in');
        const params = path.join(s.dir, 'params.json');
        fs.writeFileSync(
          params,
          JSON.stringify({
            dir_out: s.out,
            file_urls: [path.join(input, 'payments_0.parquet'), path.join(input, 'payments_1.parquet')],
            expected_batches: 3,
            manual_if_multi: variant === 'one' ? 'auto' : 'manual',
          }),
        );
        expectOk(await s.run('script.json', { params, startNodes: 'read_payments', param: {} }));
        if (variant === 'multi') {
          // as the multi variants of the suites: manual nodes started by later runs in the same keyspace
          expect(fs.existsSync(path.join(s.out, 'payments_out.parquet'))).toBe(true);
          expect(fs.existsSync(path.join(s.out, 'loan_smrs_clcltd.parquet'))).toBe(false);
          expectOk(
            await s.run('script.json', {
              params,
              startNodes: 'distinct_loans,distinct_deal_sellers',
              param: {},
            }),
          );
          expect(fs.existsSync(path.join(s.out, 'loan_smrs_clcltd.parquet'))).toBe(false);
          const third = await s.run('script.json', { params, startNodes: 'loan_summaries', param: {} });
          expectOk(third);
          expect(third.stdout).toMatch(/^run 3 /);
        }

        expect(readLines(path.join(s.out, 'deal_seller_summaries.csv'))).toEqual(
          readLines(path.join(COMPAT_DIR, 'loans', 'expected', 'deal_seller_summaries.csv')),
        );

        const smrs = await readParquet(path.join(s.out, 'loan_smrs_clcltd.parquet'));
        expect(smrs.codecs.every((c) => c === 'SNAPPY')).toBe(true);
        expect(smrs.schema.map((e) => [e.name, e.type, e.converted_type])).toEqual([
          ['Loan Id', 'INT64', undefined],
          ['deal_name', 'BYTE_ARRAY', 'UTF8'],
          ['total_upb', 'INT64', 'DECIMAL'],
          ['upb_modified', 'INT64', 'DECIMAL'],
          ['min_rate_unmodified', 'DOUBLE', undefined],
          ['avg_upb', 'DOUBLE', undefined],
          ['payment_count', 'INT64', undefined],
          ['months', 'BYTE_ARRAY', 'UTF8'],
          ['json', 'BYTE_ARRAY', 'UTF8'],
        ]);
        const maxFloat64 = 1.7976931348623157e308; // min_if seed when nothing matched
        const expected: [number, string, number, number, number, number, number, string[], string][] = [
          [1, 'Deal A', 1990.5, 990.5, 5.5, 995.3, 2, ['2023-01', '2023-02'], '1990.5,"modified":990.5'],
          [2, 'Deal A', 980.1, 980.1, maxFloat64, 490.1, 2, ['2023-01', '2023-02'], '980.1,"modified":980.1'],
          [3, 'Deal B', 490.25, 0, 4.5, 245.1, 2, ['2023-01', '2023-02'], '490.25,"modified":0'],
          [4, 'Deal B', 0, 0, 0, 0, 1, ['2023-01'], '0,"modified":0'],
          [5, 'Deal A', 10, 0, 3, 10, 1, ['2023-01'], '10,"modified":0'],
          [6, 'Deal B', 50, 50, maxFloat64, 50, 1, ['2023-02'], '50,"modified":50'],
          [7, 'Alpha', 1, 0, 1, 1, 1, ['2023-01'], '1,"modified":0'],
        ];
        expect(
          smrs.rows.map((r) => [
            Number(r['Loan Id']),
            r.deal_name,
            r.total_upb,
            r.upb_modified,
            r.min_rate_unmodified,
            r.avg_upb,
            Number(r.payment_count),
            String(r.months).split(',').sort(),
            r.json,
          ]),
        ).toEqual(
          expected.map(([id, deal, upb, mod, minRate, avg, n, months, tail]) => [
            id,
            deal,
            upb,
            mod,
            minRate,
            avg,
            n,
            months,
            `{"loan":${id},"deal":"${deal.replace(' ', '_')}","upb":${tail}}`,
          ]),
        );

        const pays = await readParquet(path.join(s.out, 'payments_out.parquet'));
        expect(pays.codecs.every((c) => c === 'GZIP')).toBe(true);
        expect(pays.schema.map((e) => [e.name, e.type, e.converted_type, e.scale])).toEqual([
          ['loan_id', 'INT64', undefined, undefined],
          ['month', 'BYTE_ARRAY', 'UTF8', undefined],
          ['upb', 'INT64', 'DECIMAL', 2],
          ['rate', 'DOUBLE', undefined, undefined],
          ['modified', 'BOOLEAN', undefined, undefined],
          ['paid_at', 'INT64', 'TIMESTAMP_MILLIS', undefined],
        ]);
        expect(
          pays.rows.map((r) => [Number(r.loan_id), r.month, r.upb, r.rate, r.modified, r.paid_at]),
        ).toEqual([
          [1, '2023-01', 1000, 5.5, false, utc(2023, 1, 15, 10, 0, 0, 123)],
          [1, '2023-02', 990.5, 5.25, true, utc(2023, 2, 15)],
          [2, '2023-01', 500, 6, true, null], // null in, zero datetime in the table, null out
          [2, '2023-02', 480.1, 6, true, utc(2023, 2, 16)],
          [3, '2023-01', 250.25, 4.75, false, utc(2023, 1, 20, 23, 59, 59, 999)],
          [3, '2023-02', 240, 4.5, false, utc(2023, 2, 20)],
          [4, '2023-01', 0, 0, false, utc(2023, 1, 5)], // null decimal and float in: zero values
          [5, '2023-01', 10, 3, false, utc(2023, 1, 31)],
          [6, '2023-02', 50, 7, true, null],
          [7, '2023-01', 1, 1, false, utc(1999, 12, 31)],
        ]);
      } finally {
        s.cleanup();
      }
    },
  );
});
