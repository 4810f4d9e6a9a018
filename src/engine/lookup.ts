import type { Accumulator, Env } from '../expr/index.js';
import { buildKey } from '../expr/index.js';
import type { LookupTableNode } from '../script/index.js';
import { parseDefaultValue, zeroValue, type FieldType, type Value } from '../values/index.js';
import { fieldError, fieldsOf, havingPasses } from './compute.js';
import { BatchError } from './errors.js';
import { readerPages } from './table-reader.js';
import { TableWriter } from './table-writer.js';
import type { BatchContext, BatchResult, Row } from './types.js';

const KEYS_PER_QUERY = 1000;

/**
 * table_lookup_table: for each page of left rows, find right rows through the lookup index, then
 * emit one row per (left, right) pair (no group) or one row per left row with aggregates (group);
 * left joins give unmatched left rows default values.
 */
export async function processLookup(ctx: BatchContext, node: LookupTableNode): Promise<BatchResult> {
  const { batch, store, ks } = ctx;
  const { l, w } = node;
  const lookupRunId = ctx.lookupRunId ?? batch.runId;
  const writer = new TableWriter(store, ks, batch.runId, node.name, batch.batchIdx, w, 'normal');

  // The left key is built from left fields named like the index components (Capillaries does so); when
  // the left table has no such field, the join_on field in the same position is used.
  const leftTableFields = ctx.script.tableFields(node.r.table);
  const keyFields = l.index.components.map((c, i) => {
    if (Object.hasOwn(leftTableFields, c.field)) return c.field;
    const j = l.joinOn[i];
    const name = j === undefined ? undefined : j.replace(/^\s*r\./, '').trim();
    if (name === undefined || !Object.hasOwn(leftTableFields, name)) {
      throw new BatchError(
        `node ${node.name}: l.join_on: no left field for index component ${c.field} of ${l.indexName}`,
      );
    }
    return name;
  });
  const exprs = [...w.fields.map((f) => f.expr)];
  const leftFields = [...new Set([...fieldsOf('r', exprs), ...keyFields])];
  const rightFields = fieldsOf('l', l.filter ? [...exprs, l.filter] : exprs);
  const usesRight = new Map(w.fields.map((f) => [f.name, f.expr.fields.some((x) => x.alias === 'l')]));
  const defaults = new Map<string, Value>(
    w.fields.map((f) => [f.name, defaultFor(node.name, f.name, f.type, f.defaultValue)]),
  );

  let rowsIn = 0;
  for await (const page of readerPages(ctx, node.r, leftFields)) {
    const pageStart = rowsIn;
    rowsIn += page.length;
    // 1. left keys
    const keys = page.map((r) =>
      buildKey(
        l.index,
        keyFields.map((f) => r[f]!),
      ),
    );
    const distinctKeys = [...new Set(keys)];
    // 2. index lookup
    const keyRowids = new Map<string, bigint[]>();
    for (let i = 0; i < distinctKeys.length; i += KEYS_PER_QUERY) {
      const found = await store.lookupIndex(
        ks,
        { name: l.indexName, runId: lookupRunId },
        distinctKeys.slice(i, i + KEYS_PER_QUERY),
      );
      for (const [k, ids] of found) keyRowids.set(k, [...ids].sort(cmpBig));
    }
    // 3. right rows
    const allIds = [...new Set([...keyRowids.values()].flat())].sort(cmpBig);
    const rightRows = new Map<bigint, Row>();
    const chunk = Math.max(1, l.rightLookupReadBatchSize);
    for (let i = 0; i < allIds.length; i += chunk) {
      const rows = await store.getRows(
        ks,
        { name: l.rightTable, runId: lookupRunId },
        allIds.slice(i, i + chunk),
        rightFields,
      );
      for (const row of rows) rightRows.set(row.rowid, { ...row.values });
    }
    // 4./5. join
    for (let li = 0; li < page.length; li++) {
      const r = page[li]!;
      const rowNo = pageStart + li;
      const where = (): string => `left row ${rowNo} of table ${node.r.table}`;
      const matches: Row[] = [];
      for (const id of keyRowids.get(keys[li]!) ?? []) {
        const lrow = rightRows.get(id);
        if (lrow === undefined) continue; // index entry whose data row is gone
        if (l.filter) {
          let pass: unknown;
          try {
            pass = l.filter.eval({ l: lrow });
          } catch (err) {
            throw fieldError(node.name, where(), 'l.filter', err);
          }
          if (pass !== true) continue;
        }
        matches.push(lrow);
      }
      const out: Row[] = [];
      if (l.group) {
        if (matches.length > 0) {
          const row: Row = {};
          for (const f of w.fields) {
            try {
              if (f.expr.aggregate) {
                const acc: Accumulator = f.expr.aggregate.newAccumulator();
                for (const lrow of matches) acc.add({ r, l: lrow });
                row[f.name] = acc.result();
              } else {
                row[f.name] = f.expr.eval({ r, l: matches[matches.length - 1]! });
              }
            } catch (err) {
              throw fieldError(node.name, where(), `w.fields.${f.name}`, err);
            }
          }
          out.push(row);
        } else if (l.joinType === 'left') {
          out.push(unmatched(node, r, where, (name) => usesRight.get(name) === true, defaults, true));
        }
      } else if (matches.length > 0) {
        for (const lrow of matches) {
          const env: Env = { r, l: lrow };
          const row: Row = {};
          for (const f of w.fields) {
            try {
              row[f.name] = f.expr.eval(env);
            } catch (err) {
              throw fieldError(node.name, where(), `w.fields.${f.name}`, err);
            }
          }
          out.push(row);
        }
      } else if (l.joinType === 'left') {
        out.push(unmatched(node, r, where, (name) => usesRight.get(name) === true, defaults, false));
      }
      for (const row of out) {
        if (havingPasses(node.name, w, row, where)) await writer.add(row);
      }
    }
    ctx.onProgress?.({ rowsIn, rowsOut: writer.rowsAdded });
  }
  const rowsOut = await writer.finish(ctx.rerun === true);
  return {
    rowsIn,
    rowsOut,
    filesWritten: [],
    comment: `${node.r.table} (lookup ${l.indexName}) -> ${w.name}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}

/** A left row without right rows: fields that use l.* (and aggregates) get their default value. */
function unmatched(
  node: LookupTableNode,
  r: Row,
  where: () => string,
  usesRight: (field: string) => boolean,
  defaults: ReadonlyMap<string, Value>,
  group: boolean,
): Row {
  const row: Row = {};
  for (const f of node.w.fields) {
    if ((group && f.expr.aggregate) || usesRight(f.name)) {
      row[f.name] = defaults.get(f.name)!;
      continue;
    }
    try {
      row[f.name] = f.expr.eval({ r });
    } catch (err) {
      throw fieldError(node.name, where(), `w.fields.${f.name}`, err);
    }
  }
  return row;
}

function defaultFor(nodeName: string, field: string, type: FieldType, text: string | undefined): Value {
  if (text === undefined || text === '') return zeroValue(type);
  try {
    return parseDefaultValue(type, text);
  } catch (err) {
    throw fieldError(nodeName, 'default value', `w.fields.${field}.default_value`, err);
  }
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
