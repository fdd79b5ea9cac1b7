import express, { type Request, type Response, type Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError, isAppError } from '../../shared/errors';
import { CAPTION_LANGUAGE, type CaptionVersion } from '../../shared/captions/caption-versions';
import { SUBTITLE_LIMITS } from '../../shared/subtitles/subtitles';
import type { CueProblem, CueRow } from '../../shared/subtitles/cue-edits';
import type { ServerDeps } from '../deps';
import { openCaptions, saveCaptionRows, uploadCaptionFile } from '../services/captions.service';
import { notFound, openReview } from '../services/review.service';
import { CaptionsPage } from './pages/captions.pages';
import { renderPage } from './render';
import { streamStoredObject } from './stream-object';
import { moderatorOf, parseBody, parseParams, staffContext, staffRoute } from './staff-route';

const reviewers = { roles: ['admin', 'moderator'] } as const;
const idParam = z.string().regex(/^[0-9a-f]{24}$/);
const language = z.string().max(48).regex(CAPTION_LANGUAGE, 'a language code like "en" or "pt-br"');
const optionalLanguage = z.preprocess((v) => (v === '' ? undefined : v), language.optional());
const MAX_ROWS = SUBTITLE_LIMITS.maxCues + 1;
const many = (item: z.ZodType<string>) => z.union([item, z.array(item).max(MAX_ROWS)]).transform((v) => (Array.isArray(v) ? v : [v]));

const pageQuery = z
  .object({
    lang: optionalLanguage,
    version: z.coerce.number().int().min(1).max(1_000_000).optional(),
    from: optionalLanguage,
    saved: z.coerce.number().int().min(1).optional(),
  })
  .strict();
const rowsBody = z
  .object({
    _csrf: z.string().optional(),
    lang: language,
    from: optionalLanguage,
    // Generous per field (the form's 4 MB bounds the whole): what is too long is named by the cue checks, with
    // the typed rows shown again, instead of a bare "form not understood" that loses them.
    start: many(z.string().max(1000)).default([]),
    end: many(z.string().max(1000)).default([]),
    text: many(z.string().max(SUBTITLE_LIMITS.maxLineChars * SUBTITLE_LIMITS.maxLinesPerCue)).default([]),
    remove: many(z.string().regex(/^\d{1,5}$/)).default([]),
  })
  .strict()
  .refine((b) => b.start.length === b.end.length && b.end.length === b.text.length, { message: 'every cue needs a start, an end and a text' });
const uploadBody = z.object({ _csrf: z.string().optional(), lang: language }).strict();

const wantsPage = (req: Request) => req.accepts(['html', 'json']) === 'html';

/**
 * The caption editor of a clip in review (services/captions.service.ts): its page, saving the typed cues
 * as a new version, uploading a file as one, and each version's captioned preview (streamed, like the
 * review media). The editor's form is long (up to 5000 cues), so its route reads a larger form body.
 */
