import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { requireService } from '../services.js';

// Smoke test of the harness' S3-compatible server through @aws-sdk/client-s3 and @aws-sdk/lib-storage:
// put/get, ListObjectsV2 paged with a small MaxKeys, and a multipart upload.
const TIMEOUT = 120_000;
const bucket = `infra-smoke-${randomBytes(4).toString('hex')}`;

describe('infra: S3', () => {
  const client = new S3Client({
    endpoint: requireService('S3_ENDPOINT'),
    region: requireService('S3_REGION'),
    forcePathStyle: /^(1|true)$/i.test(requireService('S3_FORCE_PATH_STYLE')),
    credentials: {
      accessKeyId: requireService('S3_ACCESS_KEY_ID'),
      secretAccessKey: requireService('S3_SECRET_ACCESS_KEY'),
    },
  });

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }, TIMEOUT);

  afterAll(async () => {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  }, TIMEOUT);

  it(
    'puts and gets objects and lists them page by page',
    async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `list/obj-${String(i).padStart(2, '0')}.txt`);
      for (const key of keys) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}\n` }));
      }
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[3] }));
      expect(await got.Body?.transformToString()).toBe(`body of ${keys[3]}\n`);

      const listed: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
        );
        listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        pages++;
      } while (token);
      expect(pages).toBe(4);
      expect(listed).toEqual(keys);
    },
    TIMEOUT,
  );

  it(
    'completes a multipart upload',
    async () => {
      const body = randomBytes(11 * 1024 * 1024 + 123);
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: 'multipart/blob.bin', Body: body },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      let parts = 0;
      upload.on('httpUploadProgress', () => {
        parts++;
      });
      await upload.done();
      expect(parts).toBeGreaterThanOrEqual(3);

      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/blob.bin' }));
      expect(head.ContentLength).toBe(body.length);
      // A multipart ETag is "<md5 of the part md5s>-<part count>".
      expect(head.ETag).toMatch(/-3"$/);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'multipart/blob.bin' }));
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(
        createHash('sha256').update(body).digest('hex'),
      );
    },
    TIMEOUT,
  );
});
