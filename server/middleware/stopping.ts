import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../shared/errors';

/** Whether this server process is stopping (main.ts sets it on SIGTERM); tests set it by hand. */
export interface Lifecycle {
  stopping: boolean;
}

/** How long a client refused by a stopping server is asked to wait: the load balancer has moved on by then. */
export const STOPPING_RETRY_AFTER_SECONDS = 5;

/**
 * A stopping server (SIGTERM: a rolling restart, a scale-down) takes no new upload and no new part of one: a
 * multipart upload or a resumable upload's creation or PATCH gets 503 `server_stopping` with Retry-After, and the
 * client sends it again — through the load balancer, to another instance (resumable uploads carry on from the
 * offset stored in S3; the campaign page's uploader retries 5xx by itself). Uploads already arriving are left to
 * finish within the shutdown's grace (main.ts). Every answer while stopping closes its connection, so keep-alive
 * clients reconnect elsewhere; /readyz answers 503 (health.routes.ts).
 */
export function refuseWhileStopping(lifecycle: Lifecycle, isUploadRequest: (req: Request) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!lifecycle.stopping) return next();
    res.set('Connection', 'close');
    const startsUpload = isUploadRequest(req) && (req.method === 'POST' || req.method === 'PATCH');
    if (!startsUpload) return next();
    res.set('Retry-After', String(STOPPING_RETRY_AFTER_SECONDS));
    next(new AppError('server_stopping', 503, 'This server is restarting. Please send the clip again in a moment: nothing you sent is lost.', { expected: true }));
  };
}