export function staffCaptionRoutes(router: Router, deps: ServerDeps): void {
  const captionDeps = { db: deps.db, storage: deps.storage, queue: deps.queue, now: deps.now, logger: deps.logger, claimSeconds: deps.config.review.claimSeconds };
  const readBigForm = express.urlencoded({ extended: false, limit: '4mb', parameterLimit: MAX_ROWS * 4 + 10 });
  const bigForm = [
    (req: Request, res: Response, next: (error?: unknown) => void) =>
      readBigForm(req, res, (error?: unknown) => {
        // body-parser's own refusals (too large, too many fields) become a clear answer, not a server error.
        if ((error as { status?: number } | undefined)?.status === 413) return next(new AppError('captions_form_too_large', 413, `The captions form is too large: at most ${SUBTITLE_LIMITS.maxCues} cues and 4 MB.`));
        next(error);
      }),
  ];
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: deps.config.upload.subtitleMaxBytes, files: 1, fields: 4, parts: 5 } }).single('file');
  // A form that is not multipart is still read (for its CSRF token), then refused for its missing file.
  const smallForm = express.urlencoded({ extended: false, limit: '16kb' });
  const fileParser = (req: Request, res: Response, next: (error?: unknown) => void) =>
    !req.is('multipart/form-data') ? smallForm(req, res, next) : upload(req, res, (error: unknown) => {
      if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') return next(new AppError('captions_file_too_large', 413, `The subtitle file is larger than ${Math.round(deps.config.upload.subtitleMaxBytes / 1024)} KiB.`, { details: { kib: Math.round(deps.config.upload.subtitleMaxBytes / 1024) } }));
      if (error) return next(new AppError('invalid_body', 400, 'The form was incomplete or not understood.'));
      next();
    });

  async function renderEditor(req: Request, res: Response, id: string, query: z.infer<typeof pageQuery>, failed?: { rows: CueRow[]; problems: CueProblem[]; from: string | null; message: string | null }) {
    const view = await openCaptions(captionDeps, moderatorOf(res), id, { language: query.lang, version: query.version, from: query.from ?? failed?.from ?? undefined });
    renderPage(res, <CaptionsPage ctx={staffContext(res)} view={view} saved={query.saved ?? null} failed={failed ?? null} />, failed ? 400 : 200);
  }

  staffRoute(router, 'get', '/staff/review/:id/captions', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const query = parseBody(pageQuery, req.query);
    await renderEditor(req, res, id, query);
  });

  staffRoute(
    router,
    'post',
    '/staff/review/:id/captions',
    reviewers,
    async (req, res) => {
      const id = parseParams(idParam, req.params.id);
      const body = parseBody(rowsBody, req.body);
      const removed = new Set(body.remove.map(Number));
      // Removed rows and blank ones (the editor's empty row for a new cue) go before numbering, so the
      // numbers in any refusal are those of the rows shown again.
      const rows = body.start
        .map((start, i) => ({ start, end: body.end[i] ?? '', text: body.text[i] ?? '' }))
        .filter((row, i) => !removed.has(i + 1) && (row.start.trim() !== '' || row.end.trim() !== '' || row.text.trim() !== ''));
      try {
        const saved = await saveCaptionRows(captionDeps, moderatorOf(res), id, { language: body.lang, rows, from: body.from ?? null });
        res.redirect(303, `/staff/review/${id}/captions?lang=${saved.language}&saved=${saved.version}`);
      } catch (error) {
        // The typed cues come back with what is wrong with each: nothing typed is lost.
        if (!isAppError(error) || error.code !== 'captions_invalid' || !wantsPage(req)) throw error;
        const problems = (error.details?.problems ?? []) as CueProblem[];
        await renderEditor(req, res, id, { lang: body.lang }, { rows, problems, from: body.from ?? null, message: null });
      }
    },
    { parsers: bigForm },
  );

  staffRoute(
    router,
    'post',
    '/staff/review/:id/captions/upload',
    reviewers,
    async (req, res) => {
      const id = parseParams(idParam, req.params.id);
      const body = parseBody(uploadBody, req.body);
      if (!req.file) throw new AppError('captions_file_missing', 400, 'Choose an SRT or WebVTT file to upload.');
      const saved = await uploadCaptionFile(captionDeps, moderatorOf(res), id, { language: body.lang, bytes: req.file.buffer });
      res.redirect(303, `/staff/review/${id}/captions?lang=${saved.language}&saved=${saved.version}`);
    },
    { parsers: [fileParser] },
  );

  staffRoute(router, 'get', '/staff/review/:id/captions/:version/preview', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const versionId = idParam.safeParse(req.params.version);
    await openReview(captionDeps, moderatorOf(res), id); // the clip's campaign is the person's
    const version = versionId.success ? await deps.db.captionVersions.findOne({ _id: versionId.data, submissionId: id }).select({ preview: 1 }).lean<Pick<CaptionVersion, 'preview'>>() : null;
    if (!version?.preview) throw notFound();
    await streamStoredObject(req, res, deps.storage, { key: version.preview.key, contentType: 'video/mp4' }, notFound);
  });
}
