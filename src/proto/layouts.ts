/**
 * The datetime layouts a column is tried against (Go time layouts, as `csv.col_format` takes them), in order
 * of preference: when every sampled value of a column parses with several layouts (e.g. `03/04/2024` is both
 * US `01/02/2006` and day-first `02/01/2006`), the first one listed wins. Reading with a layout that has no
 * fractional seconds still accepts them after the seconds (Go's time.Parse does), so `2006-01-02 15:04:05`
 * also covers `2024-03-01 10:20:30.250`.
 */
export const DATETIME_LAYOUTS: readonly string[] = [
  '2006-01-02T15:04:05Z07:00', // RFC 3339: 2024-03-01T10:20:30Z, 2024-03-01T10:20:30.123+02:00
  '2006-01-02T15:04:05', // ISO 8601 without a zone: 2024-03-01T10:20:30
  '2006-01-02 15:04:05', // 2024-03-01 10:20:30 (also with .250)
  '2006-01-02 15:04:05Z07:00', // 2024-03-01 10:20:30+02:00, 2024-03-01 10:20:30Z
  '2006-01-02 15:04:05 -0700', // 2024-03-01 10:20:30 +0200
  '2006-01-02 15:04', // 2024-03-01 10:20
  '2006-01-02', // 2024-03-01
  '2006/01/02', // 2024/03/01
  '01/02/2006 15:04:05', // 03/01/2024 10:20:30 (month first)
  '01/02/2006', // 03/01/2024 (month first)
  '02/01/2006', // 25/12/2024 (day first)
  '02.01.2006', // 25.12.2024
];
