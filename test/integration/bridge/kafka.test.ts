import { PassThrough } from 'node:stream';
import kafkajs from 'kafkajs';
import { createBridge, parseBridgeConfig, type Bridge } from '../../../src/bridge/index.js';
import { requireService } from '../services.js';
import { freshRegistry, logger, payload, tally, uniqueName, waitFor } from './util.js';

const brokers = requireService('KAFKA_BROKERS')
  .split(',')
  .map((b) => b.trim());

function collect(stream: PassThrough): () => string[] {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text.split('\n').filter((l) => l.length > 0);
}

describe('Kafka sink and source (real broker)', () => {
  const run = uniqueName('kafka');
  const topic = `${run}-topic`;
  const brokerList = brokers.map((b) => `"${b}"`).join(', ');
  const admin = new kafkajs.Kafka({
    clientId: 'plexus-it',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  }, 60_000);
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }, 60_000);

  function producer(input: PassThrough): Bridge {
    const cfg = parseBridgeConfig(
      `
name: ${run}-out
source: { type: stdio, stdio: {} }
sink:
  type: kafka
  kafka: { brokers: [${brokerList}], topic: ${topic} }
`,
      'kafka-out.yaml',
    );
    return createBridge(cfg, { registry: freshRegistry(), logger, stdin: input });
  }

  function consumer(out: PassThrough): Bridge {
    const cfg = parseBridgeConfig(
      `
name: ${run}-in
source:
  type: kafka
  kafka: { brokers: [${brokerList}], topic: ${topic}, groupId: ${run}-group, commitEvery: 200ms }
sink: { type: stdio, stdio: {} }
`,
      'kafka-in.yaml',
    );
    return createBridge(cfg, { registry: freshRegistry(), logger, stdout: out });
  }

  async function produce(items: string[]): Promise<void> {
    const input = new PassThrough();
    const b = producer(input);
    await b.start();
    input.end(items.join('\n') + '\n');
    const outcome = await b.done;
    expect(outcome.status.phase).toBe('Completed');
    expect(outcome.status.counters.delivered).toBe(items.length);
  }

  it('produces with acks=all, consumes in a group, and resumes after the committed offsets', async () => {
    const first = Array.from({ length: 2000 }, (_, i) => payload(run, i));
    await produce(first);
    const out1 = new PassThrough();
    const lines1 = collect(out1);
    const in1 = consumer(out1);
    await in1.start();
    await waitFor('all 2000 consumed', () => tally(first, lines1()).missing.length === 0, 120_000);
    expect(in1.status().conditions.find((c) => c.type === 'SourceConnected')?.status).toBe('True');
    await in1.stop(); // commits the offsets of what was delivered
    const t1 = tally(first, lines1());
    expect(t1.missing).toEqual([]);

    const second = Array.from({ length: 500 }, (_, i) => payload(run, 2000 + i));
    await produce(second);
    const out2 = new PassThrough();
    const lines2 = collect(out2);
    const in2 = consumer(out2);
    await in2.start();
    // Every one of the 500: a partition is read in order, so anything of the first part that came again
    // (offsets not committed) came before them.
    await waitFor('all 500 new consumed', () => tally(second, lines2()).missing.length === 0, 120_000);
    await in2.stop();
    expect(tally(second, lines2()).missing).toEqual([]);
    // Offsets were committed after delivery: nothing of the first part comes again.
    expect(lines2().filter((l) => first.includes(l))).toEqual([]);
  }, 240_000);
});
