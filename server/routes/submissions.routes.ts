import { Router, type NextFunction, type Request, type Response } from 'express';
import multer, { MulterError } from 'multer';
import { Types } from 'mongoose';
import { AppError, storageUnavailable } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { rateLimit, type ClientLimits } from '../middleware/rate-limit';
import { uploadSlots } from '../middleware/upload-slots';
import { findOpenCampaign } from '../services/campaign.service';
import { checkSubmissionInput, createSubmission, getSubmissionStatus, withdrawSubmission } from '../services/submission.service';
import { parseFields } from '../upload/submission-fields';
import { s3StorageEngine, storedUploads, uploadAborted, type UploadTarget } from '../upload/s3-storage-engine';
import { feedParser, parseThroughUploadBody, settledBeforeAnswer } from '../upload/upload-body';
import { subtitlesTarget, videoTarget, videoTooLarge } from '../upload/upload-targets';

const MiB = 1024 * 1024;
const STORAGE_CHECK_MS = 10_000;

/** Multipart limits: one video, one optional subtitle file, a handful of short fields. */
const MULTIPART_LIMITS = {
  files: 2,
  fields: 12,
  parts: 14,
  fieldSize: 8 * 1024,
  fieldNameSize: 64,
  headerPairs: 20,
};

/** multer's and busboy's errors, as the project's own. */
function multipartError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof MulterError) {
    const byCode: Record<string, [string, string]> = {
      LIMIT_PART_COUNT: ['too_many_parts', 'The form has too many parts.'],
      LIMIT_FILE_COUNT: ['too_many_files', 'Send one video and at most one subtitle file.'],
      LIMIT_FIELD_COUNT: ['too_many_fields', 'The form has too many fields.'],
      LIMIT_FIELD_KEY: ['field_name_too_long', 'A field name is too long.'],
      LIMIT_FIELD_VALUE: ['field_too_long', `The field "${error.field ?? ''}" is too long.`],
      LIMIT_UNEXPECTED_FILE: ['unexpected_file', `Unexpected file field "${error.field ?? ''}": use "video" and "subtitles".`],
    };
    const [code, message] = byCode[error.code] ?? ['malformed_multipart', 'The upload form could not be read.'];
    return new AppError(code, code === 'malformed_multipart' ? 400 : 413, message);
  }
  const message = (error as Error | undefined)?.message ?? '';
  if (/aborted|closed/i.test(message)) return uploadAborted();
  return new AppError('malformed_multipart', 400, 'The upload form could not be read. Please send it as multipart/form-data.', {
    cause: error,
  });
}

