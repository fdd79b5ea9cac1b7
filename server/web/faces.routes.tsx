import type { Router } from 'express';
import { z } from 'zod';
import { MASK_STYLES } from '../../shared/protection/protection';
import type { ServerDeps } from '../deps';
import { enableFaceProtection, MAX_MASKS, openFaces, saveFaceMasks, type ModeratorBox } from '../services/protection.service';
import { FacesPage } from './pages/faces.pages';
import { renderPage } from './render';
import { moderatorOf, parseBody, parseParams, staffContext, staffRoute } from './staff-route';

const reviewers = { roles: ['admin', 'moderator'] } as const;
const idParam = z.string().regex(/^[0-9a-f]{24}$/);
const many = <T extends z.ZodType<string>>(item: T) => z.union([item, z.array(item).max(MAX_MASKS)]).transform((v) => (Array.isArray(v) ? v : [v]));
const number = z.string().trim().max(20);
const masksBody = z
  .object({
    _csrf: z.string().optional(),
    version: z.coerce.number().int().min(0).max(1_000_000),
    style: z.enum(MASK_STYLES).optional(),
    keep: many(z.string().regex(/^[0-9a-f]{12}$/)).default([]),
    // The moderators' boxes: times in seconds, position and size in percent of the picture.
    boxId: many(z.string().max(12)).default([]),
    boxStart: many(number).default([]),
    boxEnd: many(number).default([]),
    boxX: many(number).default([]),
    boxY: many(number).default([]),
    boxW: many(number).default([]),
    boxH: many(number).default([]),
  })
  .strict()
  .refine((b) => [b.boxStart, b.boxEnd, b.boxX, b.boxY, b.boxW, b.boxH].every((list) => list.length === b.boxId.length), { message: 'every box needs a start, an end, a position and a size' });
const pageQuery = z.object({ saved: z.coerce.number().int().min(1).optional() }).strict();

/** The rows of the form as boxes; a row left wholly empty (the form's spare row) is no box. */
export function boxesOf(body: z.infer<typeof masksBody>): ModeratorBox[] {
  const boxes: ModeratorBox[] = [];
  body.boxId.forEach((id, i) => {
    const fields = [body.boxStart[i], body.boxEnd[i], body.boxX[i], body.boxY[i], body.boxW[i], body.boxH[i]].map((v) => (v ?? '').replace(',', '.'));
    if (fields.every((v) => v === '')) return;
    const [start, end, x, y, w, h] = fields.map((v) => (v === '' ? Number.NaN : Number(v))) as [number, number, number, number, number, number];
    boxes.push({ ...(id ? { id } : {}), start, end, x: x / 100, y: y / 100, w: w / 100, h: h / 100 });
  });
  return boxes;
}

/**
 * A protected clip's face masks: the editor page (the protected preview with every mask outlined, a table of the
 * masks that works without the page's script), saving a new version of them, and switching face protection on.
 */
export function staffFacesRoutes(router: Router, deps: ServerDeps): void {
  const protectionDeps = { db: deps.db, now: deps.now, claimSeconds: deps.config.review.claimSeconds, queue: deps.queue };

  staffRoute(router, 'get', '/staff/review/:id/faces', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const { saved } = parseBody(pageQuery, req.query);
    const view = await openFaces(protectionDeps, moderatorOf(res), id);
    renderPage(res, <FacesPage ctx={staffContext(res)} view={view} saved={saved ?? null} />);
  });

  staffRoute(
    router,
    'post',
    '/staff/review/:id/faces',
    reviewers,
    async (req, res) => {
      const id = parseParams(idParam, req.params.id);
      const body = parseBody(masksBody, req.body);
      const track = await saveFaceMasks(protectionDeps, moderatorOf(res), id, { version: body.version, keep: body.keep, boxes: boxesOf(body), style: body.style });
      res.redirect(303, `/staff/review/${id}/faces?saved=${track.version}`);
    },
    { bodyLimit: '256kb' },
  );

  staffRoute(router, 'post', '/staff/review/:id/protect', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    parseBody(z.object({ _csrf: z.string().optional() }).strict(), req.body);
    await enableFaceProtection(protectionDeps, moderatorOf(res), id);
    res.redirect(303, `/staff/review/${id}`);
  });
}
