import { AggregateUserError } from '../../../src/errors/index.js';
import {
  decodeBatchMessage,
  encodeBatchMessage,
  rabbitMqSettings,
  redactAmqpUrl,
  type BatchMessage,
} from '../../../src/queue/index.js';

const good: BatchMessage = {
  v: 1,
  id: '000003-abc',
  ts: 1_700_000_000_000,
  ks: 'lookup_ks',
  runId: 2,
  node: 'read_orders',
  batchIdx: 3,
  batchesTotal: 10,
  firstToken: '-9223372036854775808',
  lastToken: '9223372036854775807',
  attempt: 0,
};

describe('batch message wire format v1', () => {
  test('round trip', () => {
    const d = decodeBatchMessage(encodeBatchMessage(good));
    expect(d).toEqual({ ok: true, msg: good });
  });

  test.each<[string, unknown, string]>([
    ['not JSON', '{', 'not JSON'],
    ['unknown version', { ...good, v: 2 }, 'unsupported message version 2 (this worker reads 1)'],
    ['missing field', { ...good, node: undefined }, "message must have required property 'node'"],
    ['unknown field', { ...good, extra: 1 }, 'message: unknown field extra'],
    ['wrong type', { ...good, runId: '2' }, 'runId must be integer'],
    ['bad keyspace', { ...good, ks: 'a-b' }, 'ks must match pattern'],
    [
      'token out of int64',
      { ...good, lastToken: '9223372036854775808' },
      'lastToken must be a signed 64-bit',
    ],
    [
      'batch index above total',
      { ...good, batchIdx: 10 },
      'batchIdx must be an integer from 0 to batchesTotal-1 (9)',
    ],
  ])('%s is refused with a reason', (_, body, reason) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const d = decodeBatchMessage(Buffer.from(text));
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toContain(reason);
  });

  test('an invalid message is never published', () => {
    expect(() => encodeBatchMessage({ ...good, batchIdx: 11 })).toThrow(/refusing to publish/);
  });
});

describe('rabbitMqSettings', () => {
  test('env and defaults; flags win', () => {
    expect(rabbitMqSettings({}, { PLEXUS_RABBITMQ_URL: 'amqp://a' })).toEqual({
      url: 'amqp://a',
      prefix: 'plexus',
      publishTimeoutMs: 60_000,
      heartbeatSeconds: 10,
    });
    expect(
      rabbitMqSettings({ url: 'amqps://b', prefix: 'p2' }, { PLEXUS_RABBITMQ_URL: 'amqp://a' }),
    ).toMatchObject({
      url: 'amqps://b',
      prefix: 'p2',
    });
  });

  test('problems name the variable', () => {
    expect(() => rabbitMqSettings({}, {})).toThrow(AggregateUserError);
    expect(() => rabbitMqSettings({}, {})).toThrow(/PLEXUS_RABBITMQ_URL/);
    expect(() => rabbitMqSettings({ url: 'http://x' }, {})).toThrow(/not an amqp/);
    expect(() => rabbitMqSettings({ url: 'amqp://x', heartbeatSeconds: '-1' }, {})).toThrow(
      /PLEXUS_RABBITMQ_HEARTBEAT/,
    );
  });

  test('passwords are hidden in messages', () => {
    expect(redactAmqpUrl('amqp://user:secret@host:5672/vh')).toBe('amqp://user:***@host:5672/vh');
  });
});
