import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { AppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';

/**
 * GET /metrics for a Prometheus scraper: `Authorization: Bearer <METRICS_BEARER_TOKEN>`. Without that
 * variable it is always refused (401); admins read the same text signed in, at /staff/admin/metrics.
 */
export function metricsRouter(deps: Pick<ServerDeps, 'config' | 'metrics'>): Router {
  const router = Router();
  const expected = deps.config.metrics.bearerToken;
  const digest = (text: string) => createHash('sha256').update(text).digest();

  router.get('/metrics', async (req, res) => {
    const given = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    // Compared as digests, in constant time whatever the lengths.
    if (!expected || !given || !timingSafeEqual(digest(given), digest(expected))) {
      throw new AppError('metrics_unauthorized', 401, 'Metrics need the scraper token (METRICS_BEARER_TOKEN), or an admin session at /staff/admin/metrics.');
    }
    res.set('Cache-Control', 'no-store').type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
