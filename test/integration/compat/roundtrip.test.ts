import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { COMPAT_DIR, expectOk, scenario } from './helpers.js';

jest.setTimeout(300_000);

const SRC = path.join(COMPAT_DIR, 'roundtrip');

/** The script with its folders written in (as a generated script would be): the run uses no params file. */
function concreteScript(name: string, dir: string, out: string): string {
  const text = fs
    .readFileSync(path.join(SRC, 'cfg', name), 'utf8')
    .replaceAll('{dir_in}', path.join(SRC, 'in'))
    .replaceAll('{dir_out}', out);
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function readParquet(file: string): Promise<{ schema: unknown[]; rows: Record<string, unknown>[] }> {
  const buf = await asyncBufferFromFile(file);
  const meta = await parquetMetadataAsync(buf);
  return {
    schema: meta.schema.slice(1).map((e) => [e.name, e.type, e.converted_type, e.scale, e.repetition_type]),
    rows: (await parquetReadObjects({
      file: buf,
      compressors: { GZIP: (b: Uint8Array) => new Uint8Array(zlib.gunzipSync(b)) },
    })) as Record<string, unknown>[],
  };
}

/** proto_file_reader_creator-style round trips of all six types, runs started with no params file. */
describe('compat: round trips of the six types', () => {
  test('TSV -> table -> TSV: the output equals the input byte for byte (header line ends in \\r\\n)', async () => {
    const s = scenario('roundtrip');
    try {
      const script = concreteScript('script_csv.json', s.dir, s.out);
      expectOk(await s.run(script, { startNodes: 'read_products' }));
      const input = fs.readFileSync(path.join(SRC, 'in', 'products.tsv'), 'utf8');
      const output = fs.readFileSync(path.join(s.out, 'products.tsv'), 'utf8');
      expect(output).toBe(input.replace('\n', '\r\n'));
    } finally {
      s.cleanup();
    }
  });

  test('Parquet -> table -> Parquet: same columns, types and values in id order (null datetime stays null)', async () => {
    const s = scenario('roundtrip');
    try {
      const script = concreteScript('script_parquet.json', s.dir, s.out);
      expectOk(await s.run(script, { startNodes: 'read_products' }));
      const input = await readParquet(path.join(SRC, 'in', 'products.parquet'));
      const output = await readParquet(path.join(s.out, 'products.parquet'));
      expect(output.schema).toEqual(input.schema);
      const byId = [...input.rows].sort((a, b) => Number(a.col_id) - Number(b.col_id));
      expect(output.rows).toEqual(byId);
      expect(output.rows.map((r) => r.col_added === null)).toEqual([false, false, false, true, false, false]);
    } finally {
      s.cleanup();
    }
  });
});
