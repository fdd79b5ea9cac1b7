import { Types } from 'mongoose';
import { AppError } from '../errors';
import type { JobQueue } from '../queue/queue';
import type { SubmissionState } from './submission-states';
import { canTransition } from './submission-states';
import type { ReviewSnapshot, Submission, SubmissionModel } from './submission.model';
import { transition, type TransitionRequest } from './transition';

/**
 * The moderators' (and contributors') side of the lifecycle. Each operation is one compare-and-set
 * transition; a moderator who acts on a clip someone else moved meanwhile gets a clear conflict.
 */

const REASON_MAX = 2000;

function notFound(id: string): AppError {
  return new AppError('submission_not_found', 404, `No submission ${id}.`);
}

function conflict(status: SubmissionState, what: string): AppError {
  return new AppError('submission_state_conflict', 409, `This clip is "${status}" now and cannot be ${what}. Reload to see it as it is.`, {
    details: { status },
  });
}

async function load(submissions: SubmissionModel, id: string): Promise<Submission> {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/.test(id)) throw notFound(id);
  const found = await submissions.findById(id).lean<Submission>();
  if (!found) throw notFound(id);
  return found;
}

async function moveFrom(submissions: SubmissionModel, found: Submission, request: Omit<TransitionRequest, 'from' | 'now'>, what: string): Promise<Submission> {
  if (!canTransition(request.name, found.status)) throw conflict(found.status, what);
  const moved = await transition(submissions, found._id, { ...request, from: found.status, now: new Date() });
  if (moved) return moved;
  const now = await submissions.findById(found._id).lean<Submission>();
  throw now ? conflict(now.status, what) : notFound(found._id.toHexString());
}

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0) throw new AppError('reason_required', 400, 'Say why the clip is rejected: the contributor will read it.');
  if (trimmed.length > REASON_MAX) throw new AppError('reason_too_long', 400, `The reason is longer than ${REASON_MAX} characters.`);
  return trimmed;
}

/**
 * A clip in review is approved for release; with `queue`, its release job (the renders) is queued, delayed by
 * `holdSeconds` (RELEASE_HOLD_SECONDS: the approval can be undone meanwhile, `undoApproval`; 0: at once).
 * Should that enqueue fail, the approval stands: the reconciler queues the release of every approved clip
 * without a job (the database is the source of truth). `review`: what the queue knew of the clip (kept for an undo).
 */
export async function approve(
  submissions: SubmissionModel,
  id: string,
  options: { by: string; queue?: Pick<JobQueue, 'enqueue'>; holdSeconds?: number; review?: ReviewSnapshot },
): Promise<Submission> {
  const approved = await moveFrom(submissions, await load(submissions, id), { name: 'approved', by: options.by, ...(options.review ? { changes: { review: options.review } } : {}) }, 'approved');
  // `replace`: a job of an earlier approval (undone) that ran and found nothing to do must not stop this one.
  await options.queue?.enqueue('release-submission', { submissionId: approved._id.toHexString() }, { replace: true, delayMs: (options.holdSeconds ?? 0) * 1000 }).catch(() => undefined);
  return approved;
}

/**
 * Takes an approval back: `approved → in_review` (approval_undone), a compare-and-set like every transition,
 * so of this and the release job's `release_started` only one happens. `review`: what the queue gets back
 * (sensitive, the approvals that remain). Null when the clip is no longer `approved` (its release started).
 * Removing the delayed release job is the caller's; a job that runs anyway finds the clip in review and stops.
 */
export function undoApproval(submissions: SubmissionModel, id: Types.ObjectId, options: { by: string; review: ReviewSnapshot; now: Date }): Promise<Submission | null> {
  return transition(submissions, id, { name: 'approval_undone', from: 'approved', by: options.by, now: options.now, changes: { review: options.review } });
}

