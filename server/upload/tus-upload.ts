import type { Readable } from 'node:stream';
import { Types } from 'mongoose';
import { Server, type ServerOptions } from '@tus/server';
import { ERRORS, type Upload } from '@tus/utils';
import { AppError, isAppError, storageUnavailable } from '../../shared/errors';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import type { ServerDeps } from '../deps';
import { findOpenCampaign } from '../services/campaign.service';
import { checkSubmissionInput } from '../services/submission.service';
import { ByteInspection, InspectStream } from './inspect-stream';
import { protocolRefusal, requireOwner, tusError, uploadNotFound } from './tus-answers';
import { submissionIdOf, tusFinisher } from './tus-finish';
import type { RedisLocker } from './redis-locker';
import { requireVideoContainer, SNIFF_BYTES, type SniffedVideo } from './sniff';
import { parseFields } from './submission-fields';
import { readPatchBodiesFromNode } from './tus-node-body';
import { TusS3Store } from './tus-s3-store';
import { uploadAborted } from './s3-storage-engine';
import { StallWatch } from './stall-watch';
import { BUSY_RETRY_AFTER_SECONDS } from '../middleware/upload-slots';
import { subtitlesTarget, videoTooLarge } from './upload-targets';

/**
 * Resumable uploads (tus 1.0, @tus/server + @tus/s3-store) into the same bucket, at the key the clip
 * would have had through the multipart API (`originals/<id>/video`). They end in the same place:
 *  - at creation, the metadata is parsed by the same schema (`parseFields`), the campaign must be open,
 *    the consent complete, the declared size within the limit — refused before a byte of the clip travels;
 *  - the bytes go through the same checks (sniffing, size limit, SHA-256: `ByteInspection`) as they arrive
 *    (TusS3Store), so a clip that is not a video is refused in its first request; when the upload was
 *    continued in another process or after a restart, the stored object is read back once through the
 *    same InspectStream instead. The submission is made by the same `createSubmission` (tus-finish.ts).
 *    A refusal removes what was stored; a failure of storage or the database at that last step keeps it
 *    (503, Retry-After), and the finish is run again on the client's next HEAD or PATCH, or by the sweep.
 * The page makes the status token itself and sends only its SHA-256 (`statusTokenHash`), so a receipt
 * survives a lost final response: the page already knows the id (from the upload's URL) and the token.
 */
export const TUS_PATH = '/tus';

/**
 * The upload's own metadata keys, beside the submission's fields: `statusTokenHash`, and `subtitles`
 * (`follow`: a subtitle file is sent to PUT /tus/<id>/subtitles before the clip's bytes, and required).
 */
const OWN_KEYS = new Set(['statusTokenHash', 'subtitles']);
export const SUBTITLES_FOLLOW = 'follow';

/** Metadata keys tus clients add on their own; never stored. */
const CLIENT_KEYS = new Set(['filename', 'filetype', 'name', 'type', 'relativePath']);

function fieldsOf(upload: Upload) {
  const metadata = { ...(upload.metadata ?? {}) };
  const statusTokenHash = metadata.statusTokenHash ?? '';
  if (!/^[a-f0-9]{64}$/.test(statusTokenHash)) {
    throw new AppError('invalid_fields', 400, 'Some fields are missing or not valid.', {
      details: { errors: [{ field: 'statusTokenHash', message: 'the SHA-256 (hex) of a token the page made' }] },
    });
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!OWN_KEYS.has(key) && !CLIENT_KEYS.has(key) && value !== null) fields[key] = value;
  }
  return { input: parseFields(fields), statusTokenHash, withSubtitles: metadata.subtitles === SUBTITLES_FOLLOW };
}

export interface TusUploads {
  server: Server;
  datastore: TusS3Store<SniffedVideo>;
  /** Removes uploads abandoned for longer than the expiry (run by a timer in main.ts); returns how many. */
  cleanUpExpired(): Promise<number>;
  /**
   * Runs again the finish of complete uploads without a submission, their last byte older than `olderThanMs`
   * (default a minute; run by the same timer); returns how many got their submission.
   */
  finishPending(olderThanMs?: number): Promise<number>;
  /**
   * Stores an unfinished upload's subtitle file, checked as the multipart API checks it (size, sniffing);
   * only for the holder of the upload's status token, and only if its creation said subtitles follow.
   */
  putSubtitles(submissionId: string, statusToken: string, body: Readable, declaredBytes: number): Promise<void>;
}

