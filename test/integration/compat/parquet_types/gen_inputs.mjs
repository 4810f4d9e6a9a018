// Writes in/encodings.parquet: the same values under different encodings, several row groups, NaN, empty
// strings and nulls (run from the repository root: node test/integration/compat/parquet_types/gen_inputs.mjs).
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';

const n = 12;
const ids = Array.from({ length: n }, (_, i) => BigInt(i * 1000 - 3000));
const names = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? '' : `name ${i % 3}`));
const flags = Array.from({ length: n }, (_, i) => i % 3 === 0);
const ratios = Array.from({ length: n }, (_, i) => (i === 5 ? NaN : i / 4));
const counts = Array.from({ length: n }, (_, i) => (i === 7 ? null : i - 6));
const opt = (e) => ({ ...e, repetition_type: 'OPTIONAL' });
parquetWriteFile({
  filename: path.join(import.meta.dirname, 'in', 'encodings.parquet'),
  rowGroupSize: 5,
  columnData: [
    { name: 'id', data: ids, encoding: 'DELTA_BINARY_PACKED' },
    { name: 'name', data: names, encoding: 'DELTA_BYTE_ARRAY' },
    { name: 'name_dict', data: names },
    { name: 'flag', data: flags, encoding: 'RLE' },
    { name: 'ratio', data: ratios, encoding: 'BYTE_STREAM_SPLIT' },
    { name: 'count', data: counts, encoding: 'DELTA_BINARY_PACKED' },
  ],
  schema: [
    { name: 'root', num_children: 6 },
    opt({ name: 'id', type: 'INT64' }),
    opt({ name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'name_dict', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'flag', type: 'BOOLEAN' }),
    opt({ name: 'ratio', type: 'DOUBLE' }),
    opt({ name: 'count', type: 'INT32' }),
  ],
});
