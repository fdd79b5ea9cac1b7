import { Router } from 'express';
import type { ServerDeps } from '../deps';

/** /healthz: the process is alive. /readyz: it can reach what it needs (database, Redis, the bucket) and is not stopping. */
export function healthRouter(deps: ServerDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    // A stopping process takes no new work: the load balancer stops sending it any.
    if (deps.lifecycle?.stopping) return void res.status(503).json({ status: 'stopping' });
    const checks = { database: deps.db.ping(), queue: deps.queue.ping(), storage: deps.storage.checkBucket() };
    const results = await Promise.allSettled(Object.values(checks));
    const report = Object.fromEntries(
      Object.keys(checks).map((name, i) => [name, results[i]?.status === 'fulfilled' ? 'ok' : 'unreachable']),
    );
    const ready = results.every((r) => r.status === 'fulfilled');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: report });
  });

  return router;
}
