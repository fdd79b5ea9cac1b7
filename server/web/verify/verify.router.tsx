import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer, { MulterError } from 'multer';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import { AppError, isAppError } from '../../../shared/errors';
import type { Campaign } from '../../../shared/models/campaign.model';
import type { Submission } from '../../../shared/submissions/submission.model';
import type { ServerDeps } from '../../deps';
import { rateLimit, type ClientLimits } from '../../middleware/rate-limit';
import { uploadSlots } from '../../middleware/upload-slots';
import { newVerifyTarget, readCheck, requireVerifiableFile, startCheck } from '../../services/verify.service';
import { s3StorageEngine, storedUploads, uploadAborted } from '../../upload/s3-storage-engine';
import { feedParser, parseThroughUploadBody, settledBeforeAnswer } from '../../upload/upload-body';
import type { ContribPageContext } from '../contrib/campaign.page';
import { CONTRIB_LANGUAGES, contribTranslator, pickLanguage } from '../contrib/messages/contrib-messages';
import { VerifyFormPage, VerifyResultPage } from './verify.page';

const MiB = 1024 * 1024;

/** The verification routes: what an upload is, for the app's stall watch and shutdown (app.ts). */
export function isVerifyUpload(req: Request): boolean {
  return req.method === 'POST' && (req.path === '/verify' || req.path === '/api/verify');
}

/** multer's and busboy's errors, as the project's own (a form read wrong is the sender's mistake, never a 500). */
function formReadError(error: unknown): AppError {
  if (isAppError(error)) return error;
  if (error instanceof MulterError && error.code === 'LIMIT_UNEXPECTED_FILE') return new AppError('unexpected_file', 400, 'Send the file in the "file" field, and only one file.');
  if (error instanceof MulterError) return new AppError('malformed_multipart', 400, 'The form could not be read: send one file in the "file" field.');
  if (/aborted|closed/i.test((error as Error | undefined)?.message ?? '')) return uploadAborted();
  return new AppError('malformed_multipart', 400, 'The form could not be read: send the file as multipart/form-data.', { cause: error });
}

function sendPage(req: Request, res: Response, page: VNode, status = 200): void {
  const html = Buffer.from(`<!doctype html>${render(page)}`, 'utf8');
  res.status(status).type('html').set({ 'Cache-Control': 'no-store', Vary: 'Accept-Encoding, Accept-Language' });
  if (req.acceptsEncodings('gzip') === 'gzip') res.set('Content-Encoding', 'gzip').send(gzipSync(html));
  else res.send(html);
}

function pageContext(req: Request, path: string): ContribPageContext {
  const offered = Object.keys(CONTRIB_LANGUAGES);
  const lang = pickLanguage(offered, req.query.lang, req.get('accept-language'));
  return { lang, m: contribTranslator(lang), languages: offered.map((code) => ({ code, href: `${path}?lang=${encodeURIComponent(code)}` })) };
}

/**
 * The public verification page and API (anyone; no account): `/verify` (a form; `?release=<id>` from a release's
 * public page names the release it is about), `POST /verify` and `POST /api/verify` (one file, never kept),
 * `/verify/<id>` and `GET /api/verify/<id>` (the answer, for an hour), `/verify/root.pem` (the trust anchor).
 * No URL is ever fetched: only a file sent here is checked.
 */
