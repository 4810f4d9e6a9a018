import { spawn } from 'node:child_process';
import type { CustomTfmTableNode, PyCalcDef } from '../script/index.js';
import {
  Decimal,
  DateTime,
  decimalFromFloat,
  decimalToGoString,
  goSprintf,
  goTimeFormat,
  goTimeParse,
  roundDecimal2,
  type FieldType,
  type Value,
} from '../values/index.js';
import { computeRow, fieldsOf } from './compute.js';
import { BatchError } from './errors.js';
import { readerPages } from './table-reader.js';
import { TableWriter } from './table-writer.js';
import {
  DEFAULT_PYTHON,
  type BatchContext,
  type BatchResult,
  type PythonSettings,
  type Row,
} from './types.js';

/** Datetime layout used to pass datetimes to and from Python. */
export const PY_DATETIME_LAYOUT = '2006-01-02T15:04:05.000-07:00';

/** A value as a Python literal, encoded the way Capillaries encodes it (floats with 6 decimals). */
export function pythonLiteral(v: Value): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return goSprintf('%f', [v]);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v.replace(/'/g, "\\'").replace(/\r/g, '\\r').replace(/\n/g, '\\n')}'`;
  if (v instanceof Decimal) return decimalToGoString(v);
  if (v instanceof DateTime) return `"${goTimeFormat(v, PY_DATETIME_LAYOUT)}"`;
  throw new BatchError(`cannot pass value ${String(v)} to Python`);
}

/**
 * The Python program for one rowset: user code, then per row the reader values as `r_<field>`, the
 * calculated fields in dependency order as `p_<field>`, and the results as a JSON line between markers.
 */
export function buildPythonProgram(def: PyCalcDef, rows: readonly Row[]): string {
  const out: string[] = ['import traceback', 'import json', 'print("--FMDEF")', def.pythonCode, ''];
  rows.forEach((r, i) => {
    out.push('print("")', `print("--FMINIT:${i}")`, 'try:');
    for (const f of def.usedReaderFields) {
      const v = r[f];
      if (v === undefined) throw new BatchError(`py_calc: reader field r.${f} is missing from row ${i}`);
      out.push(`  r_${f} = ${pythonLiteral(v)}`);
    }
    out.push(`  print("--FMCALC:${i}")`);
    for (const f of def.calculatedFields) out.push(`  p_${f.name} = ${f.pythonExpression}`);
    out.push(`  print("--FMOK:${i}")`);
    const dict = def.calculatedFields.map((f) => `${JSON.stringify(f.name)}:p_${f.name}`).join(',');
    out.push(
      `  print(json.dumps({${dict}}))`,
      'except:',
      '  print(traceback.format_exc())',
      `print("--FMEND:${i}")`,
    );
  });
  return out.join('\n') + '\n';
}

export interface PythonRowResult {
  readonly values?: Record<string, unknown>;
  /** Traceback text when the row raised. */
  readonly error?: string;
}

/** Splits the program's output by row markers; a row without --FMOK carries its traceback. */
export function parsePythonOutput(stdout: string, rowCount: number): PythonRowResult[] {
  const lines = stdout.split(/\r?\n/);
  const results: PythonRowResult[] = [];
  let i = lines.indexOf('--FMDEF');
  if (i < 0) throw new BatchError('py_calc: the Python program did not start (no --FMDEF marker)');
  for (let row = 0; row < rowCount; row++) {
    const init = lines.indexOf(`--FMINIT:${row}`, i);
    const end = init < 0 ? -1 : lines.indexOf(`--FMEND:${row}`, init);
    if (init < 0 || end < 0) {
      throw new BatchError(`py_calc: the Python program stopped before row ${row} finished`);
    }
    const ok = lines.indexOf(`--FMOK:${row}`, init);
    if (ok >= 0 && ok < end) {
      const json = lines
        .slice(ok + 1, end)
        .filter((l) => l.trim() !== '')
        .pop();
      if (json === undefined) throw new BatchError(`py_calc: row ${row}: no result line after --FMOK`);
      try {
        results.push({ values: JSON.parse(json) as Record<string, unknown> });
      } catch {
        throw new BatchError(`py_calc: row ${row}: the result is not JSON: ${json.slice(0, 200)}`);
      }
    } else {
      const start = lines.indexOf(`--FMCALC:${row}`, init);
      results.push({
        error: lines
          .slice((start >= 0 && start < end ? start : init) + 1, end)
          .join('\n')
          .trim(),
      });
    }
    i = end + 1;
  }
  return results;
}

