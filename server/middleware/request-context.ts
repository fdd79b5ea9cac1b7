import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../shared/logger';

/** Routes polled by machines or by a contributor's page every few seconds: their lines are debug, not info. */
const POLLED_ROUTES = new Set(['/api/submissions/:id/status', '/healthz', '/readyz']);

/**
 * A child logger per request, and one line when it ends (debug for polled routes, unless they failed). Logged: method, the matched route pattern,
 * status and duration. Not logged: IP address, user agent, headers, query strings, filenames.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    res.locals.requestId = requestId;
    res.locals.log = logger.child({ requestId });
    res.set('X-Request-Id', requestId);
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const level = POLLED_ROUTES.has(route) && res.statusCode < 500 ? 'debug' : 'info';
      (res.locals.log as Logger)[level](
        { method: req.method, route, status: res.statusCode, ms: Math.round(ms), completed: res.writableFinished },
        'request',
      );
    });
    next();
  };
}
