import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../shared/logger';

/**
 * A child logger per request, and one line when it ends. Logged: method, the matched route pattern,
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
      (res.locals.log as Logger).info(
        { method: req.method, route, status: res.statusCode, ms: Math.round(ms), completed: res.writableFinished },
        'request',
      );
    });
    next();
  };
}
