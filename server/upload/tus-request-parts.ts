import type { Readable } from 'node:stream';
import { DeleteObjectCommand, PutObjectCommand, type Part, type S3Client } from '@aws-sdk/client-s3';
import { isAppError, storageUnavailable } from '../../shared/errors';
import { crc32Header } from '../../shared/storage/checksum';
import { PartWriter } from '../../shared/storage/part-writer';
import type { ByteInspection } from './inspect-stream';
import { StallWatch } from './stall-watch';
import { markOf } from './tus-inspections';

/**
 * A refusal of the upload itself (not a video, too large): everything stored for it goes. A stalled request
 * (408) or storage being down (503) is not one: what arrived stays, and the client carries on later.
 */
export function isRefusal(error: unknown): boolean {
  return isAppError(error) && error.status >= 400 && error.status < 500 && error.status !== 408;
}

/** Where a tus upload's bytes go: its multipart upload, and the key of its incomplete part. */
export interface PartsTarget {
  client: S3Client;
  bucket: string;
  key: string;
  incompleteKey: string;
  uploadId: string;
  /** The upload's size (its last part is sent as a part, however small). */
  size: number | undefined;
  /** s3-store's tag for the incomplete part, if tags are used. */
  tagging?: string;
}

/** What counts after one request: its bytes (from `from.offset`), its parts that count as S3 answered them, the mark of what is stored last, why it stopped early. */
export interface RequestParts {
  bytes: number;
  parts: Part[];
  mark: string;
  error?: unknown;
}

/** The incomplete part a request begins with: its bytes (as chunks), and whether it is still in S3 (it stays until its bytes are in a part). */
export interface IncompleteStart {
  chunks: Buffer[];
  length: number;
  etag: string;
  stored: boolean;
}

/**
 * Stores one request's bytes: `from.incomplete` first (the incomplete part, already inspected, its chunks let
 * go once copied), then the request's bytes (through `inspection`), as parts of exactly the part size from
 * `from.partNumber` (so part n always holds the same bytes of the clip, whichever request sent it); what is
 * left at the end, unless it is the clip's end or a whole part, becomes the incomplete part, which records how
 * many parts it follows (parts numbered after it, left by an earlier request, do not count yet). The incomplete
 * part the request began with stays in S3 until it is replaced, or its bytes are stored in the request's first
 * part (then it is deleted): whatever fails in between, the bytes acknowledged before stay counted. Never
 * throws: says what counts now (from `from.offset`), and why it stopped early (a refusal, a stall, storage
 * down, the request broken off). What arrived before the request broke off or stalled is kept; a refusal keeps
 * nothing (it is discarded).
 */
