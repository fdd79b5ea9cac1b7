import type { NextFunction, Request, Response } from 'express';
import { AppError, isAppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

/** The one error middleware: every error becomes application/problem+json (RFC 9457) with a stable `code`. */
export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const log: Logger = (res.locals.log as Logger | undefined) ?? logger;
    if (clientWentAway(error, res)) {
      // A player that seeks drops its range request mid-answer: nothing went wrong on our side.
      log.debug({ code: 'client_went_away' }, 'the client closed the connection before the answer was sent');
      return;
    }
    const appError = isAppError(error)
      ? error
      : new AppError('internal_error', 500, 'Something went wrong on our side. Please try again later.', {
          expected: false,
          cause: error,
        });
    if (appError.expected) log.info({ code: appError.code, status: appError.status }, appError.message);
    else log.error({ code: appError.code, err: isAppError(error) ? (error.cause ?? error) : error }, appError.message);

    // Already answered, or the client left (an aborted upload): nothing to send.
    if (res.headersSent || res.destroyed) return;
    if (bodyStillComing(req)) closeAfterAnswer(req, res);
    sendProblem(res, appError);
  };
}

function clientWentAway(error: unknown, res: Response): boolean {
  return !isAppError(error) && res.destroyed && (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function bodyStillComing(req: Request): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return hasBody && !req.readableEnded;
}

/**
 * A refusal while the body is still on its way is answered at once and the connection closed, so a phone on a
 * slow network stops sending. What it sends meanwhile is read and dropped (so it can read the answer); Node
 * closes the connection once the answer is out, and a client that lingers is cut after a moment.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  res.set('Connection', 'close');
  // A lingering close: Node destroys a `Connection: close` socket as soon as the answer is written, and a
  // client still sending then gets a reset that can swallow the answer it has not read yet (seen as EPIPE).
  // Half-close instead (our side is done), keep reading and dropping what still comes, cut after a moment.
  const socket = req.socket;
  socket.destroySoon = () => void socket.end();
  res.once('finish', () => {
    req.resume();
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

export function sendProblem(res: Response, error: AppError): void {
  res
    .status(error.status)
    .type('application/problem+json')
    .json({
      type: `urn:solidarity-clips:problem:${error.code}`,
      title: error.message,
      status: error.status,
      code: error.code,
      ...(error.details ?? {}),
      requestId: res.locals.requestId as string | undefined,
    });
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction) {
  next(new AppError('not_found', 404, 'There is nothing at this address.'));
}
