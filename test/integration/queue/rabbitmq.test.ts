import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import {
  RabbitMqQueue,
  rabbitMqSettings,
  type BatchMessage,
  type Disposition,
} from '../../../src/queue/index.js';
import { requireService } from '../services.js';

// The RabbitMQ BatchQueue against the harness' broker: durable topology, confirms, manual ack with a
// prefetch window, delayed retries through the TTL wait queues, the poison limit, dead-lettering of
// malformed messages, and resuming after the broker dropped the connection.
jest.setTimeout(180_000);

const url = requireService('RABBITMQ_URL');
const mgmt = new URL(requireService('RABBITMQ_MGMT_URL'));
const mgmtAuth = `Basic ${Buffer.from(`${decodeURIComponent(mgmt.username)}:${decodeURIComponent(mgmt.password)}`).toString('base64')}`;

function newQueue(name: string): RabbitMqQueue {
  return new RabbitMqQueue({
    ...rabbitMqSettings({ url, publishTimeoutMs: '20000' }, {}),
    connectionName: name,
  });
}

function msg(ks: string, batchIdx: number, total = 100): BatchMessage {
  return {
    v: 1,
    id: `${String(batchIdx).padStart(6, '0')}-${randomUUID()}`,
    ts: Date.now(),
    ks,
    runId: 1,
    node: 'n',
    batchIdx,
    batchesTotal: total,
    firstToken: String(batchIdx),
    lastToken: String(batchIdx),
    attempt: 0,
  };
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Closes every connection of the broker with the given client-provided name (management API). The API
 * lists a new connection after its statistics interval (5 s), so this polls until it sees one.
 */
async function dropConnections(name: string): Promise<number> {
  const until = Date.now() + 60_000;
  for (;;) {
    const n = await dropConnectionsOnce(name);
    if (n > 0 || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function dropConnectionsOnce(name: string): Promise<number> {
  const res = await fetch(`${mgmt.protocol}//${mgmt.host}/api/connections`, {
    headers: { authorization: mgmtAuth },
  });
  const list = (await res.json()) as { name: string; client_properties?: { connection_name?: string } }[];
  let n = 0;
  for (const c of list) {
    if (c.client_properties?.connection_name !== name) continue;
    await fetch(`${mgmt.protocol}//${mgmt.host}/api/connections/${encodeURIComponent(c.name)}`, {
      method: 'DELETE',
      headers: { authorization: mgmtAuth, 'X-Reason': 'test: connection dropped' },
    });
    n++;
  }
  return n;
}

describe('RabbitMqQueue', () => {
  const tag = randomBytes(4).toString('hex');
  const queue = newQueue(`plexus-it-queue-${tag}`);
  const used: string[] = [];
  const ksFor = (name: string): string => {
    const ks = `itq_${name}_${tag}`;
    used.push(ks);
    return ks;
  };

  afterAll(async () => {
    for (const ks of used) await queue.deleteQueues(ks).catch(() => undefined);
    await queue.close();
  });

  test('publishes with confirms; consumes with at most `concurrency` in flight; acks', async () => {
    const ks = ksFor('basic');
    const msgs = Array.from({ length: 30 }, (_, i) => msg(ks, i));
    await queue.publish(ks, msgs);
    expect((await queue.counts(ks)).ready).toBe(30);
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    const consumer = await queue.consume(
      ks,
      async (m): Promise<Disposition> => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // The first handler holds its message until a second one is in flight beside it (30 messages are
        // ready), so that concurrency shows whatever the timing of the deliveries; one at a time would
        // leave it waiting out the 10 s and maxInFlight at 1.
        const until = Date.now() + 10_000;
        while (seen.length === 0 && maxInFlight < 2 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 5));
        }
        await new Promise((r) => setTimeout(r, 20));
        seen.push(m.batchIdx);
        inFlight--;
        return { kind: 'ack' };
      },
      3,
    );
    await waitFor(() => seen.length === 30, 60_000, '30 deliveries');
    await consumer.stop();
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(msgs.map((m) => m.batchIdx));
    const c = await queue.counts(ks);
    expect(c).toMatchObject({ ready: 0, waiting: 0, dead: 0 });
  });

  test('retries go through the wait queues; waiting is no failure; the poison limit gives up', async () => {
    const ks = ksFor('retry');
    const deliveries: { idx: number; attempt: number; at: number }[] = [];
    const givenUp: { idx: number; reason: string }[] = [];
    const consumer = await queue.consume(
      ks,
      async (m): Promise<Disposition> => {
        deliveries.push({ idx: m.batchIdx, attempt: m.attempt, at: Date.now() });
        if (m.batchIdx === 0) {
          // waits 4 times (not failures), then succeeds
          return m.attempt < 4
            ? { kind: 'retry', reason: 'deps', delayMs: 100, wait: true }
            : { kind: 'ack' };
        }
        return { kind: 'retry', reason: `boom ${m.attempt}`, delayMs: 100 };
      },
      2,
      {
        maxFailures: 3,
        onGiveUp: async (m, reason) => {
          givenUp.push({ idx: m.batchIdx, reason });
        },
      },
    );
    const t0 = Date.now();
    await queue.publish(ks, [msg(ks, 0), msg(ks, 1)]);
    await waitFor(
      () => givenUp.length === 1 && deliveries.filter((d) => d.idx === 0).length === 5,
      90_000,
      'retries',
    );
    await consumer.stop();
    const zero = deliveries.filter((d) => d.idx === 0);
    expect(zero.map((d) => d.attempt)).toEqual([0, 1, 2, 3, 4]);
    // each retry waited at least the 1 s delay tier
    for (let i = 1; i < zero.length; i++) expect(zero[i]!.at - zero[i - 1]!.at).toBeGreaterThanOrEqual(900);
    const one = deliveries.filter((d) => d.idx === 1);
    expect(one.map((d) => d.attempt)).toEqual([0, 1, 2]);
    expect(givenUp[0]!.reason).toBe('gave up after 3 failed attempt(s); last error: boom 2');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000);
    expect(await queue.counts(ks)).toMatchObject({ ready: 0, waiting: 0, dead: 0 });
  });

  test('malformed, unknown-version and poison messages go to the dead queue with a reason', async () => {
    const ks = ksFor('dead');
    await queue.publishRaw(ks, Buffer.from('{not json'));
    await queue.publishRaw(ks, Buffer.from(JSON.stringify({ ...msg(ks, 0), v: 2 })));
    await queue.publishRaw(ks, Buffer.from(JSON.stringify({ ...msg(ks, 0), batchIdx: 'x' })));
    await queue.publishRaw(ks, Buffer.from(JSON.stringify({ ...msg(ks, 0), batchIdx: 7, batchesTotal: 3 })));
    await queue.publish(ks, [msg(ks, 5)]);
    const handled: number[] = [];
    const consumer = await queue.consume(
      ks,
      async (m): Promise<Disposition> => {
        handled.push(m.batchIdx);
        if (m.attempt === 0) throw new Error('handler crashed');
        return { kind: 'dead', reason: 'node x is not in the script' };
      },
      2,
      { maxFailures: 5, backoffBaseMs: 100 },
    );
    await waitFor(async () => (await queue.counts(ks)).dead === 5, 60_000, '5 dead letters');
    await consumer.stop();
    expect(handled).toEqual([5, 5]);
    const dead = await queue.deadLetters(ks);
    const reasons = dead.map((d) => d.reason.replace(/^not JSON: .*/, 'not JSON')).sort();
    expect(reasons).toEqual(
      [
        'invalid batch message: batchIdx must be an integer from 0 to batchesTotal-1 (2)',
        'invalid batch message: batchIdx must be integer',
        'node x is not in the script',
        'not JSON',
        'unsupported message version 2 (this worker reads 1)',
      ].sort(),
    );
    // reading them does not remove them
    expect((await queue.counts(ks)).dead).toBe(5);
  });

  test('resumes consuming after the broker drops the connection; in-flight messages come back', async () => {
    const ks = ksFor('reconnect');
    const name = `plexus-it-reconnect-${tag}`;
    const q = newQueue(name);
    try {
      const done = new Set<number>();
      let dropped = false;
      let first = true;
      const consumer = await q.consume(
        ks,
        async (m): Promise<Disposition> => {
          if (m.batchIdx === 0 && first) {
            first = false;
            // drop the connection while this message is in flight: it is not acked and comes back
            dropped = (await dropConnections(name)) > 0;
            await new Promise((r) => setTimeout(r, 300));
            return { kind: 'ack' };
          }
          done.add(m.batchIdx);
          return { kind: 'ack' };
        },
        2,
      );
      await q.publish(ks, [msg(ks, 0)]);
      await waitFor(() => dropped, 90_000, 'the connection drop');
      await waitFor(() => done.has(0), 60_000, 'redelivery of the in-flight message');
      await q.publish(ks, [msg(ks, 1), msg(ks, 2)]);
      await waitFor(() => done.has(1) && done.has(2), 60_000, 'deliveries after reconnecting');
      expect(q.reconnects).toBeGreaterThanOrEqual(1);
      await consumer.stop();
      expect(await q.counts(ks)).toMatchObject({ ready: 0, waiting: 0 });
    } finally {
      await q.close();
    }
  });

  test('a queue of the same name with other settings is a clear error, not a long retry', async () => {
    const ks = ksFor('mismatch');
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue.mainQueue(ks), { durable: false });
      await ch.close();
    } finally {
      await conn.close();
    }
    const t0 = Date.now();
    const err = (await queue.publish(ks, [msg(ks, 0)]).catch((e: unknown) => e)) as {
      code?: string;
      message: string;
    };
    expect(err.code).toBe('QUEUE_MISMATCH');
    expect(err.message).toMatch(/exist with other settings .*PRECONDITION_FAILED/);
    // refused at once, not retried until the publish timeout (20 s) gives up
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test('deleteQueues removes the topology; an unreachable broker is a transient error naming it', async () => {
    const ks = ksFor('delete');
    await queue.publish(ks, [msg(ks, 0)]);
    await queue.deleteQueues(ks);
    expect(await queue.counts(ks)).toEqual({ ready: 0, waiting: 0, dead: 0, consumers: 0 });
    const down = new RabbitMqQueue(
      rabbitMqSettings({ url: 'amqp://u:secret@127.0.0.1:1', publishTimeoutMs: '1500' }, {}),
    );
    try {
      const err = (await down.publish(ks, [msg(ks, 0)]).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/RabbitMQ at amqp:\/\/u:\*\*\*@127\.0\.0\.1:1.* is unreachable/);
      expect(err.message).not.toMatch(/secret/);
    } finally {
      await down.close();
    }
  });
});
