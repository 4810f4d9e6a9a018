import { processFileTable } from './file-table.js';
import { processLookup } from './lookup.js';
import { processPyCalc } from './py-calc.js';
import { processTableFile } from './table-file.js';
import { processTableTable } from './table-table.js';
import { processTagAndDenormalize } from './tag-and-denormalize.js';
import { errorMessage, TransientError } from '../errors/index.js';
import { BatchError } from './errors.js';
import type { BatchContext, BatchResult } from './types.js';

/**
 * Processes one batch of one node: read → evaluate → write. Errors other than transient ones come out as
 * BatchErrors whose message starts with the node name.
 */
export async function processBatch(ctx: BatchContext): Promise<BatchResult> {
  try {
    return await dispatch(ctx);
  } catch (err) {
    if (err instanceof TransientError) throw err;
    const prefix = `node ${ctx.node.name}`;
    const msg = errorMessage(err);
    if (err instanceof BatchError && msg.startsWith(prefix)) throw err;
    throw new BatchError(msg.startsWith(prefix) ? msg : `${prefix}: ${msg}`, { cause: err });
  }
}

function dispatch(ctx: BatchContext): Promise<BatchResult> {
  const node = ctx.node;
  switch (node.type) {
    case 'file_table':
      return processFileTable(ctx, node);
    case 'table_table':
    case 'distinct_table':
      return processTableTable(ctx, node);
    case 'table_lookup_table':
      return processLookup(ctx, node);
    case 'table_file':
      return processTableFile(ctx, node);
    case 'table_custom_tfm_table':
      return node.p.kind === 'py_calc'
        ? processPyCalc(ctx, node, node.p)
        : processTagAndDenormalize(ctx, node, node.p);
  }
}
