import { Router, type NextFunction, type Request, type Response } from 'express';
import { isAppError } from '../../shared/errors';
import { notFoundHandler } from '../middleware/error-handler';
import type { ServerDeps } from '../deps';
import { createSessionStore } from '../services/session.service';
import { ASSETS } from './assets/assets';
import { ErrorPage, errorMessage } from './pages/home.pages';
import { renderPage } from './render';
import { staffAdminRoutes } from './staff-admin.routes';
import { staffAuthRoutes } from './staff-auth.routes';
import { staffCampaignRoutes } from './staff-campaigns.routes';
import { staffReviewRoutes } from './staff-review.routes';
import { staffCaptionRoutes } from './captions.routes';
import { staffFacesRoutes } from './faces.routes';
import { staffGalleryRoutes } from './gallery.routes';
import { staffDistributionRoutes } from './distribution.routes';
import { staffLanguageRoute } from './staff-language.routes';
import { staffReportDashboardRoutes, staffReportReviewRoutes } from './staff/reports.routes';
import { staffContext, staffContextMiddleware, staffRoute } from './staff-route';

/**
 * Everything under /staff: the pages staff use at desks and on phones. Mounted by app.ts with one line.
 * Routes are added with staffRoute() (see staff-route.ts), which declares who may use each one.
 * staff-auth (login), staff-admin (accounts, audit, operations), staff-review (the queue and the review page).
 */
export function staffRouter(deps: ServerDeps): Router {
  const router = Router();
  const sessions = createSessionStore(deps.redis, {
    prefix: deps.config.redis.queuePrefix,
    idleSeconds: deps.config.staff.sessionIdleSeconds,
    absoluteSeconds: deps.config.staff.sessionAbsoluteSeconds,
  });

  router.use('/staff', staffContextMiddleware(sessions, deps.config.staff, deps.now));

  staffRoute(router, 'get', '/staff/assets/:name', { public: true }, (req, res, next) => {
    const name = String(req.params.name);
    // Own names only: `constructor` or `__proto__` must not find something on the object's prototype.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return next();
    // Assets are the same for everyone: cacheable, unlike the pages.
    res.set({ 'Cache-Control': 'public, max-age=3600', ETag: asset.etag }).type(asset.type);
    if (req.get('if-none-match') === asset.etag) return res.status(304).end();
    res.send(asset.body);
  });

  staffLanguageRoute(router, deps);

  staffAuthRoutes(router, deps, sessions);
  staffAdminRoutes(router, deps, sessions);
  staffCampaignRoutes(router, deps);
  staffReviewRoutes(router, deps);
  // Action reports (issue 18).
  staffReportReviewRoutes(router, deps);
  staffReportDashboardRoutes(router, deps);
  staffCaptionRoutes(router, deps);
  staffFacesRoutes(router, deps);
  staffGalleryRoutes(router, deps);
  staffDistributionRoutes(router, deps);

  // An address under /staff that nothing answers is a page in the person's language too (JSON clients: problem+json).
  router.use('/staff', notFoundHandler);

  // Errors of staff pages become a page in the person's language; API clients (Accept: JSON) get problem+json.
  router.use('/staff', (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isAppError(error) || !res.locals.staff || res.headersSent || req.accepts(['html', 'json']) !== 'html') return next(error);
    (res.locals.log as { info: (o: object, m: string) => void } | undefined)?.info({ code: error.code, status: error.status }, error.message);
    const ctx = staffContext(res);
    renderPage(res, <ErrorPage ctx={ctx} code={error.code} message={errorMessage(ctx, error.code, error.details)} />, error.status);
  });
  return router;
}
