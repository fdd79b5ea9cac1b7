import express, { type Express, type Request } from 'express';
import type { ServerDeps } from './deps';
import { bodyIdleCutoff } from './middleware/body-idle';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { clientKeys, limitStore, rateLimit, type ClientLimits } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { refuseWhileStopping } from './middleware/stopping';
import { securityHeaders } from './middleware/security-headers';
import { openApiDocument } from './openapi';
import { campaignsRouter } from './routes/campaigns.routes';
import { healthRouter } from './routes/health.routes';
import { metricsRouter } from './routes/metrics.routes';
import { submissionsRouter } from './routes/submissions.routes';
import { tusRouter } from './routes/tus.routes';
import { TUS_PATH } from './upload/tus-upload';
import { contribRouter } from './web/contrib/contrib.router';
import { staffRouter } from './web/staff.router';
import { feedsRouter } from './routes/feeds.routes';
import { isVerifyUpload, verifyRouter } from './web/verify/verify.router';
import { reportsRouter } from './routes/reports.routes';
import { publicSummaryRouter } from './web/public/summary.routes';

/** The Express app, without listening: main.ts listens, tests run it on port 0 against the real services. */
export function createApp(deps: ServerDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const lifecycle = deps.lifecycle ?? { stopping: false };
  // The client address is read only to be hashed for the rate limits (never stored or logged); behind
  // TRUST_PROXY proxies it comes from X-Forwarded-For.
  app.set('trust proxy', deps.config.http.trustProxy);
  // The per-client limits live in Redis, under one key of the day shared by every process (rate-limit.ts):
  // a client is one client across the limits and across the server's replicas.
  const store = limitStore(deps.redis, deps.config.redis.queuePrefix);
  const limits: ClientLimits = { store, keyOf: clientKeys(store), logger: deps.logger };

  app.use(requestContext(deps.logger));
  // Every body that stalls or trickles is cut off; the upload routes watch their own (telling slow storage apart).
  app.use(bodyIdleCutoff(deps.config.upload.idleSeconds, isUploadRequest));
  app.use(securityHeaders());
  app.use(refuseWhileStopping(lifecycle, isUploadRequest));
  app.use(healthRouter({ ...deps, lifecycle }));
  app.use(metricsRouter(deps));
  app.use(
    '/api',
    rateLimit(limits, {
      name: 'requests',
      limit: deps.config.rateLimit.requests,
      windowSeconds: deps.config.rateLimit.windowSeconds,
      message: 'Too many requests from your connection. Please wait a few minutes and try again.',
      // Reading a campaign or a clip's status needs no Redis: a Redis outage does not take them down.
      whenUnavailable: 'allow',
    }),
  );
  // The server's public address comes from the configuration, never from the request's Host header.
  const openApi = openApiDocument(deps.config.http.publicUrl);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(campaignsRouter(deps));
  app.use(submissionsRouter(deps, limits));
  app.use(feedsRouter(deps));
  app.use(reportsRouter(deps, limits));
  const resumable = tusRouter(deps, limits);
  app.use(resumable.router);
  // main.ts runs the cleanup of abandoned resumable uploads on a timer.
  app.locals.tus = resumable.tus;
  app.use(contribRouter(deps));
  app.use(verifyRouter(deps, limits));
  app.use(publicSummaryRouter(deps));
  app.use(staffRouter(deps));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

/** The routes that read a clip's body through their own stall watch (upload/stall-watch.ts). */
function isUploadRequest(req: Request): boolean {
  return isVerifyUpload(req) || (req.method === 'POST' && req.path === '/api/submissions') || req.path === TUS_PATH || req.path.startsWith(`${TUS_PATH}/`);
}
