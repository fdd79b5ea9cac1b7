import { timingSafeEqual } from 'node:crypto';
import { ERRORS, type Upload } from '@tus/utils';
import { AppError, isAppError, storageUnavailable } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { hashStatusToken } from '../services/submission.service';
import { videoTooLarge } from './upload-targets';

/** How the resumable upload (tus-upload.ts) answers: who may ask about an upload, and its refusals as problem+json. */

/** An unknown upload, or one asked about without its status token: the same answer. */
export function uploadNotFound(): AppError {
  return new AppError('upload_not_found', 404, 'No such upload.');
}

/**
 * Only whoever created an upload may look at it, send to it or remove it: every request about an upload after
 * its creation (HEAD, PATCH, DELETE, PUT …/subtitles) carries the status token (`Authorization: Bearer`), whose
 * SHA-256 came with the creation. An upload's id is an ObjectId, which one known id makes easy to guess; without
 * this, anyone could read an upload's metadata (organisation, country, title), append to it or delete it. The
 * same answer, in constant time, for an unknown upload and a wrong token.
 */
export function requireOwner(metadata: Upload['metadata'], statusToken: string): void {
  const expected = Buffer.from(metadata?.statusTokenHash ?? '0'.repeat(64), 'hex');
  const given = Buffer.from(hashStatusToken(statusToken), 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw uploadNotFound();
}

/** An AppError as tus answers it: the same problem+json body the multipart API sends. */
export function tusError(error: unknown): { status_code: number; body: string } {
  const appError = isAppError(error) ? error : storageUnavailable(error);
  return {
    status_code: appError.status,
    body: JSON.stringify({
      type: `urn:solidarity-clips:problem:${appError.code}`,
      title: appError.message,
      status: appError.status,
      code: appError.code,
      ...(appError.details ?? {}),
    }),
  };
}

/** tus's own refusals that a contributor's page (or a client's developer) meets, with the project's codes. */
export function protocolRefusal(error: unknown, config: ServerDeps['config']): AppError | null {
  // A request's body longer than the upload has left: declared (Content-Length), or found while it arrives (chunked).
  if (error === ERRORS.ERR_SIZE_EXCEEDED || (error instanceof Error && (error as { status_code?: number }).status_code === 413)) {
    return new AppError('upload_length_exceeded', 413, 'This request brings more bytes than the upload has left (its Upload-Length).');
  }
  switch (error) {
    case ERRORS.ERR_MAX_SIZE_EXCEEDED:
      return videoTooLarge(config);
    case ERRORS.FILE_NOT_FOUND:
      return uploadNotFound();
    case ERRORS.INVALID_OFFSET:
      return new AppError('upload_offset_mismatch', 409, 'The server holds a different part of this upload: ask where it stands (HEAD) and continue from there.');
    case ERRORS.ERR_LOCK_TIMEOUT:
      // 423: tus clients retry it (a 500 would read as a server fault).
      return new AppError('upload_locked', 423, 'This upload is being received by another request. Please try again in a moment.');
    case ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION:
      return new AppError('concatenation_not_supported', 501, 'Uploads in parallel pieces (Upload-Concat) are not supported: send the clip as one upload.');
    default:
      return null;
  }
}
