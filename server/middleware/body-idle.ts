import type { Request, RequestHandler } from 'express';
import { AppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { IDLE_MIN_BYTES } from '../upload/stall-watch';
import { closeAfterAnswer, sendProblem } from './error-handler';

/**
 * The idle cut-off for every request body, not only uploads: a client that trickles a body (a byte now and
 * then into `POST /staff/login`) would otherwise hold its connection, and the body parser's memory, for as
 * long as it likes; a few hundred of them are a cheap denial of service. Less than IDLE_MIN_BYTES in one
 * idle period, while the server is waiting for the body (it is not held up: nothing arrived lies unread), is
 * answered 408 `body_stalled` and the connection closed. The upload routes (`skip`) watch their own bodies
 * (upload/stall-watch.ts), telling a stalled client from storage that is slow.
 */
export function bodyIdleCutoff(idleSeconds: number, skip: (req: Request) => boolean): RequestHandler {
  return (req, res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.complete || skip(req)) return next();
    const socket = req.socket;
    let seen = socket.bytesRead;
    const timer = setInterval(() => {
      // Watched until the body has arrived whole, also after an early answer (a refusal, a 401 page): Node keeps
      // reading what follows on a kept-alive connection, so a trickle would hold it open for ever.
      if (req.complete || req.destroyed || socket.destroyed) return stop();
      const arrived = socket.bytesRead - seen;
      seen = socket.bytesRead;
      // Held up by the server: what arrived is waiting to be read, or a reader paused the body.
      const heldUp = !res.headersSent && (req.readableLength > 0 || req.readableFlowing === false);
      if (heldUp || arrived >= IDLE_MIN_BYTES) return;
      stop();
      const error = new AppError('body_stalled', 408, `The request stalled: almost nothing arrived for ${idleSeconds} seconds. Please try again.`);
      (res.locals.log as Logger | undefined)?.info({ code: error.code, status: error.status }, error.message);
      if (res.headersSent) return void socket.destroy();
      closeAfterAnswer(req, res);
      sendProblem(res, error);
    }, idleSeconds * 1000);
    timer.unref();
    const stop = () => clearInterval(timer);
    req.once('end', stop);
    next();
  };
}
