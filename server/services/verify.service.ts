import { AppError } from '../../shared/errors';
import { newCheckId, VERIFY_ANSWER_SECONDS, type VerifyCheck, type VerifyCheckState } from '../../shared/provenance/verify-check';
import type { VerifyAnswer, VerifyFailure } from '../../shared/provenance/verify-answer';
import { verifyUploadKey } from '../../shared/storage/keys';
import type { ServerDeps } from '../deps';
import { sniffVideoContainer } from '../upload/sniff';

/**
 * The public verification (/verify and /api/verify): a file comes in through the upload engine under a check's
 * random id, a `verify-file` job reads it (worker/handlers/verify-file.handler.ts), and the answer is read back by
 * that id for an hour. The file is never kept: the job removes its object once read; the sweep removes leftovers.
 */

/** What the file may be: a video container, or a JPEG (a release's poster; checked by its signature only). */
export function requireVerifiableFile(head: Buffer): { contentType: string } {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { contentType: 'image/jpeg' };
  if (sniffVideoContainer(head)) return { contentType: 'video/mp4' };
  throw new AppError('unsupported_file_type', 415, 'This file is neither a video nor a JPEG photo. Send the video (MP4, MOV, WebM, MKV…) or the photo as you received it.');
}

export function newVerifyTarget(): { checkId: string; key: string } {
  const checkId = newCheckId();
  return { checkId, key: verifyUploadKey(checkId) };
}

/** Records the check of a stored file and queues its job. Returns the check's id. */
export async function startCheck(deps: Pick<ServerDeps, 'db' | 'queue' | 'now'>, checkId: string, file: { bytes: number; contentType: string }): Promise<string> {
  const now = deps.now();
  await deps.db.verifyChecks.create({
    _id: checkId,
    status: 'waiting',
    bytes: file.bytes,
    contentType: file.contentType,
    createdAt: now,
    // Until the worker answers, the check lives as long as an answer would from now.
    expiresAt: new Date(now.getTime() + VERIFY_ANSWER_SECONDS * 1000),
    failure: null,
    answer: null,
  });
  await deps.queue.enqueue('verify-file', { checkId });
  return checkId;
}

export interface CheckView {
  id: string;
  status: VerifyCheckState;
  answer: VerifyAnswer | null;
  failure: VerifyFailure | null;
}

const CHECK_ID = /^[A-Za-z0-9_-]{22}$/;

/** A check by its id, or a 404 when there is none or it expired (the same answer: an id says nothing). */
export async function readCheck(deps: Pick<ServerDeps, 'db' | 'now'>, id: string): Promise<CheckView> {
  const gone = new AppError('check_not_found', 404, 'There is no such check, or its answer has expired (answers are kept for an hour). Send the file again.');
  if (!CHECK_ID.test(id)) throw gone;
  const check = await deps.db.verifyChecks.findById(id).lean<VerifyCheck>();
  if (!check || check.expiresAt.getTime() <= deps.now().getTime()) throw gone;
  return { id: check._id, status: check.status, answer: (check.answer as VerifyAnswer | null) ?? null, failure: (check.failure as VerifyFailure | null) ?? null };
}