/** The tus datastore: the bucket, the project's S3 client and part settings, the video checks, the expiry. */
export function tusDatastore(
  deps: Pick<ServerDeps, 'config' | 'storage'>,
  expiryMs = deps.config.upload.tusExpirySeconds * 1000,
  memory: { maxCached?: number } = {},
): TusS3Store<SniffedVideo> {
  const { config, storage } = deps;
  const s3 = config.s3;
  return new TusS3Store<SniffedVideo>({
    client: storage.client,
    partsInFlight: config.upload.partsInFlight,
    ...memory,
    // The checks of videoTarget (the multipart API's), made as the bytes arrive.
    inspect: () => new ByteInspection({ headBytes: SNIFF_BYTES, maxBytes: config.upload.maxBytes, tooLarge: () => videoTooLarge(config), inspectHead: requireVideoContainer }),
    // The subtitle file sent beside an upload goes with it (refused, abandoned).
    alsoStored: (uploadId) => {
      const id = /^originals\/([a-f0-9]{24})\/video$/.exec(uploadId)?.[1];
      return id ? [originalSubtitlesKey(id)] : [];
    },
    partSize: config.upload.partBytes,
    idleSeconds: config.upload.idleSeconds,
    expirationPeriodInMilliseconds: expiryMs,
    // s3-store tags the .info and .part objects Tus-Completed=false, and at the end rewrites the .info to tag it
    // true (one more PUT per upload), for a bucket lifecycle rule by tag. Abandoned uploads are removed here by
    // deleteExpired (by their multipart upload's age), not by tag: no tags.
    useTags: false,
    s3ClientConfig: {
      bucket: s3.bucket,
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      maxAttempts: 2,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      expectContinueHeader: false,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    },
  });
}

