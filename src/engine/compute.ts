import type { Env } from '../expr/index.js';
import type { TableCreatorDef } from '../script/index.js';
import { errorMessage, TransientError } from '../errors/index.js';
import { BatchError } from './errors.js';
import type { Row } from './types.js';

/**
 * Computes the table creator's fields from the environment, then applies `having` on `w.*`.
 * Returns undefined when `having` drops the row. Errors name the node, the row and the field.
 */
export function computeRow(
  nodeName: string,
  creator: TableCreatorDef,
  env: Env,
  where: () => string,
): Row | undefined {
  const row: Row = {};
  for (const f of creator.fields) {
    try {
      row[f.name] = f.expr.eval(env);
    } catch (err) {
      throw fieldError(nodeName, where(), `w.fields.${f.name}`, err);
    }
  }
  return havingPasses(nodeName, creator, row, where) ? row : undefined;
}

/** `w.having` on a computed row (true when there is none). */
export function havingPasses(
  nodeName: string,
  creator: TableCreatorDef,
  row: Row,
  where: () => string,
): boolean {
  if (!creator.having) return true;
  try {
    return creator.having.eval({ w: row }) === true;
  } catch (err) {
    throw fieldError(nodeName, where(), 'w.having', err);
  }
}

export function fieldError(nodeName: string, where: string, field: string, err: unknown): Error {
  if (err instanceof TransientError) return err;
  return new BatchError(`node ${nodeName}: ${where}: ${field}: ${errorMessage(err)}`, { cause: err });
}

/** Fields of alias `alias` that a set of compiled expressions reads. */
export function fieldsOf(
  alias: string,
  exprs: readonly { fields: readonly { alias: string; field: string }[] }[],
): string[] {
  const out = new Set<string>();
  for (const e of exprs) for (const f of e.fields) if (f.alias === alias) out.add(f.field);
  return [...out];
}
