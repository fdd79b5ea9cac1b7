import type { Readable } from 'node:stream';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, type Part, type S3Client } from '@aws-sdk/client-s3';
import { S3Store, type MetadataValue, type Options as S3StoreOptions } from '@tus/s3-store';
import { ERRORS, TUS_RESUMABLE, Upload } from '@tus/utils';
import { isAppError, storageUnavailable } from '../../shared/errors';
import { ByteInspection } from './inspect-stream';
import { markOf, UploadInspections, type ArrivedBytes } from './tus-inspections';
import { isRefusal, storeRequestParts, type RequestParts } from './tus-request-parts';
import { BoundedKvStore } from './bounded-kv-store';

export { isRefusal };

/** An S3 call's failure as the client sees it: storage unavailable (503, retryable); tus's own errors pass. */
async function fromStorage<R>(work: Promise<R>): Promise<R> {
  try {
    return await work;
  } catch (error) {
    if (isAppError(error) || (typeof error === 'object' && error !== null && 'status_code' in error)) throw error;
    throw storageUnavailable(error);
  }
}

function isNotFound(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404;
}

/** A multipart upload that is no longer there (completed or aborted), as ListParts says it. */
function isMissingUpload(error: unknown): boolean {
  const { name, Code } = error as { name?: string; Code?: string };
  return ['NoSuchKey', 'NoSuchUpload'].includes(name ?? '') || ['NoSuchKey', 'NoSuchUpload'].includes(Code ?? '');
}

/** An incomplete part (the tail of an upload, under a part's size): bytes kept as s3-store keeps them. */
interface IncompletePart {
  chunks: Buffer[];
  length: number;
  etag: string;
  /** How many parts it follows (a `parts-before` written by storeRequestParts). */
  partsBefore?: number;
}

export interface TusS3StoreOptions<T> extends S3StoreOptions {
  /** The project's S3 client (checksummed parts signed UNSIGNED-PAYLOAD, no Expect: 100-continue, …). */
  client: S3Client;
  partsInFlight: number;
  /** A new inspection for an upload's bytes (size limit, sniffing, SHA-256), started at offset 0. */
  inspect: () => ByteInspection<T>;
  /** How many uploads' inspections are kept in memory at most (the oldest is dropped and read back at the end). */
  maxTracked?: number;
  /** How many uploads' descriptions (`.info`) are kept in memory at most (the least recently used is read again from S3 when needed). */
  maxCached?: number;
  /** Other objects stored beside an upload (its subtitle file), removed with it when it is refused or abandoned. */
  alsoStored?: (uploadId: string) => string[];
  /** A request that brings less than 1 KiB in this time while the store waits for it is cut off (408); 0: never. */
  idleSeconds?: number;
}

/**
 * @tus/s3-store, with the multipart API's way of sending bytes to S3 and its checks made on the way:
 *  - parts are gathered in memory (reused buffers, `partsInFlight` at once) and sent with a CRC32, where
 *    s3-store writes each part to a temporary file and reads it back before sending it (tus-request-parts.ts,
 *    with the multipart API's PartWriter);
 *  - fewer S3 round trips than s3-store: the parts and the incomplete part looked up at once, nothing looked
 *    up for a write at offset 0, the upload completed with the parts as S3 answered them;
 *  - the bytes are inspected as they arrive (`inspect`: sniffing, size limit, SHA-256): a refusal fails the
 *    PATCH at once and removes everything stored for the upload. The inspection lives in this process's
 *    memory while the upload's offsets follow on from each other here. When an upload continues in another
 *    process, after a restart, or after bytes were lost, the state is gone (Node cannot save a SHA-256 in
 *    progress): `arrived` then answers null and the caller reads the stored object back once.
 *  - when a request breaks off, what arrived is still stored (as parts, or as s3-store's incomplete part),
 *    so a client resuming from the server's offset sends nothing twice.
 */
export class TusS3Store<T> extends S3Store {
  private readonly s3: S3Client;
  private readonly partsInFlight: number;
  private readonly inspections: UploadInspections<T>;
  private readonly alsoStored: (uploadId: string) => string[];
  private readonly idleSeconds: number;

