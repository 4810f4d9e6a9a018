import { jest } from '@jest/globals';
import { createBridge, parseBridgeConfig } from '../../../src/bridge/index.js';
import { requireService } from '../services.js';
import {
  deleteQueues,
  drainQueue,
  freshRegistry,
  logger,
  payload,
  publish,
  tally,
  uniqueName,
  waitFor,
} from './util.js';

const url = requireService('RABBITMQ_URL');

jest.setTimeout(120_000);

describe('RabbitMQ source and sink (real broker)', () => {
  const run = uniqueName('rmq');
  const inQ = `${run}-in`;
  const outX = `${run}-x`;
  const outQ = `${run}-out`;
  const dlQ = `${run}-dl`;

  afterAll(() => deleteQueues(url, [inQ, outQ, dlQ], [outX]));

  it('moves every message from a queue to an exchange (manual acks, confirms), nothing left behind', async () => {
    const sent = Array.from({ length: 3000 }, (_, i) => payload(run, i, 200));
    await publish(url, inQ, sent);
    // The output queue is bound before the bridge publishes (unroutable messages would be refused).
    const amqp = (await import('amqplib')).default;
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    await ch.assertExchange(outX, 'topic', { durable: true });
    await ch.assertQueue(outQ, { durable: true });
    await ch.bindQueue(outQ, outX, 'orders.#');
    await conn.close();

    const cfg = parseBridgeConfig(
      `
name: ${run}
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${inQ}, prefetch: 200 }
sink:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", exchange: ${outX}, routingKey: orders.new }
delivery: { batchMaxRecords: 250 }
`,
      'rabbitmq.yaml',
    );
    const bridge = createBridge(cfg, { registry: freshRegistry(), logger });
    await bridge.start();
    await waitFor('3000 delivered', () => bridge.status().counters.delivered >= 3000, 60_000);
    const st = bridge.status();
    expect(st.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    const out = await bridge.stop();
    expect(out.status.phase).toBe('Stopped');
    const received = await drainQueue(url, outQ, sent.length);
    const t = tally(sent, received);
    expect(t.missing).toEqual([]);
    expect(t.unique).toBe(sent.length);
    expect(t.checksum).toBe(tally(sent, sent).checksum);
    expect(t.duplicates).toBe(out.status.counters.duplicates);
    // Everything was acknowledged: the input queue is empty.
    expect(await drainQueue(url, inQ, 1, 500)).toEqual([]);
  });

  it('dead-letters messages the sink returns as unroutable, with the reason in a header', async () => {
    const sent = Array.from({ length: 20 }, (_, i) => payload(`${run}-dl`, i));
    await publish(url, inQ, sent);
    const cfg = parseBridgeConfig(
      `
name: ${run}-dl
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${inQ} }
sink:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", exchange: ${outX}, routingKey: nowhere.bound }
errorPolicy:
  onReject: deadLetter
  deadLetter:
    type: rabbitmq
    rabbitmq: { url: "\${RABBITMQ_URL}", exchange: "", routingKey: ${dlQ} }
`,
      'rabbitmq-dl.yaml',
    );
    await deleteQueues(url, [dlQ]);
    const amqp = (await import('amqplib')).default;
    const conn = await amqp.connect(url);
    await (await conn.createChannel()).assertQueue(dlQ, { durable: true });
    await conn.close();
    const bridge = createBridge(cfg, { registry: freshRegistry(), logger });
    await bridge.start();
    await waitFor('20 dead-lettered', () => bridge.status().counters.deadLettered >= 20, 60_000);
    const out = await bridge.stop();
    expect(out.status.conditions.find((c) => c.type === 'DeadLettering')?.status).toBe('True');
    const letters = await drainQueue(url, dlQ, 20);
    expect(tally(sent, letters).missing).toEqual([]);
  });

  it('reports the source as not connected (and keeps retrying) when the broker refuses the login', async () => {
    const bad = new URL(url);
    bad.password = 'wrong-password';
    const cfg = parseBridgeConfig(
      `
name: ${run}-auth
source:
  type: rabbitmq
  rabbitmq: { url: "${bad.toString()}", queue: ${inQ} }
sink:
  type: stdio
  stdio: {}
backoff: { initial: 50ms, max: 200ms }
`,
      'auth.yaml',
    );
    const bridge = createBridge(cfg, { registry: freshRegistry(), logger });
    await bridge.start();
    await waitFor('two retries', () => bridge.status().counters.retries >= 2, 60_000);
    const st = bridge.status();
    const cond = st.conditions.find((c) => c.type === 'SourceConnected');
    expect(cond?.status).toBe('False');
    expect(cond?.message).not.toContain('wrong-password');
    expect(st.lastError?.side).toBe('source');
    await bridge.stop();
  });
});
