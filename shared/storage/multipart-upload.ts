import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { crc32, crc32Header } from './checksum';

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
 * than hashing the upload. Here chunks are copied once into part buffers that are reused.
 *
 * Every part carries a CRC32 (x-amz-checksum-crc32) that S3 checks before storing it; see
 * object-storage.ts for how that stands in for the SigV4 payload hash. It is computed on each chunk as
 * it arrives, before the copy into the part buffer (the chunk is still in the CPU's cache, and a part
 * buffer overwritten while in flight would be refused by S3, not stored).
 */
export async function multipartUpload(options: MultipartUploadOptions): Promise<void> {
  const { client, partBytes, partsInFlight, signal } = options;
  const object = { Bucket: options.bucket, Key: options.key };
  // Without options, client.send uses the client's cached middleware chain (cacheMiddleware, object-storage.ts).
  const sendOptions = signal ? { abortSignal: signal } : undefined;
  const spare: Buffer[] = [];
  const takeBuffer = () => spare.pop() ?? Buffer.allocUnsafeSlow(partBytes);
  const inFlight = new Set<Promise<void>>();
  const done: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;
  let uploadId: string | undefined;
  let partNumber = 0;

  async function sendPart(buffer: Buffer, length: number, checksum: number): Promise<void> {
    partNumber += 1;
    if (partNumber > MAX_PARTS) throw new Error(`more than ${MAX_PARTS} parts: raise UPLOAD_PART_BYTES`);
    uploadId ??= (
      await client.send(new CreateMultipartUploadCommand({ ...object, ContentType: options.contentType, ChecksumAlgorithm: 'CRC32' }), sendOptions)
    ).UploadId;
    const part = {
      ...object,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: buffer.subarray(0, length),
      ChecksumAlgorithm: 'CRC32' as const,
      ...(crc32 ? { ChecksumCRC32: crc32Header(checksum) } : {}),
    };
    const sending: Promise<void> = client
      .send(new UploadPartCommand(part), sendOptions)
      .then(
        (result) => {
          if (result.ETag) done.push({ PartNumber: part.PartNumber, ETag: result.ETag, ChecksumCRC32: result.ChecksumCRC32 });
          else failure ??= { error: new Error(`S3 answered part ${part.PartNumber} without an ETag`) };
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => {
        // The request has settled, so the SDK no longer reads the buffer: it can take the next part.
        inFlight.delete(sending);
        spare.push(buffer);
      });
    inFlight.add(sending);
    while (inFlight.size >= partsInFlight && !failure) await Promise.race(inFlight);
  }

  function throwIfFailed(): void {
    if (failure) throw failure.error;
    signal?.throwIfAborted();
  }

  let current = takeBuffer();
  let filled = 0;
  let checksum = 0;
  /** The last chunk whose take() waited for a part to be sent (see the catch below). */
  let taking: Promise<void> | undefined;

  /**
   * Copies a chunk into the part buffers, from `offset` on. Synchronous unless a full part has to be sent
   * first (once per part): then it returns a promise for the rest of the chunk.
   */
  function take(chunk: Buffer, offset = 0): Promise<void> | undefined {
    while (offset < chunk.length) {
      // A full part is sent only once more bytes come, so the last part is never empty.
      if (filled === partBytes) return sendCurrent().then(() => take(chunk, offset));
      const copied = chunk.copy(current, filled, offset);
      if (crc32) checksum = crc32(chunk.subarray(offset, offset + copied), checksum);
      filled += copied;
      offset += copied;
    }
    return undefined;
  }

  async function sendCurrent(): Promise<void> {
    await sendPart(current, filled, checksum);
    throwIfFailed();
    current = takeBuffer();
    filled = 0;
    checksum = 0;
  }

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
        const pending = take(data);
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
    if (Buffer.isBuffer(options.body)) await take(options.body);
    // On an error either way, pipeline destroys the body (as breaking out of `for await` did).
    else await pipeline(options.body, sink);
    throwIfFailed();
    if (partNumber === 0) {
      const put = { ...object, Body: current.subarray(0, filled), ContentType: options.contentType, ChecksumAlgorithm: 'CRC32' as const };
      await client.send(new PutObjectCommand({ ...put, ...(crc32 ? { ChecksumCRC32: crc32Header(checksum) } : {}) }), sendOptions);
      return;
    }
    await sendPart(current, filled, checksum);
    await Promise.all(inFlight);
    throwIfFailed();
    done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await client.send(new CompleteMultipartUploadCommand({ ...object, UploadId: uploadId, MultipartUpload: { Parts: done } }), sendOptions);
  } catch (error) {
    // pipeline rejects as soon as the body fails, maybe while a chunk still waits in take() for a part to
    // be sent: with `failure` set, that chunk goes no further, and no part is sent after the abort.
    failure ??= { error };
    await taking?.catch(() => undefined);
    await Promise.all(inFlight);
    if (uploadId) {
      // Best effort: if S3 cannot be reached to abort, the original error is the one worth reporting.
      await client.send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
