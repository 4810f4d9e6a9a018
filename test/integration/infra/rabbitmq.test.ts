import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { requireService } from '../services.js';

// Smoke test of the harness' RabbitMQ: publisher confirms, consume, ack, and the management API.
const url = requireService('RABBITMQ_URL');
const mgmtUrl = requireService('RABBITMQ_MGMT_URL');
const TIMEOUT = 60_000;

describe('infra: RabbitMQ', () => {
  const queue = `infra-smoke-${randomUUID()}`;
  let conn: amqp.ChannelModel;

  beforeAll(async () => {
    conn = await amqp.connect(url);
  }, TIMEOUT);

  afterAll(async () => {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await conn.close();
  }, TIMEOUT);

  it(
    'publishes with confirms, consumes and acks',
    async () => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(queue, { durable: true });
      const bodies = ['one', 'two', 'three'];
      for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b), { persistent: true, messageId: b });
      await ch.waitForConfirms();

      const received: string[] = [];
      await ch.prefetch(10);
      await new Promise<void>((resolve, reject) => {
        ch.consume(queue, (msg) => {
          if (!msg) return reject(new Error('consumer cancelled by the broker'));
          received.push(msg.content.toString());
          ch.ack(msg);
          if (received.length === bodies.length) resolve();
        }).catch(reject);
      });
      expect(received).toEqual(bodies);
      await ch.close();

      // Everything was acked: the queue is empty.
      const check = await conn.createChannel();
      const q = await check.checkQueue(queue);
      expect(q.messageCount).toBe(0);
      await check.close();
    },
    TIMEOUT,
  );

  it(
    'answers on the management API with the test user',
    async () => {
      const u = new URL(mgmtUrl);
      const auth = Buffer.from(
        `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`,
      ).toString('base64');
      const res = await fetch(`${u.protocol}//${u.host}/api/overview`, {
        headers: { authorization: `Basic ${auth}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { rabbitmq_version?: string };
      expect(body.rabbitmq_version).toMatch(/^\d+\.\d+/);
    },
    TIMEOUT,
  );
});