/** The last meaningful line of a Python traceback (`ZeroDivisionError: division by zero`). */
export function tracebackLastLine(tb: string): string {
  const lines = tb.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? tb;
}

/** A JSON result converted to the calculated field's type. */
export function pythonResultValue(v: unknown, type: FieldType): Value {
  switch (type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`expected a number, got ${describe(v)}`);
      return BigInt(Math.trunc(v));
    case 'float':
      if (typeof v !== 'number') throw new Error(`expected a number, got ${describe(v)}`);
      return v;
    case 'decimal2':
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`expected a number, got ${describe(v)}`);
      return roundDecimal2(decimalFromFloat(v));
    case 'bool':
      if (typeof v !== 'boolean') throw new Error(`expected a bool, got ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new Error(`expected a string, got ${describe(v)}`);
      return v;
    case 'datetime':
      if (typeof v !== 'string') throw new Error(`expected a datetime string, got ${describe(v)}`);
      return goTimeParse(PY_DATETIME_LAYOUT, v);
  }
}

function describe(v: unknown): string {
  return `${v === null ? 'null' : typeof v} ${JSON.stringify(v)?.slice(0, 80)}`;
}

/** Runs a program on the interpreter (stdin), never inside this process. */
export function runPython(
  settings: PythonSettings,
  program: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(settings.interpreterPath, [...settings.interpreterParams], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (settings.timeoutMs > 0) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BatchError(`py_calc: the Python program ran longer than ${settings.timeoutMs} ms`));
      }, settings.timeoutMs);
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(
        new BatchError(
          `py_calc: cannot start the Python interpreter ${settings.interpreterPath}: ${e.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? -1,
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(program);
  });
}

/** py_calc: per rowset, one Python program computes `p.*`; then `w.fields` from `r.*` and `p.*`. */
export async function processPyCalc(
  ctx: BatchContext,
  node: CustomTfmTableNode,
  p: PyCalcDef,
): Promise<BatchResult> {
  const { batch } = ctx;
  const settings = ctx.python ?? DEFAULT_PYTHON;
  const writer = new TableWriter(ctx.store, ctx.ks, batch.runId, node.name, batch.batchIdx, node.w, 'normal');
  const fields = [
    ...new Set([
      ...p.usedReaderFields,
      ...fieldsOf(
        'r',
        node.w.fields.map((f) => f.expr),
      ),
    ]),
  ];
  let rowsIn = 0;
  for await (const page of readerPages(ctx, node.r, fields)) {
    if (page.length === 0) continue;
    const pageStart = rowsIn;
    rowsIn += page.length;
    const program = buildPythonProgram(p, page);
    const res = await runPython(settings, program);
    if (!res.stdout.includes('--FMDEF') || res.code !== 0) {
      const detail = tracebackLastLine(res.stderr || res.stdout);
      throw new BatchError(
        `node ${node.name}: py_calc: the Python program failed (exit code ${res.code}): ${detail}`,
      );
    }
    const results = parsePythonOutput(res.stdout, page.length);
    for (let i = 0; i < page.length; i++) {
      const r = page[i]!;
      const result = results[i]!;
      const where = `row ${pageStart + i} of table ${node.r.table}`;
      if (result.error !== undefined) {
        throw new BatchError(
          `node ${node.name}: ${where}: py_calc raised ${tracebackLastLine(result.error)}`,
        );
      }
      const pv: Row = {};
      for (const f of p.calculatedFields) {
        try {
          pv[f.name] = pythonResultValue(result.values?.[f.name], f.type);
        } catch (err) {
          throw new BatchError(
            `node ${node.name}: ${where}: p.calculated_fields.${f.name} (${f.type}): ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      const row = computeRow(node.name, node.w, { r, p: pv }, () => where);
      if (row) await writer.add(row);
    }
    ctx.onProgress?.({ rowsIn, rowsOut: writer.rowsAdded });
  }
  const rowsOut = await writer.finish(ctx.rerun === true);
  return {
    rowsIn,
    rowsOut,
    filesWritten: [],
    comment: `${node.r.table} (py_calc) -> ${node.w.name}; row_reads: ${rowsIn}; row_writes: ${rowsOut}`,
  };
}
