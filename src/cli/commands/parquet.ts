import { CommanderError, type Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import {
  InspectedParquet,
  compareRows,
  csvField,
  diffParquet,
  formatCell,
  parseSortKeys,
  urlIo,
  type ParquetCell,
} from '../../io/index.js';
import { globalDebug, reportError, type CommandRegistrar } from '../common.js';

/** Set when stdout's reader went away (e.g. `plexus parquet cat f | head`): the output stops quietly. */
let stdoutClosed = false;

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  stdoutClosed = true;
}

/** Writes text to stdout, waiting when the stream asks for it; false once stdout is closed. */
async function out(text: string): Promise<boolean> {
  if (stdoutClosed) return false;
  if (text === '' || process.stdout.write(text)) return !stdoutClosed;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
  });
  return !stdoutClosed;
}

async function withFile<T>(url: string, fn: (pq: InspectedParquet) => Promise<T>): Promise<T> {
  const pq = await InspectedParquet.open(url);
  try {
    return await fn(pq);
  } finally {
    await pq.close();
  }
}

let stdoutWatched = false;

async function cat(file: string): Promise<void> {
  if (!stdoutWatched) {
    // kept for the life of the process: a closed pipe may be reported after the last write
    process.stdout.on('error', onStdoutError);
    stdoutWatched = true;
  }
  stdoutClosed = false;
  await withFile(file, (pq) => catRows(file, pq));
}

async function catRows(file: string, pq: InspectedParquet): Promise<void> {
  const columns = pq.columns;
  const raw = columns.filter((c) => c.type === undefined);
  if (raw.length > 0) {
    process.stderr.write(
      `warning: ${file}: ${raw
        .map((c) => `column ${JSON.stringify(c.name)} (${c.unsupported ?? 'unsupported'})`)
        .join(', ')} printed as raw values\n`,
    );
  }
  let chunk = columns.map((c) => csvField(c.name)).join(',') + '\n';
  const onWarning = (m: string): void => void process.stderr.write(`warning: ${m}\n`);
  for await (const row of pq.rowsOf({ onWarning })) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) chunk += ',';
      chunk += csvField(formatCell(row[i] ?? null, columns[i] ?? { scale: 0 }));
    }
    chunk += '\n';
    if (chunk.length >= 65_536) {
      if (!(await out(chunk))) return;
      chunk = '';
    }
  }
  await out(chunk);
}

const IDENTICAL_SCHEMAS_SPELLINGS = new Set(['-identical_schemas', '--identical_schemas']);

async function diff(args: readonly string[], identicalSchemasOption: boolean): Promise<boolean> {
  let identicalSchemas = identicalSchemasOption;
  const files: string[] = [];
  for (const a of args) {
    if (IDENTICAL_SCHEMAS_SPELLINGS.has(a)) identicalSchemas = true;
    else if (a.startsWith('-') && a !== '-') throw new UserInputError('BAD_OPTION', `unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 2) {
    throw new UserInputError('BAD_ARGUMENTS', `expected two files (left and right), got ${files.length}`);
  }
  const [leftFile, rightFile] = files as [string, string];
  return withFile(leftFile, (left) =>
    withFile(rightFile, async (right) => {
      const result = await diffParquet(left, right, { identicalSchemas });
      await out(result.lines.map((l) => `${l}\n`).join(''));
      if (!result.equal) await out(`${result.differences} difference(s)\n`);
      return result.equal;
    }),
  );
}

async function sort(file: string, order: string, output: string | undefined): Promise<void> {
  const target = output ?? file;
  await withFile(file, async (pq) => {
    const keys = parseSortKeys(order, pq.columns, file);
    const rows: { cells: ParquetCell[]; physical: unknown[] }[] = [];
    for await (const r of pq.rawRows()) rows.push(r);
    rows.sort((a, b) => compareRows(a.cells, b.cells, keys));
    const bytes = pq.encode(rows.map((r) => r.physical));
    const writer = await urlIo().openWrite(target);
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stream.once('error', reject);
        writer.stream.end(Buffer.from(bytes), () => resolve());
      });
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    process.stderr.write(
      `sorted ${rows.length} row(s) of ${file} by ${keys.map((k) => `${k.name}(${k.desc ? 'desc' : 'asc'})`).join(',')} into ${target}\n`,
    );
  });
}

export const parquetCommand: CommandRegistrar = (program: Command) => {
  const parquet = program
    .command('parquet')
    .description('Inspect Parquet files: dump as CSV, compare two files, sort rows');

  parquet
    .command('cat')
    .description('Print a Parquet file as CSV: a header line of column names, then one line per row')
    .argument('<file>', 'a path, s3://, https:// or sftp:// URL')
    .addHelpText(
      'after',
      '\nValues: int as is, float in Go %v form, decimal with the column scale, datetime as RFC 3339 with\n' +
        'milliseconds in UTC, bool true/false, missing values empty. Fields with , " or line breaks are quoted.',
    )
    .action(async (file: string) => {
      await cat(file);
    });

  parquet
    .command('diff')
    .description('Compare two Parquet files: column names and types, then the rows in order')
    .usage('[--identical-schemas] <left> <right>')
    .argument('<files...>', 'the left and the right file (paths or URLs)')
    .option(
      '--identical-schemas',
      'also compare the Parquet physical/logical types (-identical_schemas is accepted too)',
    )
    .allowUnknownOption()
    .addHelpText(
      'after',
      '\nExit status: 0 when the files are equal, 1 when they differ, 2 on an error.\n' +
        'At most the first 20 differences are printed (rows count from 0); null equals only null.',
    )
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action(async (args: string[], opts: { identicalSchemas?: boolean }, cmd: Command) => {
      try {
        process.exitCode = (await diff(args, opts.identicalSchemas === true)) ? 0 : 1;
      } catch (err) {
        reportError(err, globalDebug(cmd));
        process.exitCode = 2;
      }
    });

  parquet
    .command('sort')
    .description('Sort the rows of a Parquet file (in memory) and write it with the same schema')
    .argument('<file>', 'a path, s3://, https:// or sftp:// URL')
    .argument('<order>', "columns to sort by: 'col,col(desc)'; (asc) is the default; nulls come first")
    .option('-o, --output <file>', 'where to write the sorted file (default: replace the input)')
    .action(async (file: string, order: string, opts: { output?: string }) => {
      await sort(file, order, opts.output);
    });
};