  constructor(options: TusS3StoreOptions<T>) {
    const { client, partsInFlight, inspect, maxTracked, maxCached, alsoStored, idleSeconds, ...storeOptions } = options;
    super({ cache: new BoundedKvStore<MetadataValue>(maxCached ?? 10_000), ...storeOptions });
    this.s3 = client;
    this.partsInFlight = partsInFlight;
    this.inspections = new UploadInspections(inspect, maxTracked ?? 1000);
    this.alsoStored = alsoStored ?? (() => []);
    this.idleSeconds = idleSeconds ?? 0;
  }

  /** The checks made while the bytes arrived, when they cover the whole upload; else null (read it back). */
  arrived(id: string, size: number): ArrivedBytes<T> | null {
    return this.inspections.arrived(id, size);
  }

  /** Everything stored for an upload: the multipart upload or object, the incomplete part, the .info file. */
  override async remove(id: string): Promise<void> {
    this.inspections.forget(id);
    try {
      await super.remove(id);
    } finally {
      await this.client.deleteObjects({
        Bucket: this.bucket,
        Delete: { Objects: [id, this.infoKey(id), this.partKey(id, true), ...this.alsoStored(id)].map((Key) => ({ Key })) },
      });
      await this.clearCache(id);
    }
  }

  /** `remove`, for an upload that may already be gone. */
  async discard(id: string): Promise<void> {
    await this.remove(id).catch((error: unknown) => {
      if (error !== ERRORS.FILE_NOT_FOUND) throw error;
    });
  }

  /** An upload's metadata as it was created (its description, cached): not found if it has none; 503 if S3 is down. */
  async metadataOf(id: string): Promise<Upload['metadata']> {
    const { file } = await this.getMetadata(id).catch((error: unknown) => {
      throw isNotFound(error) ? ERRORS.FILE_NOT_FOUND : storageUnavailable(error);
    });
    return file.metadata;
  }

  /**
   * Where an upload stands: its parts that count and its incomplete part (looked up at once), as s3-store
   * counts them. Its multipart upload gone means finished, if its object is there; if not, it was removed
   * (refused, abandoned) — perhaps by another process, while this one still had its description cached —
   * and it must not be reported as complete.
   */
  override async getUpload(id: string): Promise<Upload> {
    // s3-store answers "not found" whenever the description cannot be read, also when S3 is down: a client
    // would then start again from nothing. Only a missing description is "not found"; else 503, retryable.
    const metadata = await this.getMetadata(id).catch((error: unknown) => {
      throw isNotFound(error) ? ERRORS.FILE_NOT_FOUND : storageUnavailable(error);
    });
    const stored = await this.stored(id, false).catch((error: unknown) => {
      if (isMissingUpload(error)) return null;
      throw storageUnavailable(error);
    });
    const { file } = metadata;
    const partsBytes = stored ? stored.parts.reduce((sum, part) => sum + (part.Size ?? 0), 0) : 0;
    const upload = new Upload({ ...file, offset: stored ? partsBytes + (stored.incomplete?.length ?? 0) : (file.size ?? 0), size: file.size, storage: file.storage });
    if (upload.size === undefined || upload.offset !== upload.size) return upload;
    // Complete: its description is not needed again for a write (a later look-up reads it from S3 once more).
    if (await this.objectExists(id)) {
      await this.clearCache(id);
      return upload;
    }
    // Every byte arrived but S3 failed while the parts were put together (the PATCH was answered 503): the
    // multipart upload is still there. It is completed now, and the upload goes on to its finish.
    if (stored && stored.parts.length > 0 && partsBytes === upload.size) {
      await fromStorage(this.finishMultipartUpload(metadata, stored.parts));
      await fromStorage(this.completeMetadata(file));
      await this.clearCache(id);
      return upload;
    }
    await this.clearCache(id);
    throw ERRORS.FILE_NOT_FOUND;
  }

