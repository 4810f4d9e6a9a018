export {
  GoCsvParser,
  csvDelimiter,
  parseCsv,
  readCsvRecords,
  type CsvReadOptions,
  type CsvRecord,
} from './csv-reader.js';