export async function storeRequestParts(
  target: PartsTarget,
  sending: { partBytes: number; partsInFlight: number; idleSeconds: number },
  readStream: Readable,
  from: { offset: number; partNumber: number; lastPart: Part | undefined; incomplete: IncompleteStart | undefined },
  inspection: ByteInspection<unknown> | null,
): Promise<RequestParts> {
  const { partBytes, idleSeconds } = sending;
  // A request that stalls (or trickles) while the store waits for it is ended; what arrived is kept.
  const watch = idleSeconds > 0 ? new StallWatch(idleSeconds, (error) => readStream.destroy(error)) : null;
  // S3 failing while the request's next bytes are awaited (a client between two writes) ends the request's
  // reading at once, answered 503, rather than when more bytes come or the stall watch cuts it off.
  let reading = true;
  const fail = (error: unknown) => {
    writer.failure ??= { error };
    if (reading) readStream.destroy(storageUnavailable(error));
  };
  const writer = new PartWriter({
    client: target.client,
    bucket: target.bucket,
    key: target.key,
    uploadId: target.uploadId,
    partBytes,
    partsInFlight: sending.partsInFlight,
    firstPartNumber: from.partNumber,
    ...(watch ? { waitForRoom: (room: Promise<unknown>) => watch.hold(room) } : {}),
    onFailure: (error) => fail(error),
  });
  let sourceError: { error: unknown } | undefined;
  let received = 0;
  // The incomplete part the request began with goes once the request's first part, which holds its bytes, is
  // stored (until then its parts-before hides the request's parts: a crash or a failure before keeps the offset
  // acknowledged before); it is deleted while the request goes on, so a crash after keeps the parts stored.
  const old = from.incomplete?.stored ? from.incomplete : undefined;
  let dropping: Promise<void> | undefined;
  let dropped = false;
  const drop = () => {
    if (!old || dropping || !writer.done.some((part) => part.PartNumber === from.partNumber)) return;
    dropping = target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.incompleteKey })).then(
      () => {
        dropped = true;
      },
      (error: unknown) => fail(error),
    );
  };
  try {
    const first = from.incomplete?.chunks;
    while (first && first.length > 0) await writer.take(first.shift()!);
    // Leaving the loop early (a refusal, S3 failing) must not destroy the request's stream: @tus/server
    // would then answer with that (an abort) instead of the refusal.
    for await (const data of readStream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      if (writer.failure) break;
      watch?.arrive(data.length);
      received += data.length;
      try {
        inspection?.update(data);
      } catch (refusal) {
        sourceError = { error: refusal };
        break;
      }
      await writer.take(data);
      if (old && !dropping) drop();
    }
  } catch (error) {
    // A part that failed is the writer's `failure`; anything else, the request's.
    if (!writer.failure) sourceError = { error };
  } finally {
    reading = false;
    watch?.stop();
  }
  await writer.settle();
  const refused = sourceError !== undefined && isRefusal(sourceError.error);
  const rest = writer.pending;
  // A new incomplete part is written only once the old one's deletion has ended (it would delete the new one).
  drop();
  await dropping;
  let incompleteEtag: string | undefined;
  if (rest > 0 && !writer.failure && !refused) {
    if (rest === partBytes || from.offset + writer.stored + rest === target.size) {
      await writer.send().catch(() => undefined);
      await writer.settle();
      drop();
      await dropping;
    } else if (old && !dropped && received === 0) {
      // The request brought nothing (a PATCH of 0 bytes): the incomplete part is already what it would write.
    } else {
      const { body, checksum } = writer.rest();
      const put = new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.incompleteKey,
        Body: body,
        Metadata: { 'parts-before': String(writer.partNumber - 1) },
        ChecksumAlgorithm: 'CRC32',
        ChecksumCRC32: crc32Header(checksum),
        ...(target.tagging ? { Tagging: target.tagging } : {}),
      });
      await target.client.send(put).then(
        (response) => {
          incompleteEtag = response.ETag;
        },
        (error: unknown) => {
          writer.failure ??= { error };
        },
      );
    }
  }
  // Storage down: 503, retryable; the parts stored before it stay (the upload's offset says how far).
  const error = writer.failure ? storageUnavailable(writer.failure.error) : sourceError?.error;
  const result = { ...(error === undefined ? {} : { error }) };
  // The old incomplete part neither deleted nor replaced: nothing the request stored counts (yet).
  if (old && !dropped && incompleteEtag === undefined) return { bytes: old.length, parts: [], mark: markOf(from.lastPart, old.etag), ...result };
  // Parts count only as far as they follow on from each other (one failed while a later one was stored: a gap).
  const parts = following(writer.parts(), from.partNumber);
  const partsBytes = parts.length === writer.done.length ? writer.stored : parts.length * partBytes;
  const bytes = partsBytes + (incompleteEtag === undefined ? 0 : rest);
  return { bytes, parts, mark: markOf(parts.at(-1) ?? from.lastPart, incompleteEtag), ...result };
}

/** The parts (sorted by number) that follow on from each other from `first`. */
function following(parts: Part[], first: number): Part[] {
  let count = 0;
  while (count < parts.length && parts[count]!.PartNumber === first + count) count += 1;
  return parts.slice(0, count);
}
