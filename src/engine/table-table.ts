import type { DistinctTableNode, TableTableNode } from '../script/index.js';
import { computeRow, fieldsOf } from './compute.js';
import { readerPages } from './table-reader.js';
import { TableWriter } from './table-writer.js';
import type { BatchContext, BatchResult } from './types.js';

/** table_table and distinct_table: rows of the token range → computed fields → the node's table. */
export async function processTableTable(
  ctx: BatchContext,
  node: TableTableNode | DistinctTableNode,
): Promise<BatchResult> {
  const { batch } = ctx;
  const distinct = node.type === 'distinct_table';
  const writer = new TableWriter(
    ctx.store,
    ctx.ks,
    batch.runId,
    node.name,
    batch.batchIdx,
    node.w,
    distinct ? 'distinct' : 'normal',
  );
  const fields = fieldsOf(
    'r',
    node.w.fields.map((f) => f.expr),
  );
  let rowsIn = 0;
  for await (const page of readerPages(ctx, node.r, fields)) {
    for (const r of page) {
      const n = rowsIn++;
      const row = computeRow(node.name, node.w, { r }, () => `row ${n} of table ${node.r.table}`);
      if (row) await writer.add(row);
    }
    ctx.onProgress?.({ rowsIn, rowsOut: writer.rowsAdded });
  }
  const rowsOut = await writer.finish(ctx.rerun === true);
  return {
    rowsIn,
    rowsOut,
    filesWritten: [],
    comment: `${node.r.table} -> ${node.w.name}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}
