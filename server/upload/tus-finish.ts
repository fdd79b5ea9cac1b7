import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Upload } from '@tus/utils';
import { AppError, databaseUnavailable, isAppError, isDatabaseUnavailable, storageUnavailable } from '../../shared/errors';
import { originalKey } from '../../shared/storage/keys';
import type { StoredObject } from '../../shared/submissions/submission.model';
import type { ServerDeps } from '../deps';
import { createSubmission, type SubmissionInput } from '../services/submission.service';
import { InspectStream } from './inspect-stream';
import type { RedisLocker } from './redis-locker';
import { SNIFF_BYTES, type SniffedVideo } from './sniff';
import { isRefusal, type TusS3Store } from './tus-s3-store';
import type { UploadTarget } from './s3-storage-engine';
import { subtitlesTarget, videoTarget } from './upload-targets';

/** A complete upload without a submission this long after its last byte is finished by the sweep. */
export const FINISH_SWEEP_AFTER_MS = 60_000;
/** How many finished inspections wait in memory for a finish to be run again (beyond, the object is read back). */
const MAX_WAITING = 1000;

export function submissionIdOf(uploadId: string): string {
  const match = /^originals\/([a-f0-9]{24})\/video$/.exec(uploadId);
  if (!match?.[1]) throw new AppError('upload_not_found', 404, 'No such upload.');
  return match[1];
}

export interface TusFinisher {
  /**
   * A complete upload's last step: the checks of its bytes (made as they arrived, or by reading the object back),
   * the announced subtitle file, then `createSubmission`. Idempotent, one at a time per upload (a Redis lock):
   * a run after a submission was made just answers its id. A refusal (4xx) removes the upload; any other failure
   * (storage, database or queue down) keeps it, to be run again on the client's next HEAD or PATCH, or by `sweep`.
   */
  finish(upload: Upload): Promise<string>;
  /** Complete uploads whose finish began `olderThanMs` ago or earlier and made no submission yet (their tus ids). */
  pending(olderThanMs?: number): Promise<string[]>;
  /** Drops an upload from the pending list (it no longer exists). */
  forget(uploadId: string): Promise<void>;
}

/** An upload's own metadata, as the creation checked it. */
export type UploadFields = (upload: Upload) => { input: SubmissionInput; statusTokenHash: string; withSubtitles: boolean };

