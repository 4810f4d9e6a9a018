import { AggregateUserError } from '../../../src/errors/index.js';
import { parseBridgeConfig, parseDuration, parseSize } from '../../../src/bridge/index.js';

const base = `
name: orders
source:
  type: rabbitmq
  rabbitmq:
    url: \${RABBITMQ_URL}
    queue: orders
sink:
  type: s3
  s3:
    bucket: lake
    folder: raw/orders
`;

function problems(text: string, env: NodeJS.ProcessEnv = { RABBITMQ_URL: 'amqp://localhost' }): string[] {
  try {
    parseBridgeConfig(text, 'bridge.yaml', env);
  } catch (err) {
    if (err instanceof AggregateUserError) return [...err.problems];
    return [(err as Error).message];
  }
  return [];
}

describe('bridge config', () => {
  it('resolves defaults in ms and bytes (Manifold numbers: KB, minutes, seconds)', () => {
    const cfg = parseBridgeConfig(base, 'bridge.yaml', { RABBITMQ_URL: 'amqp://u:p@mq:5672/v' });
    expect(cfg.source.rabbitmq?.url).toBe('amqp://u:p@mq:5672/v');
    expect(cfg.buffer).toEqual({
      bufferPath: '/tmp/plexus/buffer',
      commitFileBytes: 64 * 1024 * 1024,
      commitDurationMs: 300_000,
      uploadEveryMs: 10_000,
      maxBufferBytes: 10 * 1024 ** 3,
      fsync: 'always',
      fsyncIntervalMs: 500,
    });
    const withManifold = parseBridgeConfig(
      `${base}buffer:\n  commitFileSize: 512\n  commitDuration: 2\n  uploadEvery: 30\n  bufferPath: /var/buf\n`,
      'bridge.yaml',
      { RABBITMQ_URL: 'amqp://x' },
    );
    expect(withManifold.buffer).toMatchObject({
      commitFileBytes: 512 * 1024,
      commitDurationMs: 120_000,
      uploadEveryMs: 30_000,
      bufferPath: '/var/buf',
    });
    const withUnits = parseBridgeConfig(
      `${base}buffer:\n  commitFileSize: 8Mi\n  commitDuration: 1m30s\n  uploadEvery: 250ms\n`,
      'bridge.yaml',
      { RABBITMQ_URL: 'amqp://x' },
    );
    expect(withUnits.buffer).toMatchObject({
      commitFileBytes: 8 * 1024 * 1024,
      commitDurationMs: 90_000,
      uploadEveryMs: 250,
    });
  });

  it('accepts JSON too', () => {
    const cfg = parseBridgeConfig(
      JSON.stringify({
        name: 'j',
        source: { type: 'stdio', stdio: {} },
        sink: { type: 'stdio', stdio: { framing: 'json' } },
      }),
      'b.json',
      {},
    );
    expect(cfg.buffer).toBeUndefined();
    expect(cfg.sink.stdio?.framing).toBe('json');
  });

  it('names the field and the variable for an unset environment reference', () => {
    expect(problems(base, {})).toEqual([
      'bridge.yaml: source.rabbitmq.url: environment variable RABBITMQ_URL is not set',
    ]);
    const cfg = parseBridgeConfig(
      base.replace('${RABBITMQ_URL}', '${RABBITMQ_URL:-amqp://fallback}'),
      'b.yaml',
      {},
    );
    expect(cfg.source.rabbitmq?.url).toBe('amqp://fallback');
  });

  it('reports every problem with its field', () => {
    const bad = `
name: Bad_Name
source:
  type: rabbitmq
  kinesis: { stream: s }
sink:
  type: s3
  s3:
    bucket: b
    colour: red
buffer:
  commitFileSize: lots
delivery:
  maxInFlight: 0
`;
    const p = problems(bad);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bridge.yaml: name: must match pattern/),
        'bridge.yaml: sink.s3.bucket: must NOT have fewer than 3 characters',
        'bridge.yaml: sink.s3: unknown field "colour"',
        expect.stringMatching(/^bridge.yaml: buffer.commitFileSize: /),
        'bridge.yaml: delivery.maxInFlight: must be >= 1',
      ]),
    );
  });

  it('checks that the type matches its settings block', () => {
    const text = `
name: x
source:
  type: rabbitmq
  kinesis: { stream: s }
sink:
  type: stdio
  stdio: {}
`;
    expect(problems(text)).toEqual([
      'bridge.yaml: source.rabbitmq: missing (source.type is rabbitmq)',
      'bridge.yaml: source.kinesis: not allowed when source.type is rabbitmq',
    ]);
  });

  it('rejects an unknown connector type with the allowed values', () => {
    const text = base.replace('type: s3', 'type: ftp');
    expect(problems(text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bridge.yaml: sink.type: must be one of "s3", "rabbitmq"/),
      ]),
    );
  });

  it('needs a dead-letter target for errorPolicy deadLetter', () => {
    expect(problems(`${base}errorPolicy:\n  onReject: deadLetter\n`)).toEqual([
      'bridge.yaml: errorPolicy.deadLetter: missing (errorPolicy.onReject is deadLetter)',
    ]);
  });

  it('refuses a buffer limit below the commit size', () => {
    expect(problems(`${base}buffer:\n  commitFileSize: 64Mi\n  maxBufferBytes: 1Mi\n`)).toEqual([
      'bridge.yaml: buffer.maxBufferBytes: 1048576 is smaller than commitFileSize (67108864 bytes)',
    ]);
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(problems('name: [unclosed\n')[0]).toMatch(/^bridge.yaml: /);
    expect(problems('- a list\n')).toEqual(['bridge.yaml: expected a mapping with name, source and sink']);
  });

  it('parses durations and sizes', () => {
    expect(parseDuration('1h30m', 'f')).toBe(5_400_000);
    expect(parseDuration('250ms', 'f')).toBe(250);
    expect(parseDuration('1.5s', 'f')).toBe(1500);
    expect(() => parseDuration('5 minutes', 'buffer.commitDuration')).toThrow(
      /buffer.commitDuration: "5 minutes" is not a duration/,
    );
    expect(parseSize('64Mi', 'f')).toBe(67_108_864);
    expect(parseSize('10M', 'f')).toBe(10_000_000);
    expect(parseSize('4096', 'f')).toBe(4096);
    expect(() => parseSize('10 MB', 'x')).toThrow(/x: "10 MB" is not a size/);
  });
});

