import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { rateLimit, type ClientLimits } from '../middleware/rate-limit';
import { uploadSlots } from '../middleware/upload-slots';
import { addReportPhoto, createReport, getReportStatus, REPORT_PHOTO_MAX_BYTES, submitReport, withdrawReport } from '../services/report.service';

/**
 * The action reports' API (issue 18), for the contributors' page and for curl:
 *   POST /api/reports                      the report's fields (JSON) → 202 {id, status}
 *   PUT  /api/reports/:id/photos/:slot     one photo (its bytes as the body), Authorization: Bearer <status token>
 *   POST /api/reports/:id/submit           the report is complete: it enters review
 *   GET  /api/reports/:id/status           its state (Bearer)
 *   POST /api/reports/:id/withdraw         withdraws it (Bearer); its photos are deleted
 */
export function reportsRouter(deps: ServerDeps, limits: ClientLimits): Router {
  const { config } = deps;
  const router = Router();
  const json = express.json({ limit: '16kb' });
  const photoBody = express.raw({ type: () => true, limit: REPORT_PHOTO_MAX_BYTES });

  const parse = (parser: express.RequestHandler, onError: () => AppError) => (req: Request, res: Response, next: NextFunction) =>
    parser(req, res, (error?: unknown) => {
      if (error === undefined) return next();
      const type = (error as { type?: string }).type;
      next(type === 'entity.too.large' ? new AppError('photo_too_large', 413, `The photo is too large: at most ${REPORT_PHOTO_MAX_BYTES / 1024 / 1024} MB.`) : onError());
    });

  router.use('/api/reports', (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  function statusToken(req: Request): string {
    const match = /^Bearer\s+([A-Za-z0-9_-]{20,100})$/.exec(req.get('authorization') ?? '');
    if (!match?.[1]) throw new AppError('status_token_required', 401, 'Send the status token you were given: "Authorization: Bearer <token>".');
    return match[1];
  }

  router.post(
    '/api/reports',
    rateLimit(limits, {
      name: 'reports',
      limit: config.rateLimit.uploads,
      windowSeconds: config.rateLimit.windowSeconds,
      message: 'Too many reports from your connection in a short time. Please wait a few minutes and try again.',
      whenUnavailable: 'allow',
    }),
    parse(json, () => new AppError('invalid_body', 400, 'Send the report as JSON of at most 16 KiB.')),
    async (req: Request, res: Response) => {
      const result = await createReport(deps, req.body);
      res.status(202).location(`/api/reports/${result.id}/status`).json(result);
    },
  );

  // Each photo is held in memory and decoded in this process while it is cleaned: a per-process cap on how many
  // at once (beyond it 503 server_busy with Retry-After; the page tries that photo again).
  const photoSlots = uploadSlots(config.upload.maxInFlight);
  router.put(
    '/api/reports/:id/photos/:slot',
    photoSlots,
    parse(photoBody, () => new AppError('photo_missing', 400, 'The photo could not be read. Please send it again.')),
    async (req: Request, res: Response) => {
      const slot = /^\d{1,2}$/.test(String(req.params.slot)) ? Number(req.params.slot) : -1;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.status(201).json(await addReportPhoto(deps, String(req.params.id), statusToken(req), slot, body));
    },
  );

  router.post('/api/reports/:id/submit', async (req: Request, res: Response) => {
    res.json(await submitReport(deps, String(req.params.id), statusToken(req)));
  });

  router.get('/api/reports/:id/status', async (req: Request, res: Response) => {
    res.json(await getReportStatus(deps, String(req.params.id), statusToken(req)));
  });

  router.post('/api/reports/:id/withdraw', async (req: Request, res: Response) => {
    res.json(await withdrawReport(deps, String(req.params.id), statusToken(req)));
  });

  return router;
}