export function tusFinisher(deps: ServerDeps, datastore: TusS3Store<SniffedVideo>, locker: RedisLocker, fieldsOf: UploadFields): TusFinisher {
  const { config, storage, db, logger } = deps;
  /** Uploads whose bytes were checked as they arrived while their finish failed: kept for the next run. */
  const waiting = new Map<string, StoredObject>();
  /**
   * The uploads whose finish has begun and not ended (made or refused), in Redis (a sorted set: upload id →
   * when its finish first began), shared by the server's processes. A finish that failed, or whose process
   * died, stays in it for the sweep; the sweep reads only these, never a listing of every stored original.
   */
  const PENDING = `${config.redis.queuePrefix}:tus:finish-pending`;
  const forget = async (uploadId: string) => {
    await locker.redis.zrem(PENDING, uploadId);
  };

  /** Reads a stored object once through the multipart route's checks: sniffing, size, SHA-256. */
  async function inspectStored(target: UploadTarget): Promise<StoredObject> {
    const inspect = new InspectStream({ headBytes: SNIFF_BYTES, maxBytes: target.maxBytes, tooLarge: target.tooLarge, inspectHead: target.inspectHead });
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    let source;
    try {
      source = await storage.download(target.key);
    } catch (error) {
      throw storageUnavailable(error);
    }
    try {
      await pipeline(source, inspect, sink);
    } catch (error) {
      if (isAppError(error)) throw error;
      throw await inspect.inspection.then(() => storageUnavailable(error), (refusal: unknown) => refusal);
    }
    const { contentType } = await inspect.inspection;
    return { key: target.key, bytes: inspect.bytesSeen, sha256: inspect.digest(), contentType };
  }

  /** The checks made as the bytes arrived or, when they were not seen here from the start, made now. */
  async function inspected(id: string, size: number): Promise<StoredObject> {
    const kept = waiting.get(id);
    if (kept) return kept;
    const arrived = datastore.arrived(originalKey(id), size);
    const video = arrived
      ? { key: originalKey(id), bytes: arrived.bytes, sha256: arrived.sha256, contentType: arrived.result.contentType }
      : await inspectStored(videoTarget(config, id));
    if (waiting.size >= MAX_WAITING) waiting.delete(waiting.keys().next().value!);
    waiting.set(id, video);
    return video;
  }

  /** The subtitle file the creation announced: checked again (it is at most SUBTITLE_MAX_BYTES), or missing. */
  async function announcedSubtitles(id: string): Promise<StoredObject> {
    const target = subtitlesTarget(config, id);
    const stored = await storage.list(target.key).catch((error: unknown) => {
      throw storageUnavailable(error);
    });
    if (!stored.includes(target.key)) {
      throw new AppError('subtitles_missing', 400, 'The subtitle file announced with this upload was not sent. Please send the clip again.');
    }
    return inspectStored(target);
  }

  async function withSubmission(ids: string[]): Promise<Set<string>> {
    try {
      const found = await db.submissions.find({ _id: { $in: ids } }, { _id: 1 }).lean<Array<{ _id: { toHexString(): string } }>>();
      return new Set(found.map((doc) => doc._id.toHexString()));
    } catch (error) {
      throw isDatabaseUnavailable(error) ? databaseUnavailable(error) : error;
    }
  }

  async function finish(upload: Upload): Promise<string> {
    const id = submissionIdOf(upload.id);
    // A second runner (the client's HEAD while the sweep runs, say) waits, then finds the submission made.
    const lock = locker.newLock(`${upload.id}:finish`);
    await lock.lock(new AbortController().signal, () => undefined);
    try {
      await locker.redis.zadd(PENDING, 'NX', Date.now(), upload.id);
      if ((await withSubmission([id])).has(id)) {
        waiting.delete(id);
        await forget(upload.id);
        return id;
      }
      const fields = fieldsOf(upload);
      const video = await inspected(id, upload.size ?? -1);
      const subtitles = fields.withSubtitles ? await announcedSubtitles(id) : null;
      await createSubmission(deps, { id, input: fields.input, video, subtitles, statusTokenHash: fields.statusTokenHash });
      waiting.delete(id);
      await forget(upload.id);
      logger.info({ submissionId: id, bytes: video.bytes }, 'submission received (resumable upload)');
      return id;
    } catch (error) {
      if (isRefusal(error)) {
        // Nothing half-stored: a refused clip goes, with tus's record of it.
        waiting.delete(id);
        await datastore.discard(upload.id).catch((removeError: unknown) => {
          logger.error({ err: removeError, submissionId: id }, 'could not remove a refused resumable upload');
        });
        await forget(upload.id);
      } else {
        logger.warn({ err: error, submissionId: id }, 'the finish of a complete resumable upload failed: it is kept and run again');
      }
      throw error;
    } finally {
      await lock.unlock().catch(() => undefined);
    }
  }

  async function pending(olderThanMs = FINISH_SWEEP_AFTER_MS): Promise<string[]> {
    const uploadIds = await locker.redis.zrangebyscore(PENDING, '-inf', Date.now() - olderThanMs);
    const found: string[] = [];
    for (let at = 0; at < uploadIds.length; at += 500) {
      const batch = uploadIds.slice(at, at + 500);
      const made = await withSubmission(batch.flatMap((uploadId) => /^originals\/([a-f0-9]{24})\/video$/.exec(uploadId)?.[1] ?? []));
      for (const uploadId of batch) {
        if (made.has(submissionIdOf(uploadId))) await forget(uploadId);
        else found.push(uploadId);
      }
    }
    return found;
  }

  return { finish, pending, forget };
}
