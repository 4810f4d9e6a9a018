import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { requireService } from '../services.js';

// Smoke test of the harness' Kafka (KRaft) through kafkajs: topic admin, idempotent produce, a consumer group
// that commits offsets, and a second member of the group that resumes after the committed offsets.
const TIMEOUT = 120_000;
const run = randomBytes(4).toString('hex');
const topic = `infra-smoke-${run}`;
const groupId = `infra-smoke-group-${run}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('infra: Kafka', () => {
  const kafka = new Kafka({
    clientId: `infra-smoke-${run}`,
    brokers: requireService('KAFKA_BROKERS').split(','),
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  }, TIMEOUT);

  afterAll(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }, TIMEOUT);

  async function consumeN(consumer: Consumer, n: number, ms: number): Promise<string[]> {
    const got: string[] = [];
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        got.push(message.value?.toString() ?? '');
        await consumer.commitOffsets([
          { topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    const deadline = Date.now() + ms;
    while (got.length < n && Date.now() < deadline) await sleep(100);
    return got;
  }

  it(
    'produces, consumes with a consumer group, commits, and resumes from the committed offsets',
    async () => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const first = Array.from({ length: 20 }, (_, i) => `m-${i}`);
      await producer.send({
        topic,
        acks: -1,
        messages: first.map((value, i) => ({ key: `k${i % 4}`, value })),
      });

      const c1 = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await c1.connect();
      const got1 = await consumeN(c1, first.length, 60_000);
      await c1.disconnect();
      expect([...got1].sort()).toEqual([...first].sort());

      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
      expect(committed).toBe(first.length);

      // A new member of the same group sees only what was produced after the commit.
      const second = ['late-1', 'late-2', 'late-3'];
      await producer.send({ topic, acks: -1, messages: second.map((value) => ({ value })) });
      await producer.disconnect();
      const c2 = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await c2.connect();
      const got2 = await consumeN(c2, second.length, 60_000);
      await sleep(500);
      await c2.disconnect();
      expect([...got2].sort()).toEqual([...second].sort());
    },
    TIMEOUT,
  );
});
