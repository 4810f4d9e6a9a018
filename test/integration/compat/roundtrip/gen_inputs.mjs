// Writes in/products.parquet: the six Capillaries types with the Parquet types Capillaries writes
// (run from the repository root: node test/integration/compat/roundtrip/gen_inputs.mjs).
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';

const opt = (e) => ({ ...e, repetition_type: 'OPTIONAL' });
const data = {
  col_id: [1n, 2n, 3n, 4n, 5n, -6n],
  col_name: ['Keyboard', 'Monitor 27" wide', 'Cable, USB-C', '', 'Café crème', 'tab\there'],
  col_price: [4999n, 19900n, -350n, 0n, 123456789n, 1n],
  col_weight: [0.85, 5.125, 0.01, 0, -12.5, 1e-7],
  col_in_stock: [true, false, true, false, true, false],
  col_added: [
    new Date(Date.UTC(2023, 0, 2, 3, 4, 5, 678)),
    new Date(Date.UTC(2022, 11, 31, 23, 59, 59)),
    null,
    new Date(Date.UTC(1999, 0, 1, 12)),
    new Date(Date.UTC(2038, 0, 19, 3, 14, 8)),
    new Date(Date.UTC(1960, 5, 1)),
  ],
};
parquetWriteFile({
  filename: path.join(import.meta.dirname, 'in', 'products.parquet'),
  codec: 'SNAPPY',
  columnData: Object.entries(data).map(([name, d]) => ({ name, data: d })),
  schema: [
    { name: 'root', num_children: 6 },
    opt({ name: 'col_id', type: 'INT64' }),
    opt({ name: 'col_name', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    opt({ name: 'col_price', type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 2 }),
    opt({ name: 'col_weight', type: 'DOUBLE' }),
    opt({ name: 'col_in_stock', type: 'BOOLEAN' }),
    opt({ name: 'col_added', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }),
  ],
});
