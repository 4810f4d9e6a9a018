import type { CustomTfmTableNode, TagAndDenormalizeDef } from '../script/index.js';
import { computeRow, fieldError, fieldsOf } from './compute.js';
import { readerPages } from './table-reader.js';
import { TableWriter } from './table-writer.js';
import type { BatchContext, BatchResult } from './types.js';

/**
 * tag_and_denormalize: for every input row and every tag whose criterion holds, one output row with
 * `p.<tag_field_name>` = the tag and all `r.*` values.
 */
export async function processTagAndDenormalize(
  ctx: BatchContext,
  node: CustomTfmTableNode,
  p: TagAndDenormalizeDef,
): Promise<BatchResult> {
  const { batch } = ctx;
  const writer = new TableWriter(ctx.store, ctx.ks, batch.runId, node.name, batch.batchIdx, node.w, 'normal');
  const fields = fieldsOf('r', [...p.criteria.map((c) => c.expr), ...node.w.fields.map((f) => f.expr)]);
  let rowsIn = 0;
  for await (const page of readerPages(ctx, node.r, fields)) {
    for (const r of page) {
      const n = rowsIn++;
      const where = (): string => `row ${n} of table ${node.r.table}`;
      for (const c of p.criteria) {
        let hit: unknown;
        try {
          hit = c.expr.eval({ r });
        } catch (err) {
          throw fieldError(node.name, where(), `p.tag_criteria.${c.tag}`, err);
        }
        if (hit !== true) continue;
        const row = computeRow(node.name, node.w, { r, p: { [p.tagFieldName]: c.tag } }, where);
        if (row) await writer.add(row);
      }
    }
    ctx.onProgress?.({ rowsIn, rowsOut: writer.rowsAdded });
  }
  const rowsOut = await writer.finish(ctx.rerun === true);
  return {
    rowsIn,
    rowsOut,
    filesWritten: [],
    comment: `${node.r.table} (tag_and_denormalize) -> ${node.w.name}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}