  private objectExists(id: string): Promise<boolean> {
    return this.client.headObject({ Bucket: this.bucket, Key: id }).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw storageUnavailable(error);
      },
    );
  }

  /** s3-store's clean-up of abandoned uploads, and what was stored beside them. */
  override async deleteExpired(): Promise<number> {
    if (this.getExpiration() === 0) return 0;
    const beside: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      const page = await this.client.listMultipartUploads({ Bucket: this.bucket, KeyMarker, UploadIdMarker });
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.Initiated && Date.now() > this.getExpirationDate(upload.Initiated.toISOString()).getTime()) {
          beside.push(...this.alsoStored(upload.Key));
          this.inspections.forget(upload.Key);
          await this.clearCache(upload.Key);
        }
      }
      ({ NextKeyMarker: KeyMarker, NextUploadIdMarker: UploadIdMarker } = page.IsTruncated ? page : { NextKeyMarker: undefined, NextUploadIdMarker: undefined });
    } while (KeyMarker || UploadIdMarker);
    for (let at = 0; at < beside.length; at += 1000) {
      await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: beside.slice(at, at + 1000).map((Key) => ({ Key })) } });
    }
    return super.deleteExpired();
  }

  override async create(upload: Upload): Promise<Upload> {
    // As s3-store creates it, with CRC32 part checksums (as the multipart API's uploads have).
    upload.creation_date = new Date().toISOString();
    const created = await fromStorage(
      this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: upload.id, Metadata: { 'tus-version': '1.0.0' }, ChecksumAlgorithm: 'CRC32' })),
    );
    upload.storage = { type: 's3', path: created.Key ?? upload.id, bucket: this.bucket };
    const uploadId = created.UploadId!;
    await fromStorage(this.saveMetadata(upload, uploadId));
    // As getMetadata would read it back (and keep it: an upload's description does not change once saved).
    const file = new Upload({ id: upload.id, size: upload.size, offset: 0, metadata: upload.metadata, creation_date: upload.creation_date, storage: upload.storage });
    await this.cache.set(upload.id, { 'tus-version': TUS_RESUMABLE, 'upload-id': uploadId, file });
    return upload;
  }

  /**
   * s3-store's write (parts after the last one, the incomplete part first, the upload completed with its
   * last byte), with the bytes gathered in memory and inspected on the way. s3-store downloads the
   * incomplete part into a temporary file; here it is read (under one part size) and copied into the first
   * part's buffer, its chunks let go as they are copied. Memory per request: parts in flight × part size,
   * plus the incomplete part while it is copied.
   */
  override async write(src: Readable, id: string, offset: number): Promise<number> {
    let tracked = this.inspections.follow(id, offset);
    let metadata: MetadataValue;
    let start: number;
    let sent: RequestParts;
    let parts: Part[];
    let incomplete: IncompletePart | undefined;
    try {
      metadata = await fromStorage(this.getMetadata(id));
      // A PATCH at the end of an upload already complete (its finish is run again by the caller): nothing to write.
      if (offset > 0 && metadata.file.size === offset && (await this.objectExists(id))) {
        await this.clearCache(id);
        return offset;
      }
      // At offset 0 (where the caller found the upload, under its lock) nothing stored counts yet: no parts to
      // follow, no incomplete part (its bytes would count in the offset). Parts left by an earlier request are
      // sent again at their numbers.
      ({ parts, incomplete } = offset === 0 ? { parts: [], incomplete: undefined } : await fromStorage(this.stored(id, true)));
      const lastPart = parts.at(-1);
      // The hash in memory goes on only from what this process stored last.
      if (offset > 0) tracked = this.inspections.check(id, tracked, markOf(lastPart, incomplete?.etag));
      // The incomplete part stays in S3 until its bytes are in a part (storeRequestParts), so a request that fails
      // first keeps the offset acknowledged before. One without `parts-before` (written before it was recorded)
      // would count beside those parts: it goes first, as s3-store does.
      const legacy = incomplete !== undefined && incomplete.partsBefore === undefined;
      if (legacy) await fromStorage(this.deleteIncompletePart(id));
      start = offset - (incomplete?.length ?? 0);
      const size = metadata.file.size;
      const target = { client: this.s3, bucket: this.bucket, key: id, incompleteKey: this.partKey(id, true), uploadId: metadata['upload-id'], size, tagging: this.useCompleteTag('false') };
      const sending = { partBytes: this.calcOptimalPartSize(size), partsInFlight: this.partsInFlight, idleSeconds: this.idleSeconds };
      const from = { offset: start, partNumber: (lastPart?.PartNumber ?? 0) + 1, lastPart, incomplete: incomplete && { ...incomplete, stored: !legacy } };
      sent = await storeRequestParts(target, sending, src, from, tracked?.inspection ?? null);
    } catch (error) {
      this.inspections.forget(id);
      throw error;
    }
    if (sent.error !== undefined && isRefusal(sent.error)) {
      // A refusal (not a video, too large): nothing of it stays.
      this.inspections.forget(id);
      await this.discard(id).catch(() => undefined);
      throw sent.error;
    }
    // Broken off, stalled, storage down: what arrived stays. The hash in memory still holds if exactly what it
    // saw was stored; else the stored object is read back at the end.
    const newOffset = start + sent.bytes;
    this.inspections.settle(id, tracked, newOffset, sent.mark);
    if (sent.error !== undefined) throw sent.error;
    if (metadata.file.size === newOffset) {
      // The parts as S3 answered them: those found before this request, and its own (all of them stored).
      await fromStorage(this.finishMultipartUpload(metadata, [...parts, ...sent.parts]));
      await fromStorage(this.completeMetadata(metadata.file));
      await this.clearCache(id);
    }
    return newOffset;
  }

  /**
   * What is stored of an upload: the parts that count, and its incomplete part (its bytes when `read`, else
   * its size), looked up at once. Only the parts that follow on from part 1 count: when a part failed while
   * a later one of the same request was stored, the later one is left out (and sent again, at its number,
   * when the upload resumes). When an incomplete part is stored, it says how many parts were before it:
   * parts after those are leftovers of an earlier request (sent again before they count).
   */
  private async stored(id: string, read: boolean): Promise<{ parts: Part[]; incomplete: IncompletePart | undefined }> {
    const [parts, incomplete] = await Promise.all([this.retrieveParts(id), this.incompletePart(id, read)]);
    let following = 0;
    while (following < parts.length && parts[following]!.PartNumber === following + 1) following += 1;
    const before = incomplete?.partsBefore;
    return { parts: parts.slice(0, before === undefined ? following : Math.min(following, before)), incomplete };
  }

  /** The incomplete part: its size, the parts before it, its ETag, and when `read` its bytes (as chunks: storeRequestParts copies them into a part buffer and lets each go). */
  private async incompletePart(id: string, read: boolean): Promise<IncompletePart | undefined> {
    const object = { Bucket: this.bucket, Key: this.partKey(id, true) };
    const found = await (read ? this.client.getObject(object) : this.client.headObject(object)).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (!found) return undefined;
    const before = found.Metadata?.['parts-before'];
    const chunks: Buffer[] = [];
    let length = read ? 0 : (found.ContentLength ?? 0);
    if ('Body' in found && found.Body) {
      for await (const chunk of found.Body as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        length += chunk.length;
      }
    }
    return { chunks, length, etag: found.ETag ?? '', ...(before === undefined ? {} : { partsBefore: Number(before) }) };
  }

  protected override async finishMultipartUpload(metadata: MetadataValue, parts: Part[]): Promise<string | undefined> {
    const response = await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: metadata.file.id,
        UploadId: metadata['upload-id'],
        MultipartUpload: {
          Parts: parts.map((part) => ({
            ETag: part.ETag,
            PartNumber: part.PartNumber,
            ...(part.ChecksumCRC32 ? { ChecksumCRC32: part.ChecksumCRC32 } : {}),
          })),
        },
      }),
    );
    return response.Location;
  }
}
