// Writes in/payments_0.parquet and in/payments_1.parquet (run from the repository root:
// node test/integration/compat/loans/gen_inputs.mjs). The two files use different physical types for the
// same columns (decimal in INT64 vs FIXED_LEN_BYTE_ARRAY, DOUBLE vs FLOAT, TIMESTAMP_MICROS vs DATE).
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';

const dir = path.join(import.meta.dirname, 'in');
const opt = (e) => ({ ...e, repetition_type: 'OPTIONAL' });

const file0 = {
  'Loan Id': [1n, 1n, 2n, 3n],
  'Deal Name': ['Deal A', 'Deal A', 'Deal A', 'Deal B'],
  'Seller Name': ['Acme', 'Acme', 'Bolt', 'Acme'],
  'Payment Month': ['2023-01', '2023-02', '2023-01', '2023-01'],
  Upb: [100000n, 99050n, 50000n, 25025n],
  Rate: [5.5, 5.25, 6.0, 4.75],
  'Is Modified': [false, true, true, false],
  'Paid At': [
    new Date(Date.UTC(2023, 0, 15, 10, 0, 0, 123)),
    new Date(Date.UTC(2023, 1, 15)),
    null,
    new Date(Date.UTC(2023, 0, 20, 23, 59, 59, 999)),
  ],
};
parquetWriteFile({
  filename: path.join(dir, 'payments_0.parquet'),
  codec: 'UNCOMPRESSED',
  columnData: Object.entries(file0).map(([name, data]) => ({ name, data })),
  schema: [
    { name: 'root', num_children: 8 },
    opt({ name: 'Loan Id', type: 'INT64' }),
    opt({ name: 'Deal Name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'Seller Name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'Payment Month', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'Upb', type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 18 }),
    opt({ name: 'Rate', type: 'DOUBLE' }),
    opt({ name: 'Is Modified', type: 'BOOLEAN' }),
    opt({ name: 'Paid At', type: 'INT64', converted_type: 'TIMESTAMP_MICROS' }),
  ],
});

const file1 = {
  'Loan Id': [2, 3, 4, 5, 6, 7],
  'Deal Name': ['Deal A', 'Deal B', 'Deal B', 'Deal A', 'Deal B', 'Alpha'],
  'Seller Name': ['Bolt', 'Acme', 'Cord', 'Acme', 'Dynamo', 'Acme'],
  'Payment Month': ['2023-02', '2023-02', '2023-01', '2023-01', '2023-02', '2023-01'],
  Upb: [48010n, 24000n, null, 1000n, 5000n, 100n],
  Rate: [6.0, 4.5, null, 3.0, 7.0, 1.0],
  'Is Modified': [true, false, false, false, true, false],
  'Paid At': [
    new Date(Date.UTC(2023, 1, 16)),
    new Date(Date.UTC(2023, 1, 20)),
    new Date(Date.UTC(2023, 0, 5)),
    new Date(Date.UTC(2023, 0, 31)),
    null,
    new Date(Date.UTC(1999, 11, 31)),
  ],
};
parquetWriteFile({
  filename: path.join(dir, 'payments_1.parquet'),
  codec: 'SNAPPY',
  columnData: Object.entries(file1).map(([name, data]) => ({ name, data })),
  schema: [
    { name: 'root', num_children: 8 },
    opt({ name: 'Loan Id', type: 'INT32' }),
    opt({ name: 'Deal Name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'Seller Name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'Payment Month', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({
      name: 'Upb',
      type: 'FIXED_LEN_BYTE_ARRAY',
      type_length: 6,
      converted_type: 'DECIMAL',
      scale: 2,
      precision: 12,
    }),
    opt({ name: 'Rate', type: 'FLOAT' }),
    opt({ name: 'Is Modified', type: 'BOOLEAN' }),
    opt({ name: 'Paid At', type: 'INT32', converted_type: 'DATE' }),
  ],
});
