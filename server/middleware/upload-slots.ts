import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../shared/errors';

/** How long a client refused for lack of room is asked to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 30;

/**
 * Caps the uploads received at once (each holds S3 part buffers in memory). Beyond the cap: 503 server_busy
 * with Retry-After, answered at once. A slot is held until the response is done or the connection is gone.
 * Per process on purpose (unlike the per-client limits, in Redis): it guards this process's memory, so N
 * processes take up to N × max uploads at once in all.
 */
export function uploadSlots(max: number) {
  let inFlight = 0;
  const middleware = (_req: Request, res: Response, next: NextFunction): void => {
    if (inFlight >= max) {
      res.set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
      next(
        new AppError('server_busy', 503, 'Many clips are arriving right now. Please try again in a minute.', {
          expected: true,
        }),
      );
      return;
    }
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
    });
    next();
  };
  return Object.assign(middleware, { inFlight: () => inFlight });
}
