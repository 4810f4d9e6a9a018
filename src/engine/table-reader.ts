import type { TableReaderDef } from '../script/index.js';
import type { BatchContext, Row } from './types.js';

/** Pages of the reader table's rows inside the batch's token range (r.rowset_size rows per page). */
export async function* readerPages(
  ctx: BatchContext,
  reader: TableReaderDef,
  fields: readonly string[],
): AsyncIterable<Row[]> {
  const runId = ctx.readerRunId ?? ctx.batch.runId;
  const range = { first: ctx.batch.firstToken, last: ctx.batch.lastToken };
  for await (const page of ctx.store.scanRange(
    ctx.ks,
    { name: reader.table, runId },
    range,
    fields,
    reader.rowsetSize > 0 ? reader.rowsetSize : 1000,
  )) {
    yield page.map((p) => ({ ...p.values }));
  }
}
