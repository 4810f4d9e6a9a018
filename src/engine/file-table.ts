import type { FileTableNode } from '../script/index.js';
import {
  decimalFromFloat,
  decimalFromInt,
  decimalToFloat,
  valueTypeOf,
  zeroValue,
  type Decimal,
  type FieldType,
  type Value,
} from '../values/index.js';
import { computeRow } from './compute.js';
import { BatchError } from './errors.js';
import { TableWriter } from './table-writer.js';
import type { BatchContext, BatchResult, Row } from './types.js';

const PROGRESS_EVERY = 1000;

/** file_table: one input file per batch (r.urls[batch_idx]) → the node's table and indexes. */
export async function processFileTable(ctx: BatchContext, node: FileTableNode): Promise<BatchResult> {
  const { batch } = ctx;
  const url = node.r.urls[batch.batchIdx];
  if (url === undefined) {
    throw new BatchError(
      `node ${node.name}: batch ${batch.batchIdx} has no input file (r.urls has ${node.r.urls.length} entries)`,
    );
  }
  const writer = new TableWriter(ctx.store, ctx.ks, batch.runId, node.name, batch.batchIdx, node.w, 'normal');
  let rowsIn = 0;
  const emit = async (r: Row, where: () => string): Promise<void> => {
    rowsIn++;
    const row = computeRow(node.name, node.w, { r }, where);
    if (row) await writer.add(row);
    if (rowsIn % PROGRESS_EVERY === 0) ctx.onProgress?.({ rowsIn, rowsOut: writer.rowsAdded });
  };

  if (node.r.kind === 'parquet') {
    const cols = node.r.columns;
    const request = cols.map((c) => ({ name: c.name, column: c.parquetColName ?? c.name }));
    let n = 0;
    for await (const rec of ctx.io.readParquet(url, request)) {
      const r: Row = {};
      for (const c of cols) {
        const v = rec[c.name];
        r[c.name] =
          v === null || v === undefined
            ? zeroValue(c.type)
            : parquetValue(v, c.type, url, c.parquetColName ?? c.name, n);
      }
      const rowNo = n;
      await emit(r, () => `${url}: row ${rowNo}`);
      n++;
    }
  } else {
    await readCsvRows(ctx, node, url, emit);
  }
  const rowsOut = await writer.finish(ctx.rerun === true);
  return {
    rowsIn,
    rowsOut,
    filesWritten: [],
    comment: `${url} -> ${node.w.name}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}

async function readCsvRows(
  ctx: BatchContext,
  node: FileTableNode,
  url: string,
  emit: (r: Row, where: () => string) => Promise<void>,
): Promise<void> {
  const { r } = node;
  const cols = r.columns;
  const parsers = cols.map((c) =>
    ctx.io.cellParser(
      { name: c.name, type: c.type, format: c.csvColFormat, defaultValue: c.defaultValue },
      `node ${node.name}: ${url}`,
    ),
  );
  let indexes: number[] | undefined =
    r.columnMode === 'header' ? undefined : cols.map((c) => c.csvColIdx ?? 0);
  for await (const rec of ctx.io.readCsv(url, r.csv.separator)) {
    if (r.columnMode === 'header' && rec.index === r.csv.hdrLineIdx) {
      indexes = cols.map((c) => {
        const i = rec.fields.indexOf(c.csvColHdr ?? '');
        if (i < 0) {
          throw new BatchError(
            `node ${node.name}: ${url}: line ${rec.line}: the header has no column "${c.csvColHdr}" ` +
              `(r.columns.${c.name}.csv.col_hdr); header columns: ${rec.fields.join(', ')}`,
          );
        }
        return i;
      });
      continue;
    }
    if (rec.index < r.csv.firstDataLineIdx) continue;
    if (!indexes) {
      throw new BatchError(
        `node ${node.name}: ${url}: line ${rec.line} is data (first_data_line_idx ${r.csv.firstDataLineIdx}) ` +
          `but the header line ${r.csv.hdrLineIdx} was not read before it`,
      );
    }
    const row: Row = {};
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      const idx = indexes[i]!;
      const cell = rec.fields[idx];
      if (cell === undefined) {
        throw new BatchError(
          `node ${node.name}: ${url}: line ${rec.line}, column r.${c.name}: the line has ${rec.fields.length} ` +
            `fields, there is no field ${idx}`,
        );
      }
      try {
        row[c.name] = parsers[i]!(cell);
      } catch (err) {
        throw new BatchError(
          `node ${node.name}: ${url}: line ${rec.line}, column r.${c.name} (${c.type}): ` +
            `cannot use ${JSON.stringify(cell)}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    }
    const line = rec.line;
    await emit(row, () => `${url}: line ${line}`);
  }
  if (!indexes) {
    throw new BatchError(`node ${node.name}: ${url}: the file has no header line ${r.csv.hdrLineIdx}`);
  }
}

/** Parquet values carry the file's type; widen numbers to the declared col_type, refuse the rest. */
function parquetValue(v: Value, type: FieldType, url: string, column: string, row: number): Value {
  const actual = valueTypeOf(v);
  if (actual === type) return v;
  if (type === 'float' && (actual === 'int' || actual === 'decimal2')) {
    return actual === 'int' ? Number(v as bigint) : decimalToFloat(v as Decimal);
  }
  if (type === 'decimal2' && actual === 'int') return decimalFromInt(v as bigint);
  if (type === 'decimal2' && actual === 'float') return decimalFromFloat(v as number);
  if (type === 'int' && actual === 'decimal2' && (v as Decimal).isInteger())
    return BigInt((v as Decimal).toFixed(0));
  throw new BatchError(
    `${url}: row ${row}, column ${column}: the file holds ${actual} values, col_type is ${type}`,
  );
}
