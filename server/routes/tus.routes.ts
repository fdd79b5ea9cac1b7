import { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { rateLimit, type ClientLimits } from '../middleware/rate-limit';
import { uploadSlots } from '../middleware/upload-slots';
import { RedisLocker } from '../upload/redis-locker';
import { TUS_PATH, tusUploads, type TusUploads } from '../upload/tus-upload';

/**
 * The tus endpoint (`/tus`, `/tus/<id>`): creating an upload counts against the same per-client upload
 * limit as the multipart API, every other request against the per-client request limit (as under /api);
 * sending bytes (the clip's, or its subtitle file's) takes an upload slot like a multipart upload does.
 */
export function tusRouter(deps: ServerDeps, limits: ClientLimits): { router: Router; tus: TusUploads } {
  const router = Router();
  const locker = new RedisLocker(deps.redis, { prefix: deps.config.redis.queuePrefix });
  // The lock's subscriber connection ends with the app's Redis connection.
  deps.redis.once('end', () => void locker.close());
  const tus = tusUploads(deps, locker);
  const slots = uploadSlots(deps.config.upload.maxInFlight);
  const handle = (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    tus.server.handle(req, res).catch(next);
  };

  router.post(
    TUS_PATH,
    // The same counter as the multipart API's: one budget of clips per client, whichever way they come.
    rateLimit(limits, {
      name: 'uploads',
      limit: deps.config.rateLimit.uploads,
      windowSeconds: deps.config.rateLimit.windowSeconds,
      message: 'Too many clips from your connection in a short time. Please wait a few minutes and try again.',
      // Without Redis the upload's lock and its queue are away too: refused at once, before any byte is sent.
      whenUnavailable: 'refuse',
    }),
    // A creation may carry the first bytes (tus creation-with-upload): it takes a slot like a PATCH.
    slots,
    handle,
  );
  // HEAD, PATCH, DELETE, the subtitle file: a client resuming in a loop is limited like one asking /api.
  router.use(
    `${TUS_PATH}/:id`,
    rateLimit(limits, {
      name: 'tus-requests',
      limit: deps.config.rateLimit.requests,
      windowSeconds: deps.config.rateLimit.windowSeconds,
      message: 'Too many requests from your connection. Please wait a few minutes and try again.',
      // Let through uncounted, as before: a 503 to a HEAD would make tus-js-client start the whole upload over.
      whenUnavailable: 'allow',
    }),
  );
  // A subtitle file beside an unfinished upload (announced at creation with the metadata `subtitles: follow`).
  router.put(`${TUS_PATH}/:id/subtitles`, slots, async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const id = String(req.params.id);
    const token = /^Bearer ([\w-]{20,200})$/.exec(req.get('authorization') ?? '')?.[1];
    if (!/^[a-f0-9]{24}$/.test(id) || !token) throw new AppError('upload_not_found', 404, 'No such upload.');
    await tus.putSubtitles(id, token, req, Number(req.get('content-length') ?? 0));
    res.status(204).end();
  });
  router.patch(`${TUS_PATH}/:id`, slots, handle);
  router.all(`${TUS_PATH}{/*splat}`, handle);
  return { router, tus };
}
