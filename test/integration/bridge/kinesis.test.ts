import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createBridge, parseBridgeConfig, type Bridge } from '../../../src/bridge/index.js';
import { requireService } from '../services.js';
import { freshRegistry, logger, tally, uniqueName, waitFor } from './util.js';

const endpoint = requireService('KINESIS_ENDPOINT');
const region = process.env.KINESIS_REGION ?? process.env.S3_REGION ?? 'us-east-1';

const client = new KinesisClient({
  endpoint,
  region,
  credentials: { accessKeyId: 'plexus', secretAccessKey: 'plexus' },
  requestHandler: new NodeHttpHandler(),
});

async function createStream(name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitFor(
    `stream ${name} active`,
    async () => {
      const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    },
    60_000,
  );
}

function collect(stream: PassThrough): () => string[] {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text.split('\n').filter((l) => l.length > 0);
}

const awsBlock = `region: ${region}, endpoint: "${endpoint}", accessKeyId: plexus, secretAccessKey: plexus`;

describe('Kinesis sink and source (Kinesis-compatible server)', () => {
  const stream = uniqueName('plexus');
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-kin-'));
    await createStream(stream, 2);
  }, 60_000);
  afterAll(async () => {
    await client
      .send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }))
      .catch(() => undefined);
    client.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function producer(input: PassThrough): Bridge {
    const cfg = parseBridgeConfig(
      `
name: kin-out
source: { type: stdio, stdio: {} }
sink:
  type: kinesis
  kinesis: { stream: ${stream}, partitionKey: "field:id", ${awsBlock} }
delivery: { batchMaxRecords: 700 }
`,
      'kin-out.yaml',
    );
    return createBridge(cfg, { registry: freshRegistry(), logger, stdin: input });
  }

  function consumer(out: PassThrough): Bridge {
    const cfg = parseBridgeConfig(
      `
name: kin-in
source:
  type: kinesis
  kinesis: { stream: ${stream}, ${awsBlock}, pollEvery: 100ms, checkpointEvery: 200ms, shardRefreshEvery: 1s }
sink: { type: stdio, stdio: {} }
buffer: { bufferPath: ${dir} }
`,
      'kin-in.yaml',
    );
    // The buffer block above puts a disk buffer in front of stdout and holds the checkpoint file.
    return createBridge(cfg, { registry: freshRegistry(), logger, stdout: out });
  }

  const doc = (run: string, i: number): string => JSON.stringify({ id: `k${i % 37}`, n: i, run });

  it('writes with PutRecords batches, then reads every shard and resumes after the checkpoint on restart', async () => {
    const run = uniqueName('r');
    const first = Array.from({ length: 1200 }, (_, i) => doc(run, i));
    const input = new PassThrough();
    const out = producer(input);
    await out.start();
    input.end(first.join('\n') + '\n');
    const produced = await out.done;
    expect(produced.status.phase).toBe('Completed');
    expect(produced.status.counters.delivered).toBe(1200);

    const sink1 = new PassThrough();
    const lines1 = collect(sink1);
    const in1 = consumer(sink1);
    await in1.start();
    await waitFor('all 1200 records read', () => tally(first, lines1()).missing.length === 0, 120_000);
    const stopped = await in1.stop();
    expect(stopped.status.phase).toBe('Stopped');
    const t1 = tally(first, lines1());
    expect(t1.missing).toEqual([]);
    expect(t1.duplicates).toBe(0);
    const ckpt = JSON.parse(fs.readFileSync(path.join(dir, 'kin-in', `kinesis-${stream}.json`), 'utf8')) as {
      shards: Record<string, { sequenceNumber?: string }>;
    };
    expect(Object.keys(ckpt.shards)).toHaveLength(2);

    // More records, then a restart: only the new ones come, none of the first 1200 again.
    const second = Array.from({ length: 300 }, (_, i) => doc(run, 1200 + i));
    const input2 = new PassThrough();
    const out2 = producer(input2);
    await out2.start();
    input2.end(second.join('\n') + '\n');
    await out2.done;
    const sink2 = new PassThrough();
    const lines2 = collect(sink2);
    const in2 = consumer(sink2);
    await in2.start();
    // Every one of the 300: a shard is read in order, so anything of the first part that came again (not
    // checkpointed) came before them.
    await waitFor('all 300 new records read', () => tally(second, lines2()).missing.length === 0, 120_000);
    await in2.stop();
    const t2 = tally(second, lines2());
    expect(t2.missing).toEqual([]);
    expect(lines2().filter((l) => first.includes(l))).toEqual([]);
  }, 180_000);

  it('refuses a record above 1 MiB for good and stops with a clear error (errorPolicy stop)', async () => {
    const input = new PassThrough();
    const out = producer(input);
    await out.start();
    input.end(JSON.stringify({ id: 'big', blob: 'x'.repeat(1024 * 1024 + 10) }) + '\n');
    const outcome = await out.done;
    expect(outcome.error).toMatch(/exceeds Kinesis' 1 MiB limit/);
    expect(outcome.status.phase).toBe('Failed');
  }, 60_000);
});