export function tusUploads(deps: ServerDeps, locker: RedisLocker): TusUploads {
  const { config, storage, db, now, logger } = deps;
  const datastore = tusDatastore(deps);
  const finisher = tusFinisher(deps, datastore, locker, fieldsOf);
  /** A failure as tus answers it (tus's own errors with the project's codes). */
  const answerOf = (error: unknown) => tusError(protocolRefusal(error, config) ?? error);

  /** Complete uploads without a submission (their finish failed): finished now; returns how many were. */
  let sweeping = false;
  async function finishPending(olderThanMs?: number): Promise<number> {
    // One sweep at a time in a process (a long read-back may outlast the timer's period).
    if (sweeping) return 0;
    sweeping = true;
    try {
      return await finishAll(olderThanMs);
    } finally {
      sweeping = false;
    }
  }
  async function finishAll(olderThanMs?: number): Promise<number> {
    let finished = 0;
    for (const id of await finisher.pending(olderThanMs)) {
      try {
        await finisher.finish(await datastore.getUpload(id));
        finished += 1;
      } catch (error) {
        // Gone meanwhile (refused, expired, removed): nothing left to finish.
        if ((error as { status_code?: number }).status_code === 404) {
          await finisher.forget(id);
          continue;
        }
        // Storage or the database down: the others would fail the same way; the next sweep tries again.
        if (isAppError(error) && (error.code === 'storage_unavailable' || error.code === 'database_unavailable')) throw error;
        logger.warn({ err: error, submissionId: submissionIdOf(id) }, 'could not finish a complete resumable upload yet');
      }
    }
    return finished;
  }

  async function putSubtitles(id: string, statusToken: string, body: Readable, declaredBytes: number): Promise<void> {
    const target = subtitlesTarget(config, id);
    if (declaredBytes > target.maxBytes) throw target.tooLarge();
    let upload;
    try {
      upload = await datastore.getUpload(originalKey(id));
    } catch (error) {
      if (isAppError(error)) throw error;
      throw uploadNotFound();
    }
    requireOwner(upload.metadata, statusToken);
    if (upload.metadata?.subtitles !== SUBTITLES_FOLLOW) {
      throw new AppError('subtitles_not_announced', 409, 'This upload was created without subtitles: create it with the metadata "subtitles: follow".');
    }
    if (upload.size !== undefined && upload.offset >= upload.size) {
      throw new AppError('upload_finished', 409, 'This clip has already arrived: its subtitles can no longer change.');
    }
    const inspect = new InspectStream({ headBytes: SNIFF_BYTES, maxBytes: target.maxBytes, tooLarge: target.tooLarge, inspectHead: target.inspectHead });
    let refusal: unknown;
    inspect.on('error', (error) => {
      refusal ??= error;
    });
    body.once('error', (error) => inspect.destroy(error));
    // A request cut off before its end: the upload to S3 stops (and stores nothing) instead of waiting.
    body.once('close', () => {
      if (!body.readableEnded) inspect.destroy(uploadAborted());
    });
    // A body that stalls or trickles while the server waits for it is cut off, as the multipart API does.
    const watch = new StallWatch(config.upload.idleSeconds, (error) => inspect.destroy(error), () => body.isPaused());
    body.on('data', (chunk: Buffer) => watch.arrive(chunk.length));
    body.pipe(inspect);
    try {
      const { contentType } = await inspect.inspection;
      await storage.upload(target.key, inspect, contentType);
    } catch (error) {
      inspect.destroy();
      const cause = refusal ?? error;
      if (isAppError(cause)) throw cause;
      throw storageUnavailable(cause);
    } finally {
      watch.stop();
    }
  }

  const options: ServerOptions & { datastore: TusS3Store<SniffedVideo> } = {
    path: TUS_PATH,
    datastore,
    locker,
    maxSize: config.upload.maxBytes,
    relativeLocation: true,
    // Uploads the client abandoned (or that were refused) are not kept as finished objects.
    disableTerminationForFinishedUploads: true,
    namingFunction: () => originalKey(new Types.ObjectId().toHexString()),
    generateUrl: (_req, { path, id }) => `${path}/${submissionIdOf(id)}`,
    getFileIdFromRequest: (_req, lastPath) => (lastPath && /^[a-f0-9]{24}$/.test(lastPath) ? originalKey(lastPath) : undefined),

    async onUploadCreate(_req, upload) {
      try {
        if (upload.size === undefined) throw new AppError('length_required', 400, 'Declare the size of the clip (Upload-Length).');
        if (upload.size > config.upload.maxBytes) throw videoTooLarge(config);
        // An empty clip is refused as the multipart API refuses it (by what its first bytes are).
        if (upload.size === 0) requireVideoContainer(Buffer.alloc(0));
        const subtitles = upload.metadata?.subtitles;
        if (subtitles !== undefined && subtitles !== SUBTITLES_FOLLOW) {
          throw new AppError('invalid_fields', 400, 'Some fields are missing or not valid.', {
            details: { errors: [{ field: 'subtitles', message: `"${SUBTITLES_FOLLOW}" (the subtitle file is sent to PUT /tus/<id>/subtitles), or left out` }] },
          });
        }
        const { input } = fieldsOf(upload);
        const campaign = await findOpenCampaign(db, input.campaign, now());
        checkSubmissionInput(campaign, input);
        // A clip's name and type from the device are never kept.
        const metadata = { ...upload.metadata };
        for (const key of CLIENT_KEYS) delete metadata[key];
        return { metadata };
      } catch (error) {
        throw tusError(error);
      }
    },

    async onIncomingRequest(req, id) {
      // Creating an upload needs no token (its hash comes with it); anything else done to one needs it.
      if (req.method === 'POST') return;
      try {
        const token = /^Bearer (\S+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
        if (!token) throw uploadNotFound();
        requireOwner(await datastore.metadataOf(id), token);
      } catch (error) {
        throw answerOf(error === ERRORS.FILE_NOT_FOUND ? uploadNotFound() : error);
      }
      // A HEAD of a complete upload whose finish failed (storage or database down) runs it again: the client
      // hears 503 until the submission exists, and offset = size only then (a tus client takes that for done).
      if (req.method !== 'HEAD') return;
      const upload = await datastore.getUpload(id).catch(() => null);
      if (!upload || upload.size === undefined || upload.offset !== upload.size) return;
      await finisher.finish(upload).catch((error: unknown) => {
        throw answerOf(error);
      });
    },

    async onUploadFinish(_req, upload) {
      // Also for a PATCH at the end of an upload already complete: the finish is run again (idempotent).
      const id = await finisher.finish(upload).catch((error: unknown) => {
        throw answerOf(error);
      });
      return {
        status_code: 200,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        body: JSON.stringify({ id, status: 'received', statusUrl: `/api/submissions/${id}/status` }),
      };
    },

    onResponseError(req, error) {
      // A refusal while the bytes arrive (not a video, too large), a stall (408) or storage down (503) is thrown
      // by the datastore as an AppError. A 503 (storage or database down) is retryable: the client is told when.
      const refusal = isAppError(error) ? error : protocolRefusal(error, config);
      const answer = refusal ? tusError(refusal) : 'status_code' in error ? error : undefined;
      if (answer?.status_code === 503) {
        (req as { runtime?: { node?: { res?: { setHeader(name: string, value: string): void } } } }).runtime?.node?.res?.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
        // A HEAD (where does the upload stand?) answered anything but 2xx or 423 makes tus-js-client start a
        // new upload, leaving this one (complete, perhaps, and about to become a submission): 423 is retried.
        if (req.method === 'HEAD') return { ...answer, status_code: 423 };
      }
      if (answer) return answer;
      logger.error({ err: error }, 'resumable upload failed');
      return undefined;
    },
  };
  const server = new Server(options);
  readPatchBodiesFromNode(server);

  return {
    server,
    datastore,
    cleanUpExpired: () => server.cleanUpExpiredUploads(),
    finishPending,
    putSubtitles,
  };
}
