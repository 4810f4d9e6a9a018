import {
  MemoryQueue,
  validateBatchMessage,
  type BatchMessage,
  type Disposition,
} from '../../../src/queue/index.js';

/** Polls `cond` every 5 ms for up to 10 s (a loaded machine is slow). */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function msg(batchIdx: number, extra: Partial<BatchMessage> = {}): BatchMessage {
  return {
    v: 1,
    id: `${String(batchIdx).padStart(6, '0')}-0b7c1e52-8d7e-4d0e-9a51-2f6f3f1c9a10`,
    ts: Date.now(),
    ks: 'ks1',
    runId: 1,
    node: 'n',
    batchIdx,
    batchesTotal: 1000,
    firstToken: '-9223372036854775808',
    lastToken: '9223372036854775807',
    attempt: 0,
    ...extra,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let queue: MemoryQueue;
afterEach(async () => {
  await queue.close();
});

test('FIFO per keyspace and concurrency bound', async () => {
  queue = new MemoryQueue();
  const order: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  await queue.publish(
    'ks1',
    Array.from({ length: 20 }, (_, i) => msg(i)),
  );
  await queue.publish('ks2', [msg(100, { ks: 'ks2' })]);
  const c = await queue.consume(
    'ks1',
    async (m) => {
      order.push(m.batchIdx);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { kind: 'ack' };
    },
    3,
  );
  await queue.waitIdle('ks1');
  expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(maxInFlight).toBe(3);
  expect(queue.pending('ks2')).toBe(1); // other keyspace untouched
  await c.stop();
});

test('messages published before and after consume are delivered; competing consumers share work', async () => {
  queue = new MemoryQueue();
  const seen: [string, number][] = [];
  await queue.publish('ks1', [msg(0), msg(1)]);
  const mk =
    (name: string) =>
    async (m: BatchMessage): Promise<Disposition> => {
      seen.push([name, m.batchIdx]);
      await new Promise((r) => setTimeout(r, 2));
      return { kind: 'ack' };
    };
  const a = await queue.consume('ks1', mk('a'), 1);
  const b = await queue.consume('ks1', mk('b'), 1);
  await queue.publish(
    'ks1',
    Array.from({ length: 10 }, (_, i) => msg(i + 2)),
  );
  await queue.waitIdle('ks1');
  expect(seen.map(([, i]) => i).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  expect(seen.some(([n]) => n === 'a')).toBe(true);
  expect(seen.some(([n]) => n === 'b')).toBe(true);
  await a.stop();
  await b.stop();
});

test('retry redelivers after the delay with attempt+1; thrown errors retry too', async () => {
  queue = new MemoryQueue({ retryDelayMs: 20 });
  const deliveries: [number, number, number][] = [];
  const t0 = Date.now();
  const c = await queue.consume(
    'ks1',
    async (m) => {
      deliveries.push([m.batchIdx, m.attempt, Date.now() - t0]);
      if (m.batchIdx === 0 && m.attempt === 0)
        return { kind: 'retry', reason: 'dependency not ready', delayMs: 50 };
      if (m.batchIdx === 1 && m.attempt < 2) throw new Error('connection reset');
      return { kind: 'ack' };
    },
    2,
  );
  await queue.publish('ks1', [msg(0), msg(1)]);
  expect(queue.inFlight('ks1') + queue.pending('ks1')).toBeGreaterThan(0);
  await queue.waitIdle('ks1');
  const b0 = deliveries.filter(([i]) => i === 0);
  const b1 = deliveries.filter(([i]) => i === 1);
  expect(b0.map(([, a]) => a)).toEqual([0, 1]);
  expect(b0[1]![2] - b0[0]![2]).toBeGreaterThanOrEqual(45);
  expect(b1.map(([, a]) => a)).toEqual([0, 1, 2]);
  expect(queue.deadLetters('ks1')).toEqual([]);
  await c.stop();
});

test('dead letters: handler verdict, poison limit and invalid messages, with reasons', async () => {
  queue = new MemoryQueue({ retryDelayMs: 1, maxDeliveries: 3 });
  let handled = 0;
  const c = await queue.consume(
    'ks1',
    async (m) => {
      handled++;
      if (m.batchIdx === 0) return { kind: 'dead', reason: 'script not found' };
      return { kind: 'retry', reason: `still failing (${m.attempt})` };
    },
    1,
  );
  const bad = { ...msg(7), v: 2 } as unknown as BatchMessage;
  await queue.publish('ks1', [msg(0), msg(1), bad]);
  await queue.waitIdle('ks1');
  const dead = queue.deadLetters('ks1');
  expect(dead.map((d) => [d.msg.batchIdx, d.reason])).toEqual([
    [0, 'script not found'],
    [7, 'invalid message: unsupported message version 2 (expected 1)'],
    [1, 'gave up after 3 deliveries; last failure: still failing (2)'],
  ]);
  expect(handled).toBe(4); // the invalid message never reached the handler
  expect(dead[0]!.ts).toBeGreaterThan(0);
  await c.stop();
});

test('stop stops taking messages and waits for those in flight', async () => {
  queue = new MemoryQueue();
  const gate = deferred();
  const started: number[] = [];
  const finished: number[] = [];
  const c = await queue.consume(
    'ks1',
    async (m) => {
      started.push(m.batchIdx);
      await gate.promise;
      finished.push(m.batchIdx);
      return { kind: 'ack' };
    },
    2,
  );
  await queue.publish('ks1', [msg(0), msg(1), msg(2), msg(3)]);
  await until(() => started.length >= 2);
  await new Promise((r) => setTimeout(r, 10)); // and no third while both are busy
  expect(started).toEqual([0, 1]);
  let stopped = false;
  const stopping = c.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 10));
  expect(stopped).toBe(false);
  gate.resolve();
  await stopping;
  expect(finished).toEqual([0, 1]);
  expect(started).toEqual([0, 1]); // nothing new after stop
  expect(queue.pending('ks1')).toBe(2);

  // a new consumer picks up the rest
  const rest: number[] = [];
  const c2 = await queue.consume(
    'ks1',
    async (m) => {
      rest.push(m.batchIdx);
      return { kind: 'ack' };
    },
    1,
  );
  await queue.waitIdle('ks1');
  expect(rest).toEqual([2, 3]);
  await c2.stop();
});

test('deleteQueues drops pending and delayed messages; close refuses further use', async () => {
  queue = new MemoryQueue({ retryDelayMs: 10_000 });
  const c = await queue.consume('ks1', async () => ({ kind: 'retry', reason: 'later' }), 1);
  await queue.publish('ks1', [msg(0), msg(1)]);
  await until(() => queue.delayed('ks1') === 2); // both handled once and waiting for their retry
  expect(queue.delayed('ks1') + queue.pending('ks1')).toBe(2);
  await queue.deleteQueues('ks1');
  expect(queue.pending('ks1')).toBe(0);
  expect(queue.delayed('ks1')).toBe(0);
  await c.stop();
  await queue.close();
  await expect(queue.publish('ks1', [msg(0)])).rejects.toThrow('closed');
  await expect(queue.consume('ks1', async () => ({ kind: 'ack' }), 1)).rejects.toThrow('closed');
});

test('consume rejects a bad concurrency', async () => {
  queue = new MemoryQueue();
  await expect(queue.consume('ks1', async () => ({ kind: 'ack' }), 0)).rejects.toThrow(RangeError);
});

describe('validateBatchMessage', () => {
  test('accepts a well-formed message', () => {
    expect(validateBatchMessage(msg(0))).toBeUndefined();
    expect(validateBatchMessage(msg(3, { firstToken: '3', lastToken: '3' }))).toBeUndefined();
  });
  test.each<[unknown, string]>([
    [null, 'not an object'],
    [{ ...msg(0), id: '' }, 'id must be a non-empty string'],
    [{ ...msg(0), runId: 0 }, 'runId must be a positive integer'],
    [{ ...msg(0), batchIdx: 1000 }, 'batchIdx must be an integer from 0 to batchesTotal-1 (999)'],
    [
      { ...msg(0), firstToken: '9223372036854775808' },
      'firstToken must be a signed 64-bit integer in a string',
    ],
    [{ ...msg(0), firstToken: 5 }, 'firstToken must be a signed 64-bit integer in a string'],
    [{ ...msg(0), firstToken: '10', lastToken: '9' }, 'firstToken 10 is greater than lastToken 9'],
    [{ ...msg(0), attempt: -1 }, 'attempt must be a non-negative integer'],
  ])('rejects %j', (m, reason) => {
    expect(validateBatchMessage(m)).toBe(reason);
  });
});