describe('environment references and types', () => {
  it('coerces booleans and numbers only where the schema expects them', () => {
    const text = `
name: env
source:
  type: rabbitmq
  rabbitmq: { url: "\${URL}", queue: "\${QUEUE}", prefetch: "\${PREFETCH}", declare: "\${DECLARE}" }
sink:
  type: s3
  s3: { bucket: b-1, forcePathStyle: "\${PATH_STYLE}", accessKeyId: "\${KEY}", secretAccessKey: "\${SECRET}" }
buffer: { commitFileSize: "\${SIZE}", commitDuration: 3 }
`;
    const cfg = parseBridgeConfig(text, 'env.yaml', {
      URL: 'amqp://x',
      QUEUE: '12345',
      PREFETCH: '250',
      DECLARE: 'false',
      PATH_STYLE: 'true',
      KEY: '000123',
      SECRET: 'true',
      SIZE: '2048',
    });
    expect(cfg.source.rabbitmq).toMatchObject({ queue: '12345', prefetch: 250, declare: false });
    expect(cfg.sink.s3).toMatchObject({
      forcePathStyle: true,
      accessKeyId: '000123',
      secretAccessKey: 'true',
    });
    // A size written as a string is a quantity in bytes; a YAML number is KB (Manifold's unit).
    expect(cfg.buffer?.commitFileBytes).toBe(2048);
    expect(cfg.buffer?.commitDurationMs).toBe(180_000);
  });
});

describe('optional settings blocks', () => {
  it('a block whose fields are all optional may be left out', () => {
    const cfg = parseBridgeConfig('name: s\nsource: { type: stdio }\nsink: { type: stdio }\n', 's.yaml', {});
    expect(cfg.source.stdio).toEqual({});
    expect(cfg.sink.stdio).toEqual({});
  });
});
