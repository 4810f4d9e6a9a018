import path from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { UserInputError } from '../../errors/index.js';
import { parquetFileInfo, parseUrl, readCsvRecords, urlIo } from '../../io/index.js';
import {
  DEFAULT_PROTO_OUT_DIR,
  baseFileName,
  buildParquetScript,
  checkSeparator,
  protoFromCsv,
  type GeneratedScript,
} from '../../proto/index.js';
import type { CommandRegistrar } from '../common.js';

interface ProtoOptions {
  file: string;
  fileType?: string;
  csvHdrLineIdx: string;
  csvFirstLineIdx?: string;
  csvSeparator?: string;
  outDir: string;
  format: string;
}

/** A local path made absolute (the script may be run from another directory); URLs stay as they are. */
function absoluteIfLocal(url: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url) ? url : path.resolve(url);
}

function fileTypeOf(file: string, given: string | undefined): 'csv' | 'parquet' {
  if (given !== undefined) {
    if (given === 'csv' || given === 'parquet') return given;
    throw new UserInputError('BAD_OPTION', `--file-type ${given}: use csv or parquet`);
  }
  const ext = path.extname(baseFileName(file)).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  throw new UserInputError(
    'BAD_OPTION',
    `${file}: cannot tell the file type from the extension ${JSON.stringify(ext)}: give --file-type csv or parquet`,
  );
}

function lineIndex(flag: string, value: string): number {
  if (!/^-?[0-9]+$/.test(value.trim()))
    throw new UserInputError('BAD_OPTION', `${flag} ${value}: expected a whole number`);
  return Number(value);
}

/** `\t` (backslash t) and `tab` mean a tab, which is awkward to type on a command line. */
function separatorOf(given: string | undefined, file: string): string {
  if (given === undefined) return path.extname(baseFileName(file)).toLowerCase() === '.tsv' ? '\t' : ',';
  return given === '\\t' || given.toLowerCase() === 'tab' ? '\t' : given;
}

async function generate(opts: ProtoOptions): Promise<GeneratedScript> {
  const fileUrl = absoluteIfLocal(opts.file);
  parseUrl(fileUrl); // a bad URL is reported before anything else
  const outDir = absoluteIfLocal(opts.outDir);
  const io = urlIo();
  if (fileTypeOf(opts.file, opts.fileType) === 'parquet') {
    const tmp = await io.downloadToTemp(fileUrl);
    try {
      const info = await parquetFileInfo(tmp.path, opts.file);
      return buildParquetScript({ fileUrl, outDir, columns: info.columns, unsupported: info.unsupported });
    } finally {
      await tmp.cleanup();
    }
  }
  const separator = separatorOf(opts.csvSeparator, opts.file);
  checkSeparator(separator, opts.file);
  const hdrLineIdx = lineIndex('--csv-hdr-line-idx', opts.csvHdrLineIdx);
  const firstDataLineIdx =
    opts.csvFirstLineIdx === undefined ? undefined : lineIndex('--csv-first-line-idx', opts.csvFirstLineIdx);
  const stream = await io.openRead(fileUrl);
  try {
    return await protoFromCsv(readCsvRecords(stream, { separator, source: opts.file }), {
      fileUrl,
      source: opts.file,
      outDir,
      separator,
      hdrLineIdx,
      firstDataLineIdx,
    });
  } finally {
    stream.destroy();
  }
}

export const protoFileReaderCreatorCommand: CommandRegistrar = (program: Command) => {
  program
    .command('proto-file-reader-creator')
    .description(
      'Print a ready-to-run 2-node script for a CSV or Parquet file: read_file (column types inferred) and write_file',
    )
    .requiredOption('--file <path|url>', 'the data file: a path, s3://, https:// or sftp:// URL')
    .option('--file-type <type>', 'csv or parquet (default: from the extension; .csv .tsv .txt are csv)')
    .option('--csv-hdr-line-idx <n>', 'line index of the header line; -1: no header', '-1')
    .option(
      '--csv-first-line-idx <n>',
      'line index of the first data line (default: the line after the header, or 0)',
    )
    .option(
      '--csv-separator <char>',
      'field separator, one character; \\t or tab for a tab (default , or a tab for .tsv)',
    )
    .option('--out-dir <dir>', 'directory write_file writes the output file into', DEFAULT_PROTO_OUT_DIR)
    .option('--format <format>', 'json or yaml', 'json')
    .addHelpText(
      'after',
      '\nTypes are inferred from the first 100 data lines (CSV) or taken from the schema (Parquet).\n' +
        'Run the script with: plexus run <script.json> --keyspace <ks> --start-nodes read_file',
    )
    .action(async (opts: ProtoOptions) => {
      if (opts.format !== 'json' && opts.format !== 'yaml')
        throw new UserInputError('BAD_OPTION', `--format ${opts.format}: use json or yaml`);
      const { script, warnings } = await generate(opts);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(
        opts.format === 'yaml' ? toYaml(script, { lineWidth: 0 }) : `${JSON.stringify(script, null, 2)}\n`,
      );
    });
};