/** `limits`: the per-client limits, counted in Redis under a keyed hash of the address (see middleware/rate-limit.ts). */
export function submissionsRouter(deps: ServerDeps, limits: ClientLimits): Router {
  const { config, storage, db, now, logger } = deps;
  const router = Router();


  /** One HEAD of the bucket; an S3 that does not answer within STORAGE_CHECK_MS counts as down. */
  async function bucketReachable(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from S3 within ${STORAGE_CHECK_MS} ms`)), STORAGE_CHECK_MS);
    });
    try {
      await Promise.race([storage.checkBucket(), timeout]);
    } catch (error) {
      throw storageUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async function targetFor(req: Request, fieldname: string): Promise<UploadTarget> {
    const id = (req.res as Response).locals.submissionId as string;
    // Fields sent before the file are checked first, so a closed campaign is refused before the clip is sent.
    const campaign = (req.body as Record<string, unknown> | undefined)?.campaign;
    if (typeof campaign === 'string' && campaign !== '') {
      // The whole form, consent and a union link included, is checked now, before the clip travels.
      checkSubmissionInput(await findOpenCampaign(db, campaign, now()), parseFields(req.body));
    }
    // Storage that is down is said before the clip travels, not after the first S3 part filled up.
    await bucketReachable();
    return fieldname === 'video' ? videoTarget(config, id) : subtitlesTarget(config, id);
  }

  // multer reads the body through an UploadBody (upload/upload-body.ts): every refusal — a refused part,
  // storage down, a stalled body — is answered as soon as what was stored is removed, not after the whole
  // body arrived, and the error handler closes the connection.
  const multerOptions = {
    storage: settledBeforeAnswer(s3StorageEngine({ storage, targetFor })),
    limits: MULTIPART_LIMITS,
    streamHandler: feedParser,
  } as multer.Options;
  const parseMultipart = parseThroughUploadBody(
    multer(multerOptions).fields([
      { name: 'video', maxCount: 1 },
      { name: 'subtitles', maxCount: 1 },
    ]),
    config.upload.idleSeconds,
  );

  // A status token travels in these replies (the receipt) and requests (the status): never cached.
  router.use('/api/submissions', (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.post(
    '/api/submissions',
    rateLimit(limits, {
      name: 'uploads',
      limit: config.rateLimit.uploads,
      windowSeconds: config.rateLimit.windowSeconds,
      message: 'Too many clips from your connection in a short time. Please wait a few minutes and try again.',
      // Without Redis the clip could not be queued: refused at once, before the contributor sends the whole body.
      whenUnavailable: 'refuse',
    }),
    uploadSlots(config.upload.maxInFlight),
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('multipart/form-data')) {
        throw new AppError('not_multipart', 415, 'Send the clip as multipart/form-data.');
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > config.upload.maxBytes + config.upload.subtitleMaxBytes + MiB) {
        // Refused before reading the body (the error handler closes the connection).
        throw videoTooLarge(config);
      }
      res.locals.submissionId = new Types.ObjectId().toHexString();
      parseMultipart(req, res, (error?: unknown) => next(error === undefined ? undefined : multipartError(error)));
    },
    async (req: Request, res: Response) => {
      const id = res.locals.submissionId as string;
      const stored = storedUploads(req.files);
      try {
        const video = stored.find((file) => file.fieldname === 'video');
        if (!video) throw new AppError('video_missing', 400, 'No video was sent: add the clip in the "video" field.');
        const subtitles = stored.find((file) => file.fieldname === 'subtitles');
        const input = parseFields(req.body);
        const toObject = (f: typeof video) => ({ key: f.key, bytes: f.bytes, sha256: f.sha256, contentType: f.contentType });
        const result = await createSubmission(deps, {
          id,
          input,
          video: toObject(video),
          subtitles: subtitles ? toObject(subtitles) : null,
        });
        res.locals.log?.info({ submissionId: id, bytes: video.bytes }, 'submission received');
        deps.metrics.uploads.inc();
        deps.metrics.uploadBytes.inc(video.bytes);
        res
          .status(202)
          .location(`/api/submissions/${id}/status`)
          .json({ id: result.id, statusToken: result.statusToken, status: 'received', statusUrl: `/api/submissions/${id}/status` });
      } catch (error) {
        // Nothing half-stored: the objects go when the submission does not come to be.
        await Promise.all(
          stored.map((file) =>
            storage.remove(file.key).catch((removeError: unknown) => {
              logger.error({ err: removeError, submissionId: id }, 'could not remove an object of a refused upload');
            }),
          ),
        );
        throw error;
      }
    },
  );

  function statusToken(req: Request): string {
    const match = /^Bearer\s+([A-Za-z0-9_-]{20,100})$/.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      throw new AppError('status_token_required', 401, 'Send the status token you were given: "Authorization: Bearer <token>".');
    }
    return match[1];
  }

  router.get('/api/submissions/:id/status', async (req: Request, res: Response) => {
    res.json(await getSubmissionStatus(deps, String(req.params.id), statusToken(req)));
  });

  /** The contributor withdraws consent (the status page's button, after a confirmation). */
  router.post('/api/submissions/:id/withdraw', async (req: Request, res: Response) => {
    res.json(await withdrawSubmission(deps, String(req.params.id), statusToken(req)));
  });

  return router;
}
