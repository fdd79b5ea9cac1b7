import { UploadPartCommand, type CompletedPart, type S3Client } from '@aws-sdk/client-s3';
import { crc32, crc32Header } from './checksum';

export interface PartWriterOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** The multipart upload's id, or how to make it when the first part is sent (not before: a body of one part needs none). */
  uploadId: string | (() => Promise<string>);
  partBytes: number;
  partsInFlight: number;
  /** The number of the first part sent (default 1). */
  firstPartNumber?: number;
  /** At most this number of parts (S3: 10 000). */
  maxPartNumber?: number;
  sendOptions?: { abortSignal: AbortSignal };
  /** How a wait for room among the parts in flight is watched (a stall watch), if at all. */
  waitForRoom?: (room: Promise<unknown>) => Promise<unknown>;
  /** Called once, when a part fails (the reader of the body may be waiting for it, not for the writer). */
  onFailure?: (error: unknown) => void;
}

/**
 * Gathers a body into S3 parts of exactly `partBytes`, each with its CRC32, `partsInFlight` of them sent at once;
 * used by the multipart uploader (multipart-upload.ts) and the tus store. Chunks are copied once into part
 * buffers that are reused (never a Buffer.concat into fresh memory: see multipart-upload.ts for what that cost),
 * and the CRC32 (x-amz-checksum-crc32, which S3 checks before storing the part) is computed on each chunk as it
 * arrives, before the copy (still in the CPU's cache; a part buffer overwritten while in flight would be refused
 * by S3, not stored). Memory: `partsInFlight` part buffers, whatever the size of the body.
 *
 * A failed part is recorded (`failure`) and no further part is sent; what to do about it (abort the multipart
 * upload, keep what was stored) is the caller's.
 */
export class PartWriter {
  /** The parts S3 stored (in the order its answers came), with their ETags and checksums. */
  readonly done: CompletedPart[] = [];
  /** The bytes of the parts S3 stored. */
  stored = 0;
  failure: { error: unknown } | undefined;
  private readonly spare: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private nextNumber: number;
  private uploadId: Promise<string> | undefined;
  private current: Buffer | null = null;
  private filled = 0;
  private checksum = 0;

  constructor(private readonly options: PartWriterOptions) {
    this.nextNumber = options.firstPartNumber ?? 1;
  }

  /** How many bytes wait in the part being filled (the body's tail, once it has ended). */
  get pending(): number {
    return this.filled;
  }

  /** The number the next part sent gets. */
  get partNumber(): number {
    return this.nextNumber;
  }

  /**
   * Copies a chunk into the part buffers, from `offset` on. Synchronous unless a full part has to be sent first
   * (once per part): then it returns a promise for the rest of the chunk, which rejects if a part failed.
   */
  take(chunk: Buffer, offset = 0): Promise<void> | undefined {
    const partBytes = this.options.partBytes;
    while (offset < chunk.length) {
      // A full part is sent only once more bytes come, so the last part is never empty.
      if (this.filled === partBytes) return this.send().then(() => this.take(chunk, offset));
      this.current ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(partBytes);
      const copied = chunk.copy(this.current, this.filled, offset);
      this.checksum = crc32(chunk.subarray(offset, offset + copied), this.checksum);
      this.filled += copied;
      offset += copied;
    }
    return undefined;
  }

  /**
   * Sends the bytes gathered as the next part, then waits while `partsInFlight` are on their way. Rejects with
   * the first part's failure, if any.
   */
  async send(): Promise<void> {
    const buffer = this.current ?? Buffer.alloc(0);
    const length = this.filled;
    const checksum = this.checksum;
    this.current = null;
    this.filled = 0;
    this.checksum = 0;
    const number = this.nextNumber;
    this.nextNumber += 1;
    const sending: Promise<void> = this.sendPart(number, buffer.subarray(0, length), checksum)
      .then(
        (part) => {
          this.done.push(part);
          this.stored += length;
        },
        (error: unknown) => {
          if (this.failure) return;
          this.failure = { error };
          this.options.onFailure?.(error);
        },
      )
      .finally(() => {
        // The request has settled, so the SDK no longer reads the buffer: it can take the next part.
        this.inFlight.delete(sending);
        if (buffer.length > 0) this.spare.push(buffer);
      });
    this.inFlight.add(sending);
    const { partsInFlight, waitForRoom } = this.options;
    while (this.inFlight.size >= partsInFlight && !this.failure) {
      if (waitForRoom) await waitForRoom(Promise.race(this.inFlight));
      else await Promise.race(this.inFlight);
    }
    if (this.failure) throw this.failure.error;
  }

  /** The bytes gathered and not sent (the body's tail), with their CRC32: `take` must not be called after. */
  rest(): { body: Buffer; checksum: number } {
    return { body: (this.current ?? Buffer.alloc(0)).subarray(0, this.filled), checksum: this.checksum };
  }

  /** Waits until no part is on its way. */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** The multipart upload's id if it was made (or given), else undefined (nothing to abort). */
  async madeUploadId(): Promise<string | undefined> {
    return this.uploadId?.catch(() => undefined);
  }

  /** The parts stored, by number (for CompleteMultipartUpload). */
  parts(): CompletedPart[] {
    return [...this.done].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  }

  private async sendPart(number: number, body: Buffer, checksum: number): Promise<CompletedPart> {
    const { client, bucket, key, maxPartNumber, sendOptions } = this.options;
    if (maxPartNumber !== undefined && number > maxPartNumber) throw new Error(`more than ${maxPartNumber} parts: raise UPLOAD_PART_BYTES`);
    const uploadId = this.options.uploadId;
    this.uploadId ??= typeof uploadId === 'string' ? Promise.resolve(uploadId) : uploadId();
    const part = {
      Bucket: bucket,
      Key: key,
      UploadId: await this.uploadId,
      PartNumber: number,
      Body: body,
      ChecksumAlgorithm: 'CRC32' as const,
      ChecksumCRC32: crc32Header(checksum),
    };
    // Without options, client.send uses the client's cached middleware chain (cacheMiddleware, object-storage.ts).
    const result = await client.send(new UploadPartCommand(part), sendOptions);
    if (!result.ETag) throw new Error(`S3 answered part ${number} without an ETag`);
    return { PartNumber: number, ETag: result.ETag, ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}) };
  }
}
