import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { crc32Header } from './checksum';
import { PartWriter } from './part-writer';

/** S3 takes at most 10 000 parts per upload. */
const MAX_PARTS = 10_000;

export interface MultipartUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable | Buffer;
  contentType: string;
  partBytes: number;
  partsInFlight: number;
  signal?: AbortSignal;
}

/**
 * Streams a body into S3: one PUT when it fits in one part, else a multipart upload with up to
 * `partsInFlight` parts sent at once; on any failure the multipart upload is aborted, so no parts are
 * left behind. Memory: `partsInFlight` part buffers per upload, whatever the size of the body.
 *
 * Why not @aws-sdk/lib-storage's Upload, which did this before: it gathers each part with
 * Buffer.concat into a newly allocated buffer — a copy of every byte into fresh memory (page faults),
 * and a gigabyte of short-lived external memory per gigabyte uploaded, which keeps V8 running full
 * garbage collections over the server's whole heap. Measured with bench:upload, that was more CPU
 * than hashing the upload. Here chunks are copied once into part buffers that are reused (PartWriter).
 *
 * Every part carries a CRC32 (x-amz-checksum-crc32) that S3 checks before storing it; see
 * object-storage.ts for how that stands in for the SigV4 payload hash.
 */
export async function multipartUpload(options: MultipartUploadOptions): Promise<void> {
  const { client, signal } = options;
  const object = { Bucket: options.bucket, Key: options.key };
  // Without options, client.send uses the client's cached middleware chain (cacheMiddleware, object-storage.ts).
  const sendOptions = signal ? { abortSignal: signal } : undefined;
  const writer = new PartWriter({
    client,
    bucket: options.bucket,
    key: options.key,
    // Made with the first part: a body of one part is sent with one PUT.
    uploadId: async () =>
      (await client.send(new CreateMultipartUploadCommand({ ...object, ContentType: options.contentType, ChecksumAlgorithm: 'CRC32' }), sendOptions)).UploadId!,
    partBytes: options.partBytes,
    partsInFlight: options.partsInFlight,
    maxPartNumber: MAX_PARTS,
    ...(sendOptions ? { sendOptions } : {}),
  });

  function throwIfFailed(): void {
    if (writer.failure) throw writer.failure.error;
    signal?.throwIfAborted();
  }

  /** The last chunk whose take() waited for a part to be sent (see the catch below). */
  let taking: Promise<void> | undefined;

  /**
   * Where a stream body goes. A Writable rather than `for await`: the async iterator costs a promise and a
   * few microtasks per chunk (0.02–0.1 CPU-second per GiB: a microbenchmark, perf on bench:upload), a
   * write with a synchronous callback nothing of the kind. Back-pressure is the same: the callback waits
   * while a part waits for room.
   */
  const sink = new Writable({
    write(data: Buffer, _encoding, callback) {
      try {
        throwIfFailed();
        const pending = writer.take(data);
        if (pending) {
          taking = pending;
          pending.then(() => callback(), callback);
        } else callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });

  try {
    if (Buffer.isBuffer(options.body)) await writer.take(options.body);
    // On an error either way, pipeline destroys the body (as breaking out of `for await` did).
    else await pipeline(options.body, sink);
    throwIfFailed();
    if (writer.partNumber === 1) {
      const { body, checksum } = writer.rest();
      const put = { ...object, Body: body, ContentType: options.contentType, ChecksumAlgorithm: 'CRC32' as const };
      await client.send(new PutObjectCommand({ ...put, ChecksumCRC32: crc32Header(checksum) }), sendOptions);
      return;
    }
    await writer.send();
    await writer.settle();
    throwIfFailed();
    await client.send(new CompleteMultipartUploadCommand({ ...object, UploadId: await writer.madeUploadId(), MultipartUpload: { Parts: writer.parts() } }), sendOptions);
  } catch (error) {
    // pipeline rejects as soon as the body fails, maybe while a chunk still waits in take() for a part to
    // be sent: with `failure` set, that chunk goes no further, and no part is sent after the abort.
    writer.failure ??= { error };
    await taking?.catch(() => undefined);
    await writer.settle();
    const uploadId = await writer.madeUploadId();
    if (uploadId) {
      // Best effort: if S3 cannot be reached to abort, the original error is the one worth reporting.
      await client.send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
