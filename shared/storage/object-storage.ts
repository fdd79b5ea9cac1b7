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
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config';
import { multipartUpload } from './multipart-upload';
import { quietSdkNodeWarning } from './sdk-warning';

/** The S3 operations the project uses, behind one small interface. Any S3 works; MinIO runs locally. */
export interface ObjectStorage {
  bucket: string;
  client: S3Client;
  /** Streams a body into a (multipart) upload. Memory use is bounded by part size × parts in flight. */
  upload(key: string, body: Readable | Buffer, contentType: string, signal?: AbortSignal): Promise<void>;
  download(key: string): Promise<Readable>;
  /** Reads an object, or the byte range of an HTTP `Range` header (`bytes=0-1023`), for streaming to a browser. */
  read(key: string, range?: string): Promise<ObjectRead>;
  remove(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Every object under a prefix with its size, a page (≤ 1 000) at a time: for the backup, which must not hold a large bucket's list in memory. */
  listObjects(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date | null }>;
  /** A presigned GET; with `filename`, the download is saved under that name (Content-Disposition: attachment). */
  signedGetUrl(key: string, expiresInSeconds: number, options?: { filename?: string }): Promise<string>;
  checkBucket(): Promise<void>;
  ensureBucket(): Promise<void>;
}

export interface ObjectRead {
  body: Readable;
  /** 206 when a range was read. */
  status: 200 | 206;
  contentLength: number | undefined;
  contentRange: string | undefined;
  totalBytes: number | undefined;
  contentType: string | undefined;
}

/**
 * `onError` hears of every S3 request that failed (after the client's own retry) other than "not found" and an
 * abort: the metrics count them (shared/ops-counters.ts).
 */
export function createObjectStorage(s3: Config['s3'], upload: Pick<Config['upload'], 'partBytes' | 'partsInFlight'>, onError?: (error: unknown) => void): ObjectStorage {
  const clientConfig: S3ClientConfig = {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    // Fail fast when S3 is away instead of retrying for minutes while a contributor waits.
    maxAttempts: 2,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK adds "Expect: 100-continue" to bodies of 2 MiB and more, and sends such a request on a
    // throw-away agent without keep-alive: a new connection (against real S3, a TLS handshake) for every
    // part, and a round trip waiting for "100 Continue" before the body. Without the header, parts go out
    // on the kept-alive connections.
    expectContinueHeader: false,
    // The SDK builds each request's middleware chain anew unless this is on: about 0.3–1 ms of CPU per
    // request, and as the chain's functions are new each time, V8 is slow to optimise them (measured:
    // 2.1 → 1.0 ms per UploadPart over 900 requests, against 2.3 → 1.4 without). Safe here because the
    // middleware stack is complete once this function returns (nothing is added later), and because
    // concurrent requests of one command share the chain's context, which the SDK fills with the
    // endpoint and signing scheme: the same for every request of this client, as it has one bucket.
    // (The cache is used only for sends without options: see multipart-upload.ts.)
    cacheMiddleware: true,
  };
  if (s3.endpoint) clientConfig.endpoint = s3.endpoint;
  const client = quietSdkNodeWarning(() => new S3Client(clientConfig));
  signChecksummedPayloadsUnsigned(client);
  if (onError) reportErrors(client, onError);
  const bucket = s3.bucket;

  return {
    bucket,
    client,

    async upload(key, body, contentType, signal) {
      await multipartUpload({
        client,
        bucket,
        key,
        body,
        contentType,
        partBytes: upload.partBytes,
        partsInFlight: upload.partsInFlight,
        ...(signal ? { signal } : {}),
      });
    },

    async download(key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`empty body for ${key}`);
      return response.Body as Readable;
    },

    async read(key, range) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
      if (!response.Body) throw new Error(`empty body for ${key}`);
      const total = response.ContentRange ? Number(/\/(\d+)$/.exec(response.ContentRange)?.[1]) : response.ContentLength;
      return {
        body: response.Body as Readable,
        status: response.ContentRange ? 206 : 200,
        contentLength: response.ContentLength,
        contentRange: response.ContentRange,
        totalBytes: Number.isFinite(total) ? total : undefined,
        contentType: response.ContentType,
      };
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

    async *listObjects(prefix) {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key) yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified ?? null };
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async signedGetUrl(key, expiresInSeconds, options = {}) {
      const disposition = options.filename ? { ResponseContentDisposition: `attachment; filename="${options.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"` } : {};
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key, ...disposition }), { expiresIn: expiresInSeconds });
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

/**
 * Uploads cost CPU: SigV4 over plain http hashes each part's whole payload with SHA-256 for
 * x-amz-content-sha256 — a second SHA-256 of every byte, on top of the project's own (which is of the
 * whole original and which the worker checks after download). A request whose body already carries an
 * x-amz-checksum-* header is signed with UNSIGNED-PAYLOAD instead. What still protects its bytes:
 *  - S3 recomputes the checksum (CRC32, native zlib: about a third of SHA-256's cost) and refuses the
 *    part with BadDigest when the bytes differ; the checksum header itself is signed, so it cannot be
 *    changed on the way without the secret key. This catches corruption (bit flips, truncation, a broken
 *    proxy); CRC32 is not a cryptographic hash, so it does not stop a deliberate forgery —
 *  - which TLS does in production (S3 over https): an attacker on the path cannot change the bytes.
 *  - The project's SHA-256 of the whole original is unchanged and checked by the worker after download.
 * Requests without such a checksum (streams sent with a trailer, GETs, …) are signed as before.
 */
function signChecksummedPayloadsUnsigned(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const headers = request.headers;
      if (headers && ArrayBuffer.isView(request.body) && Object.keys(headers).some((name) => /^x-amz-checksum-/i.test(name))) {
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    // In the build step after the SDK's flexible-checksums middleware (priority normal) has added the checksum.
    { step: 'build', priority: 'low', name: 'unsignedPayloadWhenChecksummed' },
  );
}

/** Tells `onError` of each failed command, once (outermost step: after the SDK's retries), then rethrows. */
function reportErrors(client: S3Client, onError: (error: unknown) => void): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        // A missing object is an answer (ensureBucket, a clip already deleted); an abort is the caller's choice.
        if ($metadata?.httpStatusCode !== 404 && name !== 'AbortError' && name !== 'NoSuchKey' && name !== 'NotFound') onError(error);
        throw error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'reportErrors' },
  );
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
