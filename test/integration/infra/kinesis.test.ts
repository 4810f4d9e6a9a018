import { randomBytes } from 'node:crypto';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { requireService } from '../services.js';

// Smoke test of the harness' Kinesis-compatible server through @aws-sdk/client-kinesis (over HTTP/1.1:
// the SDK's default HTTP/2 handler does not work with it): create a stream, put records, read every shard.
const TIMEOUT = 90_000;
const stream = `infra-smoke-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('infra: Kinesis', () => {
  const client = new KinesisClient({
    endpoint: requireService('KINESIS_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'plexus-it', secretAccessKey: 'plexus-it' },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
  });

  afterAll(async () => {
    await client.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => undefined);
    client.destroy();
  }, TIMEOUT);

  it(
    'creates a stream, puts records and gets them back from every shard',
    async () => {
      await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const d = await client.send(new DescribeStreamCommand({ StreamName: stream }));
        if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
        if (Date.now() > deadline) throw new Error(`stream ${stream} not ACTIVE after 60 s`);
        await sleep(100);
      }

      const sent = Array.from({ length: 10 }, (_, i) => `record-${i}`);
      const batch = await client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: sent.slice(0, 9).map((d, i) => ({ Data: Buffer.from(d), PartitionKey: `pk-${i}` })),
        }),
      );
      expect(batch.FailedRecordCount ?? 0).toBe(0);
      const single = await client.send(
        new PutRecordCommand({ StreamName: stream, Data: Buffer.from(sent[9] ?? ''), PartitionKey: 'pk-9' }),
      );
      expect(single.SequenceNumber).toBeTruthy();

      const shards = await client.send(new ListShardsCommand({ StreamName: stream }));
      expect(shards.Shards).toHaveLength(2);
      const received: string[] = [];
      for (const shard of shards.Shards ?? []) {
        const it0 = await client.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        let iterator = it0.ShardIterator;
        // Read until the shard is caught up (MillisBehindLatest 0 and an empty page).
        for (let i = 0; iterator && i < 20; i++) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 3 }));
          for (const r of page.Records ?? []) received.push(Buffer.from(r.Data ?? []).toString());
          iterator = page.NextShardIterator;
          if ((page.Records ?? []).length === 0 && page.MillisBehindLatest === 0) break;
        }
      }
      expect(received.sort()).toEqual([...sent].sort());
    },
    TIMEOUT,
  );
});
