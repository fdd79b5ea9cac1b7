import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { AppError } from '../../shared/errors';
import type { ObjectStorage } from '../../shared/storage/object-storage';

const RANGE = /^bytes=\d*-\d*$/;

/**
 * Streams a stored object to a staff page's player (review media, captioned previews): through the server,
 * never a link to S3 (the pages' CSP allows this origin only); one byte range when asked (seeking), a range
 * outside the file is a 416, an object no longer there (taken down meanwhile) a 404 — never a server error.
 */
export async function streamStoredObject(req: Request, res: Response, storage: Pick<ObjectStorage, 'read'>, stored: { key: string; contentType: string }, gone: () => AppError): Promise<void> {
  const range = req.get('range');
  const read = await storage.read(stored.key, range && RANGE.test(range) ? range : undefined).catch((error: unknown) => {
    const name = (error as { name?: string }).name;
    if (name === 'InvalidRange') throw new AppError('range_not_satisfiable', 416, 'That range is outside the file.');
    if (name === 'NoSuchKey' || name === 'NotFound') throw gone();
    throw error;
  });
  res.status(read.status).set({ 'Content-Type': stored.contentType, 'Accept-Ranges': 'bytes', 'Cache-Control': 'private, no-store', 'X-Content-Type-Options': 'nosniff' });
  if (read.contentLength !== undefined) res.set('Content-Length', String(read.contentLength));
  if (read.contentRange) res.set('Content-Range', read.contentRange);
  await pipeline(read.body, res);
}
