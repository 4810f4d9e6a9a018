import { buildKey } from '../expr/index.js';
import type { TableFileNode } from '../script/index.js';
import type { Value } from '../values/index.js';
import { fieldError, fieldsOf } from './compute.js';
import { readerPages } from './table-reader.js';
import type { BatchContext, BatchResult, OutputFormat, RowFileWriter } from './types.js';

/** `{batch_idx}` and `{run_id}` in a table_file URL template → `%05d` of the batch index / run id. */
export function expandUrlTemplate(template: string, runId: number, batchIdx: number): string {
  return template.replace(/\{\s*(batch_idx|run_id)\s*(?:\|\s*string\s*)?\}/g, (_m, name: string) =>
    String(name === 'batch_idx' ? batchIdx : runId).padStart(5, '0'),
  );
}

/** Compares two strings by their UTF-8 bytes (= code point order), as Capillaries compares keys. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

interface TopRow {
  readonly key: string;
  readonly seq: number;
  readonly values: Value[];
}

/**
 * table_file: rows of the token range → column expressions → `having` → an output file (CSV/TSV or
 * Parquet), either streamed or, with `top`, the `limit` smallest order keys in ascending order. The file
 * is committed atomically at the end of the batch.
 */
export async function processTableFile(ctx: BatchContext, node: TableFileNode): Promise<BatchResult> {
  const { batch, io } = ctx;
  const { w } = node;
  const url = expandUrlTemplate(w.urlTemplate, batch.runId, batch.batchIdx);
  const format: OutputFormat =
    w.kind === 'parquet'
      ? { kind: 'parquet', codec: w.parquetCodec }
      : { kind: 'csv', separator: w.csvSeparator };
  const columns = w.columns.map((c) => ({
    name: c.name,
    type: c.type,
    csvHeader: c.csvHeader,
    csvFormat: c.csvFormat,
    parquetColumnName: c.parquetColumnName,
  }));
  const readFields = fieldsOf(
    'r',
    w.columns.map((c) => c.expr),
  );
  const top = w.top;
  const topPositions = top?.order.components.map((c) => w.columns.findIndex((col) => col.name === c.field));
  const limit = top ? Math.max(1, top.limit) : 0;
  let collected: TopRow[] = [];
  const trim = (): void => {
    collected.sort((a, b) => compareUtf8(a.key, b.key) || a.seq - b.seq);
    if (collected.length > limit) collected = collected.slice(0, limit);
  };

  const writer: RowFileWriter = await io.openFileWriter(url, format, columns);
  let rowsIn = 0;
  let rowsOut = 0;
  try {
    for await (const page of readerPages(ctx, node.r, readFields)) {
      for (const r of page) {
        const n = rowsIn++;
        const values: Value[] = [];
        const byName: Record<string, Value> = {};
        for (const c of w.columns) {
          let v: Value;
          try {
            v = c.expr.eval({ r });
          } catch (err) {
            throw fieldError(node.name, `row ${n} of table ${node.r.table}`, `w.columns.${c.name}`, err);
          }
          values.push(v);
          byName[c.name] = v;
        }
        if (w.having) {
          let keep: unknown;
          try {
            keep = w.having.eval({ w: byName });
          } catch (err) {
            throw fieldError(node.name, `row ${n} of table ${node.r.table}`, 'w.having', err);
          }
          if (keep !== true) continue;
        }
        if (top && topPositions) {
          const key = buildKey(
            top.order,
            topPositions.map((p) => values[p]!),
          );
          collected.push({ key, seq: n, values });
          if (collected.length >= 2 * limit && collected.length >= 1000) trim();
        } else {
          await writer.write(values);
          rowsOut++;
        }
      }
      ctx.onProgress?.({ rowsIn, rowsOut });
    }
    if (top) {
      trim();
      for (const row of collected) {
        await writer.write(row.values);
        rowsOut++;
      }
    }
    await writer.commit();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
  return {
    rowsIn,
    rowsOut,
    filesWritten: [url],
    comment: `${node.r.table} -> ${url}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}
