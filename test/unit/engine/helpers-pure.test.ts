import { compareUtf8, expandUrlTemplate } from '../../../src/engine/index.js';

describe('table_file URL templates', () => {
  test('{batch_idx} and {run_id} become %05d numbers', () => {
    expect(expandUrlTemplate('/out/x_{batch_idx}.csv', 3, 7)).toBe('/out/x_00007.csv');
    expect(expandUrlTemplate('s3://b/{run_id}/part_{batch_idx|string}.parquet', 12, 0)).toBe(
      's3://b/00012/part_00000.parquet',
    );
    expect(expandUrlTemplate('/out/{ batch_idx }.csv', 1, 123456)).toBe('/out/123456.csv');
    expect(expandUrlTemplate('/out/plain.csv', 1, 2)).toBe('/out/plain.csv');
  });
});

describe('byte-wise key order', () => {
  test('matches UTF-8 byte order, also for characters outside the BMP', () => {
    const words = ['b', 'a', 'ab', '', 'é', 'z', '\uffff', '😀', '\ue000', 'A'];
    const expected = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(compareUtf8)).toEqual(expected);
  });
});
