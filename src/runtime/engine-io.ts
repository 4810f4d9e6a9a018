import type { EngineIo, FileRecord, OutputColumn, OutputFormat, RowFileWriter } from '../engine/index.js';
import {
  compileCellParser,
  CsvTableWriter,
  openRead,
  openWrite,
  ParquetTableWriter,
  readCsvRecords,
  readParquetUrl,
  readText,
} from '../io/index.js';
import type { Value } from '../values/index.js';

const ROWS_PER_WRITE = 1000;

interface TableWriter {
  writeRows(rows: Value[][]): Promise<void>;
  finish(): Promise<void>;
}

/** Hands rows to a CSV or Parquet table writer in chunks; commit flushes, finishes and commits the file. */
function chunkedRowWriter(
  out: { commit(): Promise<void>; abort(): Promise<void> },
  writer: TableWriter,
): RowFileWriter {
  let pending: Value[][] = [];
  return {
    async write(values) {
      pending.push([...values]);
      if (pending.length >= ROWS_PER_WRITE) {
        const rows = pending;
        pending = [];
        await writer.writeRows(rows);
      }
    },
    async commit() {
      if (pending.length > 0) await writer.writeRows(pending);
      pending = [];
      await writer.finish();
      await out.commit();
    },
    async abort() {
      await out.abort();
    },
  };
}

async function csvFileWriter(
  url: string,
  separator: string,
  columns: readonly OutputColumn[],
): Promise<RowFileWriter> {
  const out = await openWrite(url);
  const writer = new CsvTableWriter(
    out.stream,
    columns.map((c) => ({ name: c.name, type: c.type, header: c.csvHeader ?? c.name, format: c.csvFormat })),
    separator,
  );
  return chunkedRowWriter(out, writer);
}

async function parquetFileWriter(
  url: string,
  codec: 'gzip' | 'snappy' | 'uncompressed',
  columns: readonly OutputColumn[],
): Promise<RowFileWriter> {
  const out = await openWrite(url);
  const writer = new ParquetTableWriter(
    out.stream,
    columns.map((c) => ({ name: c.parquetColumnName ?? c.name, type: c.type })),
    { codec, createdBy: 'capillaries' },
  );
  return chunkedRowWriter(out, writer);
}

/** The engine's file I/O over src/io: URLs (local, file://, s3://, http(s) reads), CSV, cells, Parquet. */
export function createEngineIo(): EngineIo {
  return {
    readText: (url) => readText(url),
    async *readCsv(url: string, separator: string): AsyncIterable<FileRecord> {
      const input = await openRead(url);
      try {
        yield* readCsvRecords(input, { separator, source: url });
      } finally {
        input.destroy();
      }
    },
    cellParser: (spec, where) => compileCellParser(spec, where),
    readParquet: (url, columns) => readParquetUrl(url, { columns }),
    async openFileWriter(url: string, format: OutputFormat, columns: readonly OutputColumn[]) {
      if (format.kind === 'csv') return csvFileWriter(url, format.separator, columns);
      return parquetFileWriter(url, format.codec, columns);
    },
  };
}