/** Takes a moderator's rejection back: `rejected → in_review` (rejection_undone), the rejection cleared. Null when it moved meanwhile. */
export function undoRejection(submissions: SubmissionModel, id: Types.ObjectId, options: { by: string; review: ReviewSnapshot; now: Date }): Promise<Submission | null> {
  return transition(submissions, id, { name: 'rejection_undone', from: 'rejected', by: options.by, now: options.now, changes: { review: options.review, rejection: null } });
}

/**
 * A clip in review is rejected, with a reason the contributor reads on the status page (`template`: the id
 * of the campaign's reason it was written from, kept as a stable code).
 */
export async function reject(submissions: SubmissionModel, id: string, options: { by: string; reason: string; template?: string; review?: ReviewSnapshot }): Promise<Submission> {
  const reason = checkReason(options.reason);
  const rejection = { code: 'moderator_rejected', reason, ...(options.template ? { template: options.template } : {}) };
  return moveFrom(submissions, await load(submissions, id), { name: 'moderator_rejected', by: options.by, reason, changes: { rejection, ...(options.review ? { review: options.review } : {}) } }, 'rejected');
}

/**
 * Withdrawn by the contributor or the campaign, from any state; a worker processing it loses its lease
 * (its settle is refused). Withdrawing a withdrawn clip again changes nothing and is not an error.
 * Removing the clip's objects from S3 is the caller's (shared/storage/keys.ts, submissionPrefixes).
 */
export async function withdraw(submissions: SubmissionModel, id: string, options: { by: string; reason?: string }): Promise<Submission> {
  return (await withdrawFrom(submissions, id, options)).submission;
}

/**
 * The same, saying which state this call withdrew the clip from: null when it was withdrawn already (also by
 * a withdrawal racing this one), so only the call that withdrew it audits and reports it.
 */
export async function withdrawFrom(submissions: SubmissionModel, id: string, options: { by: string; reason?: string }): Promise<{ submission: Submission; from: SubmissionState | null }> {
  for (let tries = 0; tries < 3; tries += 1) {
    const found = await load(submissions, id);
    if (found.status === 'withdrawn') return { submission: found, from: null };
    const moved = await transition(submissions, found._id, { name: 'withdrawn', from: found.status, by: options.by, reason: options.reason, now: new Date() });
    if (moved) return { submission: moved, from: found.status };
  }
  throw conflict((await load(submissions, id)).status, 'withdrawn');
}

/** What a moderator's list shows of a clip: never the contact details or the status token's hash. */
export type ReviewItem = Pick<Submission, '_id' | 'campaignId' | 'status' | 'organisation' | 'country' | 'language' | 'title' | 'message' | 'media' | 'outputs' | 'createdAt'>;

/**
 * A campaign's clips waiting for review, oldest first, a page at a time (`after`: the last item of the
 * previous page), read and sorted from `submissions`. The queue page does not use it: FerretDB sorts every
 * matching document itself (seconds at 100 000); it reads review-queue.ts instead. Kept as the plain
 * reference the queue is compared against (bench:queue).
 */
export async function listForReview(
  submissions: SubmissionModel,
  campaignId: Types.ObjectId | string,
  options: { limit?: number; after?: Pick<ReviewItem, '_id' | 'createdAt'> } = {},
): Promise<ReviewItem[]> {
  const limit = Math.max(1, Math.min(options.limit ?? 25, 100));
  const after = options.after
    ? { $or: [{ createdAt: { $gt: options.after.createdAt } }, { createdAt: options.after.createdAt, _id: { $gt: options.after._id } }] }
    : {};
  return submissions
    .find({ campaignId, status: 'in_review', ...after })
    .sort({ createdAt: 1, _id: 1 })
    .limit(limit)
    .select({ campaignId: 1, status: 1, organisation: 1, country: 1, language: 1, title: 1, message: 1, media: 1, outputs: 1, createdAt: 1 })
    .lean<ReviewItem[]>()
    .exec();
}
