import type { Readable } from 'node:stream';
import { PutObjectCommand, type Part, type S3Client } from '@aws-sdk/client-s3';
import { isAppError, storageUnavailable } from '../../shared/errors';
import { crc32, crc32Header } from '../../shared/storage/checksum';
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

/** What one request stored: bytes, its parts as S3 answered them, the mark of what it stored last, why it stopped early. */
export interface RequestParts {
  bytes: number;
  parts: Part[];
  mark: string;
  error?: unknown;
}

/**
 * Stores one request's bytes: `from.incomplete` first (the incomplete part, already inspected, its chunks let
 * go once copied), then the request's bytes (through `inspection`), as parts of exactly the part size from
 * `from.partNumber` (so part n always holds the same bytes of the clip, whichever request sent it); what is
 * left at the end, unless it is the clip's end or a whole part, becomes the incomplete part, which records how
 * many parts it follows (parts numbered after it, left by an earlier request, do not count yet). Never throws:
 * says what was stored, and why it stopped early (a refusal, a stall, storage down, the request broken off).
 * What arrived before the request broke off or stalled is kept; a refusal keeps nothing (it is discarded).
 */
export async function storeRequestParts(
  target: PartsTarget,
  sending: { partBytes: number; partsInFlight: number; idleSeconds: number },
  readStream: Readable,
  from: { offset: number; partNumber: number; lastPart: Part | undefined; incomplete: Buffer[] | undefined },
  inspection: ByteInspection<unknown> | null,
): Promise<RequestParts> {
  const { partBytes, idleSeconds } = sending;
  // A request that stalls (or trickles) while the store waits for it is ended; what arrived is kept.
  const watch = idleSeconds > 0 ? new StallWatch(idleSeconds, (error) => readStream.destroy(error)) : null;
  const writer = new PartWriter({
    client: target.client,
    bucket: target.bucket,
    key: target.key,
    uploadId: target.uploadId,
    partBytes,
    partsInFlight: sending.partsInFlight,
    firstPartNumber: from.partNumber,
    ...(watch ? { waitForRoom: (room: Promise<unknown>) => watch.hold(room) } : {}),
  });
  let sourceError: { error: unknown } | undefined;
  let incompleteEtag: string | undefined;
  try {
    const first = from.incomplete;
    while (first && first.length > 0) await writer.take(first.shift()!);
    // Leaving the loop early (a refusal, S3 failing) must not destroy the request's stream: @tus/server
    // would then answer with that (an abort) instead of the refusal.
    for await (const data of readStream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      if (writer.failure) break;
      watch?.arrive(data.length);
      try {
        inspection?.update(data);
      } catch (refusal) {
        sourceError = { error: refusal };
        break;
      }
      await writer.take(data);
    }
  } catch (error) {
    // A part that failed is the writer's `failure`; anything else, the request's.
    if (!writer.failure) sourceError = { error };
  } finally {
    watch?.stop();
  }
  await writer.settle();
  const rest = writer.pending;
  if (rest > 0 && !writer.failure && !(sourceError && isRefusal(sourceError.error))) {
    if (rest === partBytes || from.offset + writer.stored + rest === target.size) {
      await writer.send().catch(() => undefined);
      await writer.settle();
    } else {
      const { body, checksum } = writer.rest();
      const put = new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.incompleteKey,
        Body: body,
        Metadata: { 'parts-before': String(writer.partNumber - 1) },
        ChecksumAlgorithm: 'CRC32',
        ...(crc32 ? { ChecksumCRC32: crc32Header(checksum) } : {}),
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
  const parts = writer.parts();
  const bytes = writer.stored + (incompleteEtag === undefined ? 0 : rest);
  return { bytes, parts, mark: markOf(parts.at(-1) ?? from.lastPart, incompleteEtag), ...(error === undefined ? {} : { error }) };
}
