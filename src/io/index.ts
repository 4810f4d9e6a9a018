export {
  GoCsvParser,
  csvDelimiter,
  parseCsv,
  readCsvRecords,
  type CsvReadOptions,
  type CsvRecord,
} from './csv-reader.js';
export {
  GoParseError,
  GoScanFormat,
  decimalFromFloat,
  goParseBool,
  goParseDecimal,
  goParseFloat,
  goParseInt,
  goTrimSpace,
  isGoSpace,
  roundDecimal2,
  type ScanTarget,
} from './go-parse.js';
