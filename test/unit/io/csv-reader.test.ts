import { Readable } from 'node:stream';
import { UserInputError } from '../../../src/errors/index.js';
import { GoCsvParser, parseCsv, readCsvRecords } from '../../../src/io/index.js';

/** [input, expected records as [physical line, fields]] — expectations produced by Go's encoding/csv with LazyQuotes. */
const GO_CASES: [string, [number, string[]][]][] = [
  [
    'a,b,c\n1,2,3\n',
    [
      [1, ['a', 'b', 'c']],
      [2, ['1', '2', '3']],
    ],
  ],
  [
    'a,b\r\n1,2\r\n',
    [
      [1, ['a', 'b']],
      [2, ['1', '2']],
    ],
  ],
  [
    '\n\na,b\n\n1,2\n\n',
    [
      [3, ['a', 'b']],
      [5, ['1', '2']],
    ],
  ],
  ['a"b,c\n', [[1, ['a"b', 'c']]]],
  ['"a""b",c\n', [[1, ['a"b', 'c']]]],
  ['"a\nb",c\n', [[1, ['a\nb', 'c']]]],
  ['"a\r\nb",c\r\n', [[1, ['a\nb', 'c']]]],
  ['"abc"def,g\nh,i\n', [[1, ['abc"def,g\nh,i\n']]]],
  [
    '"abc"def",g\nh,i\n',
    [
      [1, ['abc"def', 'g']],
      [2, ['h', 'i']],
    ],
  ],
  ['"unterminated,x\ny,z\n', [[1, ['unterminated,x\ny,z\n']]]],
  ['a,b\r', [[1, ['a', 'b']]]],
  ['a,b\r\r\n', [[1, ['a', 'b\r']]]],
  [
    'x\r\ny',
    [
      [1, ['x']],
      [2, ['y']],
    ],
  ],
  ['a, b ,c\n', [[1, ['a', ' b ', 'c']]]],
  ['"",""\n', [[1, ['', '']]]],
  [',\n', [[1, ['', '']]]],
  ['"a" ,b\n', [[1, ['a" ,b\n']]]],
  ['a,"b"\n', [[1, ['a', 'b']]]],
  ['a,"b\nc\n', [[1, ['a', 'b\nc\n']]]],
  ['a\rb,c\n', [[1, ['a\rb', 'c']]]],
  ['\r\n\r\na,b\n', [[3, ['a', 'b']]]],
  ['"a\n\nb",c\n', [[1, ['a\n\nb', 'c']]]],
  [' "a",b\n', [[1, [' "a"', 'b']]]],
];

function simplify(recs: { line: number; fields: string[] }[]): [number, string[]][] {
  return recs.map((r) => [r.line, r.fields]);
}

describe('CSV reader (Go encoding/csv semantics)', () => {
  test.each(GO_CASES)('%j', (input, expected) => {
    const recs = parseCsv(input);
    expect(simplify(recs)).toEqual(expected);
    expect(recs.map((r) => r.index)).toEqual(expected.map((_, i) => i));
  });

  test.each(GO_CASES)('byte-by-byte chunks give the same records: %j', (input, expected) => {
    const p = new GoCsvParser();
    const recs = [];
    for (const b of Buffer.from(input)) recs.push(...p.push(Buffer.from([b])));
    recs.push(...p.end());
    expect(simplify(recs)).toEqual(expected);
  });

  test('field count of the first record is enforced, error names source and line', () => {
    expect(() => parseCsv('a,b\n\n1,2,3\n', { source: 'in/x.csv' })).toThrow(UserInputError);
    expect(() => parseCsv('a,b\n\n1,2,3\n', { source: 'in/x.csv' })).toThrow(
      'in/x.csv, line 3 (record 1): wrong number of fields: expected 2 like the first record, found 3',
    );
  });

  test('tab separator, only the first character of the separator is used', () => {
    expect(simplify(parseCsv('a\tb,c\n1\t"2\t3"\n', { separator: '\t' }))).toEqual([
      [1, ['a', 'b,c']],
      [2, ['1', '2\t3']],
    ]);
    expect(simplify(parseCsv('a;b\n', { separator: ';|' }))).toEqual([[1, ['a', 'b']]]);
  });

  test('unusable separators are rejected with a clear error', () => {
    expect(() => parseCsv('a', { separator: '"', source: 'f.csv' })).toThrow(
      /f\.csv: separator "\\"" is not usable/,
    );
    expect(() => parseCsv('a', { separator: '§' })).toThrow(/non-ASCII/);
  });

  test('UTF-8 text split across chunks is decoded intact', async () => {
    const bytes = Buffer.from('naïve,"çà\nü",€\n日本,x,y\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const recs = [];
    for await (const r of readCsvRecords(Readable.from(chunks))) recs.push(r);
    expect(simplify(recs)).toEqual([
      [1, ['naïve', 'çà\nü', '€']],
      [3, ['日本', 'x', 'y']],
    ]);
  });

  test('streams a large input without keeping it', async () => {
    const lines = 200_000;
    async function* gen(): AsyncGenerator<Buffer> {
      let batch = '';
      for (let i = 0; i < lines; i++) {
        batch += `${i},"name ${i}, with comma",${i * 2}\r\n`;
        if (batch.length > 60_000) {
          yield Buffer.from(batch);
          batch = '';
        }
      }
      yield Buffer.from(batch);
    }
    let n = 0;
    let last: string[] = [];
    for await (const r of readCsvRecords(gen())) {
      n++;
      last = r.fields;
    }
    expect(n).toBe(lines);
    expect(last).toEqual([`${lines - 1}`, `name ${lines - 1}, with comma`, `${(lines - 1) * 2}`]);
  });
});
