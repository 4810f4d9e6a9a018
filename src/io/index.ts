export {
  GoCsvParser,
  csvDelimiter,
  parseCsv,
  readCsvRecords,
  type CsvReadOptions,
  type CsvRecord,
} from './csv-reader.js';
export { GoScanFormat, goParseFloat, goTrimSpace, isGoSpace, type ScanTarget } from './go-parse.js';
export {
  UrlIo,
  downloadToTemp,
  openRead,
  openWrite,
  parseUrl,
  readText,
  s3SettingsFromEnv,
  urlIo,
  type ParsedUrl,
  type S3Settings,
  type TempFile,
  type UrlIoOptions,
  type UrlWriter,
} from './urls.js';
export { parsePrivateKeys, privateKeyProblem, sftpSettingsFromEnv, type SftpSettings } from './sftp.js';
export { parseKnownHosts } from './known-hosts.js';
export { loadCaCertificates } from './https-ca.js';
export { compileCellParser, type CellColumn, type CellParser } from './cells.js';
export {
  CsvTableReader,
  readCsvTable,
  type CsvColumnDef,
  type CsvRow,
  type CsvTableOptions,
} from './csv-table.js';
export {
  CsvTableWriter,
  formatCsvHeader,
  formatCsvLine,
  formatCsvValue,
  type CsvWriteColumn,
} from './csv-writer.js';
export {
  ParquetTableWriter,
  parquetFileInfo,
  readParquetFile,
  readParquetUrl,
  type ParquetCodec,
  type ParquetColumnRequest,
  type ParquetFileInfo,
  type ParquetReadOptions,
  type ParquetWriteColumn,
  type ParquetWriteOptions,
} from './parquet.js';
export {
  InspectedParquet,
  cellsEqual,
  compareCells,
  compareRows,
  csvField,
  describeCell,
  diffParquet,
  formatCell,
  parseSortKeys,
  type DiffOptions,
  type DiffResult,
  type InspectOptions,
  type InspectedColumn,
  type ParquetCell,
  type SortKey,
} from './parquet-tool.js';
