import express, { type Express } from 'express';
import type { ServerDeps } from './deps';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { requestContext } from './middleware/request-context';
import { openApiDocument } from './openapi';
import { campaignsRouter } from './routes/campaigns.routes';
import { healthRouter } from './routes/health.routes';
import { metricsRouter } from './routes/metrics.routes';
import { submissionsRouter } from './routes/submissions.routes';
import { staffRouter } from './web/staff.router';

/** The Express app, without listening: main.ts listens, tests run it on port 0 against the real services. */
export function createApp(deps: ServerDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy or not, the app never reads the client address: nothing to trust.
  app.set('trust proxy', false);

  app.use(requestContext(deps.logger));
  app.use(healthRouter(deps));
  app.use(metricsRouter(deps));
  app.get('/api/openapi.json', (req, res) => {
    res.json(openApiDocument(deps.config.http.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`));
  });
  app.use(campaignsRouter(deps));
  app.use(submissionsRouter(deps));
  app.use(staffRouter(deps));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