export function verifyRouter(deps: ServerDeps, limits: ClientLimits): Router {
  const { config, storage, db } = deps;
  const router = Router();
  const maxBytes = config.verify.maxBytes;

  const parse = parseThroughUploadBody(
    multer({
      storage: settledBeforeAnswer(
        s3StorageEngine({
          storage,
          async targetFor(_req, fieldname) {
            if (fieldname !== 'file') throw new AppError('unexpected_file', 400, 'Send the file in the "file" field.');
            return {
              key: (_req.res as Response).locals.verifyKey as string,
              maxBytes,
              tooLarge: () => new AppError('file_too_large', 413, `The file is larger than ${Math.floor(maxBytes / MiB)} MiB.`),
              inspectHead: requireVerifiableFile,
            };
          },
        }),
      ),
      limits: { files: 1, fields: 2, parts: 3, fieldSize: 256, headerPairs: 20 },
      streamHandler: feedParser,
    } as multer.Options).fields([{ name: 'file', maxCount: 1 }]),
    config.upload.idleSeconds,
  );

  /** Takes one file in under a new check's key; resolves to the check's id (its job queued). */
  const receive = [
    rateLimit(limits, {
      name: 'verify',
      limit: config.verify.perWindow,
      windowSeconds: config.rateLimit.windowSeconds,
      message: 'Too many checks from your connection. Please wait a few minutes and try again.',
      whenUnavailable: 'refuse',
    }),
    uploadSlots(Math.max(1, Math.floor(config.upload.maxInFlight / 4))),
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('multipart/form-data')) throw new AppError('not_multipart', 415, 'Send the file as multipart/form-data, in the "file" field.');
      if (Number(req.headers['content-length'] ?? 0) > maxBytes + MiB) throw new AppError('file_too_large', 413, `The file is larger than ${Math.floor(maxBytes / MiB)} MiB.`);
      const target = newVerifyTarget();
      res.locals.verifyCheckId = target.checkId;
      res.locals.verifyKey = target.key;
      parse(req, res, (error?: unknown) => next(error === undefined ? undefined : formReadError(error)));
    },
    async (req: Request, res: Response, next: NextFunction) => {
      const [file] = storedUploads(req.files);
      if (!file) return next(new AppError('file_missing', 400, 'No file was sent: add it in the "file" field.'));
      res.locals.verifyCheckId = await startCheck(deps, res.locals.verifyCheckId as string, { bytes: file.bytes, contentType: file.contentType });
      next();
    },
  ];

  router.post('/api/verify', ...receive, (_req: Request, res: Response) => {
    const id = res.locals.verifyCheckId as string;
    res.status(202).set('Cache-Control', 'no-store').location(`/api/verify/${id}`).json({ id, status: 'waiting', url: `/api/verify/${id}`, page: `/verify/${id}` });
  });

  router.get('/api/verify/:id', async (req, res) => {
    const check = await readCheck(deps, String(req.params.id));
    res.set('Cache-Control', 'no-store').json(check);
  });

  router.get('/verify/root.pem', async (_req, res) => {
    const file = config.provenance.trustAnchorFile;
    const pem = file ? await readFile(file, 'utf8').catch(() => null) : null;
    if (!pem) throw new AppError('not_found', 404, 'This server has no signing root configured.');
    res.set({ 'Cache-Control': 'public, max-age=3600', 'Content-Disposition': 'attachment; filename="campaign-root.pem"' }).type('application/x-pem-file').send(pem);
  });

  router.get('/verify', async (req, res) => {
    const ctx = pageContext(req, '/verify');
    res.set('Content-Language', ctx.lang);
    sendPage(req, res, <VerifyFormPage ctx={ctx} maxBytes={maxBytes} maxSeconds={config.verify.maxSeconds} release={await releaseNamed(req.query.release)} />);
  });

  /** A release's public page links here with its id: named only while it is released (else the plain form). */
  async function releaseNamed(value: unknown): Promise<{ campaign: string; published: string } | null> {
    if (typeof value !== 'string' || !/^[a-f0-9]{24}$/.test(value)) return null;
    const release = await db.submissions.findById(value).select({ status: 1, campaignId: 1, release: 1 }).lean<Pick<Submission, 'status' | 'campaignId' | 'release'>>();
    if (release?.status !== 'released' || !release.release?.finishedAt) return null;
    const campaign = await db.campaigns.findById(release.campaignId).select({ name: 1 }).lean<Pick<Campaign, 'name'>>();
    return campaign ? { campaign: campaign.name, published: release.release.finishedAt.toISOString().slice(0, 10) } : null;
  }

  router.post(
    '/verify',
    ...receive,
    (req: Request, res: Response) => {
      res.redirect(303, `/verify/${res.locals.verifyCheckId as string}?lang=${encodeURIComponent(pageContext(req, '/verify').lang)}`);
    },
    // The form's errors are said on the form, in its language (the API answers problem+json).
    (error: unknown, req: Request, res: Response, next: NextFunction) => (isAppError(error) ? formError(req, res, error) : next(error)),
  );

  function formError(req: Request, res: Response, error: AppError): void {
    const ctx = pageContext(req, '/verify');
    const byCode: Record<string, string> = {
      unsupported_file_type: ctx.m('verify.error.type'),
      file_too_large: ctx.m('verify.error.size', { mb: Math.floor(maxBytes / MiB) }),
      file_missing: ctx.m('verify.error.missing'),
      too_many_requests: ctx.m('verify.error.busy'),
      server_busy: ctx.m('verify.error.busy'),
    };
    if (error.status === 413 || error.code === 'upload_aborted') res.set('Connection', 'close');
    sendPage(req, res, <VerifyFormPage ctx={ctx} maxBytes={maxBytes} maxSeconds={config.verify.maxSeconds} error={byCode[error.code] ?? ctx.m('verify.error.generic')} />, error.status);
  }

  router.get('/verify/:id', async (req, res) => {
    const id = String(req.params.id);
    const ctx = pageContext(req, `/verify/${encodeURIComponent(id)}`);
    res.set('Content-Language', ctx.lang);
    try {
      sendPage(req, res, <VerifyResultPage ctx={ctx} check={await readCheck(deps, id)} />);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'check_not_found') throw error;
      sendPage(req, res, <VerifyFormPage ctx={ctx} maxBytes={maxBytes} maxSeconds={config.verify.maxSeconds} error={ctx.m('verify.error.gone')} />, 404);
    }
  });

  return router;
}
