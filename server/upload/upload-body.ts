import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StorageEngine } from 'multer';
import { StallWatch } from './stall-watch';

/**
 * What multer reads instead of the request. Two reasons:
 * - multer reports an error only once the whole request has arrived (it drains the rest first). When multer
 *   stops after an error, this stand-in waits until every part the storage engine was storing or removing
 *   has settled (multer itself does not wait when the part's stream failed), then ends: the error is reported
 *   (and answered) with nothing half-stored, without waiting for the rest of the body.
 * - It watches the body arrive (StallWatch): when less than IDLE_MIN_BYTES arrive in the idle time although
 *   the server is ready for more (no back-pressure from S3), the parser is stopped with `upload_stalled`.
 */
class UploadBody extends Transform {
  readonly headers: Request['headers'];
  /** multer fills these; the route reads them from the request once multer is done. */
  body: unknown;
  files: unknown;
  private parser: Writable | undefined;
  private readonly storing = new Set<Promise<void>>();
  private readonly watch: StallWatch;

  constructor(
    private readonly request: Request,
    readonly res: Response,
    idleSeconds: number,
  ) {
    super();
    this.headers = request.headers;
    // Back-pressure (S3 slower than the client) is the server's doing, not a stall.
    this.watch = new StallWatch(idleSeconds, (error) => this.stalled(error), () => this.writableNeedDrain || request.readableEnded || this.destroyed);
    this.once('close', () => this.watch.stop());
    request.once('end', () => this.watch.stop());
    request.once('close', () => {
      if (!request.readableEnded) this.destroy(new Error('Request aborted'));
    });
    request.pipe(this);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.watch.arrive(chunk.length);
    callback(null, chunk);
  }

  /** multer's `streamHandler`: feeds the parser, and notices when multer lets go of it. */
  feed(parser: Writable): void {
    this.parser = parser;
    // multer unpipes when it is done: on success after the last part, on error after its clean-up.
    parser.on('unpipe', () => process.nextTick(() => this.parserLetGo()));
    this.pipe(parser);
  }

  /** Runs a storage engine's work on a part; the body ends only once all of it has settled. */
  track(work: (settled: () => void) => void): void {
    let settled!: () => void;
    const promise = new Promise<void>((resolve) => {
      settled = resolve;
    });
    this.storing.add(promise);
    void promise.then(() => this.storing.delete(promise));
    work(settled);
  }

  private parserLetGo(): void {
    // Ended: the whole body went through, and multer reports without waiting anyway.
    if (this.readableEnded || this.destroyed) return;
    this.request.unpipe(this);
    void (async () => {
      while (this.storing.size > 0) await Promise.allSettled([...this.storing]);
      this.destroy();
    })();
  }

  private stalled(error: Error): void {
    if (this.parser) this.parser.destroy(error);
    else this.destroy(error);
  }
}

/** A storage engine whose work on each part the UploadBody waits for before an error is answered. */
export function settledBeforeAnswer(engine: StorageEngine): StorageEngine {
  return {
    _handleFile(req, file, callback) {
      (req as unknown as UploadBody).track((settled) =>
        engine._handleFile(req, file, (error, info) => {
          callback(error, info);
          settled();
        }),
      );
    },
    _removeFile(req, file, callback) {
      (req as unknown as UploadBody).track((settled) =>
        engine._removeFile(req, file, (error) => {
          callback(error);
          settled();
        }),
      );
    },
  };
}

/** The multer option that makes it read through UploadBody (see `parseThroughUploadBody`). */
export function feedParser(body: unknown, parser: Writable): void {
  (body as UploadBody).feed(parser);
}

/**
 * Runs a multer middleware (built with `streamHandler: feedParser`) over an UploadBody of the request; its
 * fields and files end up on the request as usual.
 */
export function parseThroughUploadBody(parse: RequestHandler, idleSeconds: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const body = new UploadBody(req, res, idleSeconds);
    void parse(body as unknown as Request, res, (error?: unknown) => {
      req.body = body.body;
      (req as { files?: unknown }).files = body.files;
      if (!body.readableEnded && !body.destroyed) {
        req.unpipe(body);
        body.destroy();
      }
      next(error);
    });
  };
}
