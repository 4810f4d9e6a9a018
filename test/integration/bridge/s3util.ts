import { gunzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { requireService } from '../services.js';

export interface S3Env {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  forcePathStyle: boolean;
}

export function s3Env(): S3Env {
  return {
    endpoint: requireService('S3_ENDPOINT'),
    accessKeyId: requireService('S3_ACCESS_KEY_ID'),
    secretAccessKey: requireService('S3_SECRET_ACCESS_KEY'),
    region: requireService('S3_REGION'),
    forcePathStyle: requireService('S3_FORCE_PATH_STYLE') === 'true',
  };
}

export function s3Client(env: S3Env): S3Client {
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: env.forcePathStyle,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestHandler: new NodeHttpHandler(),
  });
}

/** The `sink.s3` block of a bridge config for this S3 server (credentials through ${ENV}). */
export function s3Block(env: S3Env, bucket: string, folder: string, extra = ''): string {
  return `{ bucket: ${bucket}, folder: ${folder}, endpoint: "${env.endpoint}", region: ${env.region}, forcePathStyle: ${env.forcePathStyle}, accessKeyId: "\${S3_ACCESS_KEY_ID}", secretAccessKey: "\${S3_SECRET_ACCESS_KEY}"${extra ? `, ${extra}` : ''} }`;
}

export async function ensureBucket(c: S3Client, bucket: string): Promise<void> {
  await c.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
}

export async function listKeys(c: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await c.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Every line of every object under the prefix (gunzipped when the key ends in .gz). */
export async function readLines(c: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const lines: string[] = [];
  for (const key of await listKeys(c, bucket, prefix)) {
    const res = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    let body = Buffer.from(
      await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    if (key.endsWith('.gz')) body = gunzipSync(body);
    for (const l of body.toString('utf8').split('\n')) if (l.length > 0) lines.push(l);
  }
  return lines;
}

export async function deletePrefix(c: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = await listKeys(c, bucket, prefix).catch(() => []);
  for (let i = 0; i < keys.length; i += 1000) {
    await c.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
}
