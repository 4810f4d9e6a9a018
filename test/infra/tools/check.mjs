// Readiness probes of the integration-test harness (test/infra/up.sh), through the same client libraries the
// product uses. Usage: node test/infra/tools/check.mjs <cql|kafka|kinesis|s3> [endpoint]. Exit 0 = ready.
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
const [what, endpoint] = process.argv.slice(2);

async function cql(contactPoint = '127.0.0.1:9042') {
  const { Client } = require('cassandra-driver');
  const client = new Client({
    contactPoints: [contactPoint],
    localDataCenter: 'datacenter1',
    socketOptions: { connectTimeout: 3000, readTimeout: 5000 },
  });
  try {
    await client.connect();
    const rs = await client.execute('SELECT release_version FROM system.local');
    return `Cassandra ${rs.first().get('release_version')}`;
  } finally {
    await client.shutdown();
  }
}

async function kafka(broker = '127.0.0.1:9092') {
  const { Kafka, logLevel } = require('kafkajs');
  const client = new Kafka({
    clientId: 'plexus-infra-check',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 3000,
  });
  const admin = client.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    await admin.listTopics();
    // The group and producer-id coordinators come up lazily on first use (creating __consumer_offsets):
    // ready means they answer, so the first consumer group of a test does not meet "coordinator is loading".
    await admin.fetchOffsets({ groupId: 'plexus-infra-check', topics: [] });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
    await producer.connect();
    await producer.disconnect();
    return `Kafka cluster ${cluster.clusterId}, controller ${cluster.controller}`;
  } finally {
    await admin.disconnect();
  }
}

async function kinesis(url = 'http://127.0.0.1:4568') {
  const { KinesisClient, ListStreamsCommand } = require('@aws-sdk/client-kinesis');
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const client = new KinesisClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'plexus', secretAccessKey: 'plexus' },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 5000 }),
    maxAttempts: 1,
  });
  try {
    const out = await client.send(new ListStreamsCommand({}));
    return `Kinesis: ${out.StreamNames?.length ?? 0} streams`;
  } finally {
    client.destroy();
  }
}

async function s3(url) {
  const { S3Client, ListBucketsCommand } = require('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: url ?? process.env.S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    },
    maxAttempts: 1,
  });
  try {
    const out = await client.send(new ListBucketsCommand({}));
    return `S3: ${out.Buckets?.length ?? 0} buckets`;
  } finally {
    client.destroy();
  }
}

const checks = { cql, kafka, kinesis, s3 };
const check = checks[what];
if (!check) {
  console.error(`usage: check.mjs <${Object.keys(checks).join('|')}> [endpoint]`);
  process.exit(2);
}
try {
  console.log(await check(endpoint));
  process.exit(0);
} catch (err) {
  console.error(`${what} not ready: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
