import type { Response, Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { RELEASE_USES } from '../../shared/submissions/consent-scopes';
import { galleryFilters, listGallery, openPoster, zipSelection, type GalleryScope } from '../services/gallery.service';
import { GALLERY_SHAPES } from '../services/release-files';
import { mintReleaseLink } from '../services/release-links.service';
import { GalleryPage } from './pages/gallery.pages';
import { errorMessage } from './pages/home.pages';
import { renderPage } from './render';
import { parseBody, parseParams, staffContext, staffRoute, staffSession } from './staff-route';

const clipParams = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/), output: z.string().regex(/^[a-z0-9-]{1,40}$/) });
const posterParams = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/), shape: z.enum(GALLERY_SHAPES) });
const useQuery = z.object({ use: z.enum(RELEASE_USES).default('social') }).strip();
const zipQuery = z
  .object({
    // None ticked is the service's `zip_empty` and too many its `zip_too_many` (each says what to do), not a form "not understood".
    clip: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
      .pipe(z.array(z.string().regex(/^[0-9a-f]{24}$/))),
    shape: z.preprocess((v) => (v === '' ? undefined : v), z.enum(GALLERY_SHAPES).optional()),
    use: z.preprocess((v) => (v === '' ? undefined : v), z.enum(RELEASE_USES).default('social')),
  })
  .strip();

/** The social teams (and admins): their campaigns only; an empty list (and every admin) means all. */
function scopeOf(res: Response): GalleryScope {
  const me = staffSession(res).data;
  return { campaigns: me.role === 'admin' ? [] : me.campaigns };
}

/**
 * The gallery of released clips, its posters (streamed through the server: the pages' CSP lets images
 * come from here only), and per-file downloads: a short-lived presigned link the browser is sent to.
 * The same as JSON under /staff/api/gallery for the social teams' tools.
 */
export function staffGalleryRoutes(router: Router, deps: ServerDeps): void {
  const social = { roles: ['social', 'admin'] } as const;

  staffRoute(router, 'get', '/staff/gallery', social, async (req, res) => {
    const ctx = staffContext(res);
    const parsed = galleryFilters.safeParse(req.query);
    const filters = parsed.success ? parsed.data : { use: 'social' as const };
    const { items, campaigns } = await listGallery(deps, scopeOf(res), filters);
    renderPage(res, <GalleryPage ctx={ctx} items={items} campaigns={campaigns} filters={filters} error={parsed.success ? null : errorMessage(ctx, 'invalid_filter')} />, parsed.success ? 200 : 400);
  });

  staffRoute(router, 'get', '/staff/gallery/:id/poster/:shape', social, async (req, res) => {
    const { id, shape } = parseParams(posterParams, req.params);
    const { use } = parseBody(useQuery, req.query);
    const poster = await openPoster(deps, scopeOf(res), id, shape, use);
    res.set({ 'Content-Type': 'image/jpeg', 'Content-Length': String(poster.bytes), 'Cache-Control': 'private, no-store' });
    await pipeline(poster.body, res);
  });

  staffRoute(router, 'get', '/staff/gallery/:id/files/:output', social, async (req, res) => {
    const { id, output } = parseParams(clipParams, req.params);
    const { use } = parseBody(useQuery, req.query);
    const link = await mintReleaseLink(deps, scopeOf(res), id, output, use);
    res.redirect(303, link.url);
  });

  staffRoute(router, 'get', '/staff/api/gallery', social, async (req, res) => {
    const parsed = galleryFilters.safeParse(req.query);
    if (!parsed.success) throw new AppError('invalid_filter', 400, 'The filters were not understood.', { details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } });
    const { items } = await listGallery(deps, scopeOf(res), parsed.data);
    res.json({ items });
  });

  staffRoute(router, 'get', '/staff/api/gallery/:id/files/:output', social, async (req, res) => {
    const { id, output } = parseParams(clipParams, req.params);
    const { use } = parseBody(useQuery, req.query);
    res.json(await mintReleaseLink(deps, scopeOf(res), id, output, use));
  });

  // A ZIP of the chosen clips, streamed (GET: it changes nothing, and a plain link or form can ask for it).
  staffRoute(router, 'get', '/staff/gallery/zip', social, async (req, res) => {
    const query = parseBody(zipQuery, req.query);
    const zip = await zipSelection(deps, scopeOf(res), query.clip, { shape: query.shape, use: query.use });
    res.set({ 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${zip.filename}"` });
    try {
      await pipeline(zip.stream, res);
    } catch (error) {
      // Headers are gone: the cut connection tells the browser the download failed; the log says why.
      (res.locals.log as { warn?: (o: object, m: string) => void } | undefined)?.warn?.({ err: error }, 'ZIP stream stopped');
      res.destroy();
    }
  });
}
