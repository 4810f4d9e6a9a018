import {
  createEncoder,
  Decoder,
  DEFAULT_FRAMING,
  FramingError,
  type FramingSettings,
} from '../../../src/bridge/index.js';
import { msg } from './helpers.js';

const f = (kind: FramingSettings['kind'], extra: Partial<FramingSettings> = {}): FramingSettings => ({
  ...DEFAULT_FRAMING,
  kind,
  ...extra,
});

function roundTrip(settings: FramingSettings, payloads: Buffer[], chunk: number): Buffer[] {
  const enc = createEncoder(settings);
  const bytes = Buffer.concat(payloads.map((p) => enc.encode({ data: p, attributes: {} })));
  const dec = new Decoder(settings);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk)
    out.push(...dec.push(bytes.subarray(i, i + chunk)).map((m) => m.data));
  out.push(...dec.end().map((m) => m.data));
  return out;
}

describe('framing', () => {
  it('ndjson: newline-delimited records survive any chunking', () => {
    const payloads = ['a', 'bb', '', 'ccc ddd', '{"x":1}'].map((s) => Buffer.from(s));
    for (const chunk of [1, 2, 3, 7, 100]) {
      expect(roundTrip(f('ndjson'), payloads, chunk).map(String)).toEqual(payloads.map(String));
    }
  });

  it('ndjson with a custom delimiter', () => {
    const payloads = ['one', 'two\nlines', 'three'].map((s) => Buffer.from(s));
    expect(roundTrip(f('ndjson', { delimiter: '\r\n\r\n' }), payloads, 2).map(String)).toEqual(
      payloads.map(String),
    );
  });

  it('ndjson: a final line without delimiter is still a record at EOF', () => {
    const dec = new Decoder(f('ndjson'));
    expect(dec.push(Buffer.from('x\ny')).map((m) => String(m.data))).toEqual(['x']);
    expect(dec.end().map((m) => String(m.data))).toEqual(['y']);
  });

  it('length-prefixed carries newlines and binary data', () => {
    const payloads = [Buffer.from('a\nb'), Buffer.from([0, 1, 2, 255]), Buffer.alloc(0)];
    expect(roundTrip(f('length-prefixed'), payloads, 3)).toEqual(payloads);
  });

  it('length-prefixed: a stream ending inside a record is an error naming the record', () => {
    const dec = new Decoder(f('length-prefixed'), 'stdin');
    dec.push(Buffer.from([0, 0, 0, 5, 65, 66]));
    expect(() => dec.end()).toThrow(/stdin: stream ended inside record 1/);
  });

  it('json envelope keeps attributes and binary payloads', () => {
    const enc = createEncoder(f('json'));
    const line = enc.encode(msg('héllo', { key: 'k1', headers: { a: 'b' } }));
    expect(JSON.parse(line.toString())).toEqual({
      data: 'héllo',
      encoding: 'utf8',
      attributes: { key: 'k1', headers: { a: 'b' } },
    });
    const bin = enc.encode({ data: Buffer.from([0xff, 0xfe]), attributes: {} });
    expect(JSON.parse(bin.toString())).toEqual({ data: '//4=', encoding: 'base64' });
    const dec = new Decoder(f('json'));
    const back = dec.push(Buffer.concat([line, bin]));
    expect(back[0]?.attributes).toEqual({ key: 'k1', headers: { a: 'b' } });
    expect(back[1]?.data).toEqual(Buffer.from([0xff, 0xfe]));
  });

  it('json: invalid lines are reported with their record number', () => {
    const dec = new Decoder(f('json'), 'stdin');
    expect(() => dec.push(Buffer.from('{"data":"a"}\nnot json\n'))).toThrow(FramingError);
    const dec2 = new Decoder(f('json'), 'stdin');
    expect(() => dec2.push(Buffer.from('{"data":"a"}\n{"data":1}\n'))).toThrow(
      /record 2: field "data" must be a string/,
    );
  });

  it('refuses a record longer than maxRecordBytes instead of growing memory', () => {
    const dec = new Decoder(f('ndjson', { maxRecordBytes: 8 }));
    expect(() => dec.push(Buffer.from('0123456789abcdef'))).toThrow(/longer than maxRecordBytes 8/);
  });

  it('raw: each chunk is one message', () => {
    const dec = new Decoder(f('raw'));
    expect(dec.push(Buffer.from('abc')).map((m) => String(m.data))).toEqual(['abc']);
    expect(createEncoder(f('raw')).encode(msg('xyz')).toString()).toBe('xyz');
  });
});
