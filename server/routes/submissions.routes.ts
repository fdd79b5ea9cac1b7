import { Router, type NextFunction, type Request, type Response } from 'express';
import multer, { MulterError } from 'multer';
import { Types } from 'mongoose';
import { z } from 'zod';
import { AppError, storageUnavailable } from '../../shared/errors';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import type { ServerDeps } from '../deps';
import { rateLimit } from '../middleware/rate-limit';
import { uploadSlots } from '../middleware/upload-slots';
import { findOpenCampaign, LANGUAGE_CODE } from '../services/campaign.service';
import { createSubmission, getSubmissionStatus, type SubmissionInput } from '../services/submission.service';
import { s3StorageEngine, storedUploads, uploadAborted, type UploadTarget } from '../upload/s3-storage-engine';
import { feedParser, parseThroughUploadBody, settledBeforeAnswer } from '../upload/upload-body';
import { requireSubtitleText, requireVideoContainer } from '../upload/sniff';

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

// Control characters other than tab and newline, and bidi overrides, never belong in a title or a message.
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function text(min: number, max: number) {
  return z
    .string()
    .transform((value) => value.normalize('NFC').replace(CONTROL_CHARS, '').trim())
    .pipe(z.string().min(min, min === 1 ? 'required' : `at least ${min} characters`).max(max, `at most ${max} characters`));
}

const consentSchema = z
  .object({
    version: z.number().int().positive(),
    language: z.string().regex(LANGUAGE_CODE, 'a language code such as "be" or "en"'),
    statements: z.array(z.string().max(40)).max(20),
  })
  .strict();

const fieldsSchema = z
  .object({
    campaign: z.string().trim().min(1, 'required').max(64),
    organisation: text(1, 200),
    country: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'a two-letter country code (ISO 3166-1), e.g. "BY"'),
    language: z.string().trim().regex(LANGUAGE_CODE, 'a language code such as "be", "ru", "uk" or "en"'),
    title: text(1, 140),
    message: text(0, 2000).default(''),
    contactEmail: z
      .string()
      .trim()
      .max(254)
      .transform((value) => (value === '' ? null : value))
      .pipe(z.email('not a valid email address').nullable())
      .optional()
      .transform((value) => value ?? null),
    consent: z
      .string()
      .transform((value, ctx) => {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON: {"version":1,"language":"en","statements":["…"]}' });
          return z.NEVER;
        }
      })
      .pipe(consentSchema),
    // The honeypot: a field people never see (the campaign page hides it); a form that fills it is a bot's.
    website: z.string().max(500).optional(),
  })
  .strict();

function parseFields(body: unknown): SubmissionInput {
  const fields = (body ?? {}) as Record<string, unknown>;
  if (fields.consent === undefined || fields.consent === '') {
    throw new AppError('consent_missing', 400, 'Consent is required: please read the consent text and agree to it before sending.');
  }
  const parsed = fieldsSchema.safeParse(fields);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      field: issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : ''),
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    }));
    throw new AppError('invalid_fields', 400, 'Some fields are missing or not valid.', { details: { errors } });
  }
  const { website, ...input } = parsed.data;
  if (website !== undefined && website.trim() !== '') {
    throw new AppError('rejected', 400, 'The form could not be accepted.');
  }
  return input;
}

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

/** `keyOf` is the keyed hash that tells clients apart for the rate limits (see middleware/rate-limit.ts). */
export function submissionsRouter(deps: ServerDeps, keyOf: (address: string) => string): Router {
  const { config, storage, db, now, logger } = deps;
  const router = Router();

  const videoTooLarge = () => new AppError('file_too_large', 413, `The video is larger than ${Math.floor(config.upload.maxBytes / MiB)} MiB.`);

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
      await findOpenCampaign(db, campaign, now());
      // Named before the file, the campaign says the form came first (as the README and the API ask): the
      // whole form is checked now, so missing consent is refused before the clip travels too.
      parseFields(req.body);
    }
    // Storage that is down is said before the clip travels, not after the first S3 part filled up.
    await bucketReachable();
    if (fieldname === 'video') {
      return {
        key: originalKey(id),
        maxBytes: config.upload.maxBytes,
        tooLarge: videoTooLarge,
        inspectHead: requireVideoContainer,
      };
    }
    return {
      key: originalSubtitlesKey(id),
      maxBytes: config.upload.subtitleMaxBytes,
      tooLarge: () =>
        new AppError('subtitle_too_large', 413, `The subtitle file is larger than ${Math.floor(config.upload.subtitleMaxBytes / 1024)} KiB.`),
      inspectHead: requireSubtitleText,
    };
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
    rateLimit({
      limit: config.rateLimit.uploads,
      windowSeconds: config.rateLimit.windowSeconds,
      keyOf,
      message: 'Too many clips from your connection in a short time. Please wait a few minutes and try again.',
    }),
    uploadSlots(config.upload.maxInFlight),
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('multipart/form-data')) {
        throw new AppError('not_multipart', 415, 'Send the clip as multipart/form-data.');
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > config.upload.maxBytes + config.upload.subtitleMaxBytes + MiB) {
        // Refused before reading the body (the error handler closes the connection).
        throw videoTooLarge();
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

  router.get('/api/submissions/:id/status', async (req: Request, res: Response) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9_-]{20,100})$/.exec(header);
    if (!match?.[1]) {
      throw new AppError('status_token_required', 401, 'Send the status token you were given: "Authorization: Bearer <token>".');
    }
    res.set('Cache-Control', 'no-store');
    res.json(await getSubmissionStatus(deps, String(req.params.id), match[1]));
  });

  return router;
}
