import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config';
import { quietSdkNodeWarning } from './sdk-warning';

/** The S3 operations the project uses, behind one small interface. Any S3 works; MinIO runs locally. */
export interface ObjectStorage {
  bucket: string;
  client: S3Client;
  /** Streams a body into a (multipart) upload. Memory use is bounded by part size × parts in flight. */
  upload(key: string, body: Readable | Buffer, contentType: string, signal?: AbortSignal): Promise<void>;
  download(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  signedGetUrl(key: string, expiresInSeconds: number): Promise<string>;
  checkBucket(): Promise<void>;
  ensureBucket(): Promise<void>;
}

export function createObjectStorage(s3: Config['s3'], upload: Pick<Config['upload'], 'partBytes' | 'partsInFlight'>): ObjectStorage {
  const clientConfig: S3ClientConfig = {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    // Fail fast when S3 is away instead of retrying for minutes while a contributor waits.
    maxAttempts: 2,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (s3.endpoint) clientConfig.endpoint = s3.endpoint;
  const client = quietSdkNodeWarning(() => new S3Client(clientConfig));
  const bucket = s3.bucket;

  return {
    bucket,
    client,

    async upload(key, body, contentType, signal) {
      const task = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
        partSize: upload.partBytes,
        queueSize: upload.partsInFlight,
        // On failure lib-storage aborts the multipart upload, so no parts are left behind.
        leavePartsOnError: false,
      });
      const onAbort = () => void task.abort().catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await task.done();
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },

    async download(key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`empty body for ${key}`);
      return response.Body as Readable;
    },

    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },

    async signedGetUrl(key, expiresInSeconds) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
    },

    async checkBucket() {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      }
    },
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
