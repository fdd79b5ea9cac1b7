import { AppError } from '../../shared/errors';
import { releaseJobId } from '../../shared/queue/queue';
import { undoApproval, undoRejection } from '../../shared/submissions/moderation';
import type { ReviewEntry } from '../../shared/submissions/review-queue';
import { originalDueAt } from '../../shared/submissions/retention';
import type { ReviewSnapshot, Submission } from '../../shared/submissions/submission.model';
import { appendAudit } from './audit.service';
import { loadInScope, type Moderator, type ReviewDeps as Deps } from './review.service';

/**
 * Undo: a moderator takes back their own last decision on a clip (approval, first approval of a sensitive clip,
 * rejection) while nothing of it has left the system. The release waits RELEASE_HOLD_SECONDS for this.
 */

/**
 * A rejection is not undone this close to the moment its media and personal data are due for deletion (the
 * retention job, every minute): an undo and that deletion must never both happen.
 */
export const REJECTION_UNDO_MARGIN_MS = 10 * 60_000;

export type UndoKind = 'approved' | 'vote' | 'rejected';

const nothingToUndo = (status: string) =>
  new AppError('nothing_to_undo', 409, `There is no decision of yours on this clip to undo: it is "${status}" now.`, { details: { status } });
const undoNotYours = () => new AppError('undo_not_yours', 409, 'Only the moderator who made this decision can undo it.');
const releaseStarted = (status: string) =>
  new AppError('undo_release_started', 409, 'The release of this clip has started: its approval can no longer be undone. Withdraw the clip if it must not be shared.', { details: { status } });
const rejectionFinal = () =>
  new AppError('undo_rejection_final', 409, 'This rejection can no longer be undone: the clip\'s media and the contributor\'s details are deleted, or about to be.');

/** The moderator's own last decision on this clip, if it can still be undone (the notice offers "Undo" then). */
export async function undoable(deps: Deps, me: Moderator, submission: Submission): Promise<UndoKind | null> {
  const last = submission.history.at(-1);
  if (submission.status === 'approved') return last?.transition === 'approved' && last.by === me.id && !submission.originalDeletedAt ? 'approved' : null;
  if (submission.status === 'rejected') return last?.transition === 'moderator_rejected' && last.by === me.id && !rejectionIsFinal(deps, submission) ? 'rejected' : null;
  if (submission.status === 'in_review') {
    const entry = await deps.db.reviewQueue.findById(submission._id).lean<ReviewEntry>();
    return entry?.approvals.some((v) => v.by === me.id) ? 'vote' : null;
  }
  return null;
}

function rejectionIsFinal(deps: Deps, submission: Submission): boolean {
  if (submission.originalDeletedAt || submission.mediaDeletedAt || submission.personalDataClearedAt) return true;
  const due = deps.retention ? originalDueAt(submission, deps.retention) : null;
  return due !== null && due.getTime() - deps.now().getTime() < REJECTION_UNDO_MARGIN_MS;
}

/**
 * The clip's state after this undo lost its compare-and-set: the winner (the release job's start, a withdrawal)
 * took the transition slot first and lands its update a moment later, so the state is read until it moved
 * (for at most a second).
 */
async function statusAfterLostMove(deps: Deps, before: Submission): Promise<string> {
  for (let tries = 0; ; tries += 1) {
    const now = await deps.db.submissions.findById(before._id).select({ status: 1 }).lean<Pick<Submission, 'status'>>();
    if (!now) return 'withdrawn';
    if (now.status !== before.status || tries >= 20) return now.status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Takes back the moderator's own last decision on a clip of their campaigns, while nothing has left the system:
 * - an approval, until its release starts (the release waits RELEASE_HOLD_SECONDS in a delayed job): the clip
 *   goes back to review where it was in the queue, with the approvals it had less this one; the job is removed.
 *   `approval_undone` and the release job's `release_started` are both compare-and-sets from `approved`: one wins.
 * - a first approval of a sensitive clip (a vote): withdrawn, the clip stays in review.
 * - a rejection, until its media are nearly due for deletion (the contributor's status page then says "in review").
 * Anything else is refused with the reason (409). Every undo is audited.
 */
export async function undoDecision(deps: Deps, me: Moderator, id: string): Promise<UndoKind> {
  const { submission } = await loadInScope(deps.db, me, id);
  const now = deps.now();
  const last = submission.history.at(-1);
  const audit = (undid: UndoKind, details: Record<string, string | number | boolean> = {}) =>
    appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'undo', target: { kind: 'submission', id }, details: { undid, ...details } }, now);
  const remaining = (snapshot: ReviewSnapshot | null | undefined): ReviewSnapshot => ({
    sensitive: snapshot?.sensitive ?? false,
    approvals: (snapshot?.approvals ?? []).filter((v) => v.by !== me.id),
  });
  switch (submission.status) {
    case 'approved': {
      if (last?.transition !== 'approved') throw nothingToUndo(submission.status);
      if (last.by !== me.id) throw undoNotYours();
      // Retention acted on the approval already (a release that never started, long after its hold): too late.
      if (submission.originalDeletedAt) throw new AppError('undo_original_deleted', 409, 'The original of this clip was deleted after its approval: the approval can no longer be undone.');
      const moved = await undoApproval(deps.db.submissions, submission._id, { by: me.id, review: remaining(submission.review), now });
      if (!moved) {
        const status = await statusAfterLostMove(deps, submission);
        throw status === 'releasing' || status === 'released' ? releaseStarted(status) : nothingToUndo(status);
      }
      // The delayed job goes; should it have been taken meanwhile, it finds the clip in review and stops.
      const job = (await deps.queue?.cancel?.(releaseJobId(id)).catch(() => 'unknown')) ?? 'unknown';
      await audit('approved', { releaseJob: job });
      return 'approved';
    }
    case 'releasing':
    case 'released':
      throw releaseStarted(submission.status);
    case 'rejected': {
      if (last?.transition !== 'moderator_rejected') throw nothingToUndo(submission.status);
      if (last.by !== me.id) throw undoNotYours();
      if (rejectionIsFinal(deps, submission)) throw rejectionFinal();
      const moved = await undoRejection(deps.db.submissions, submission._id, { by: me.id, review: remaining(submission.review), now });
      if (!moved) throw nothingToUndo(await statusAfterLostMove(deps, submission));
      await audit('rejected');
      return 'rejected';
    }
    case 'in_review': {
      // Read, then written back without this vote (FerretDB 1.24 matches no `$pull` by a field of an array element).
      const entry = await deps.db.reviewQueue.findById(submission._id).lean<ReviewEntry>();
      if (!entry?.approvals.some((v) => v.by === me.id)) throw nothingToUndo(submission.status);
      const pulled = await deps.db.reviewQueue.updateOne({ _id: submission._id }, { $set: { approvals: entry.approvals.filter((v) => v.by !== me.id) } });
      if (pulled.matchedCount === 0) throw nothingToUndo(submission.status);
      // A second approval that read this vote before it went may have approved the clip meanwhile: say so.
      const after = await deps.db.submissions.findById(submission._id).select({ status: 1 }).lean<Pick<Submission, 'status'>>();
      if (after && after.status !== 'in_review') {
        await audit('vote', { overtaken: after.status });
        throw new AppError('undo_overtaken', 409, `A second moderator approved this clip before your undo: it is "${after.status}" now. They can undo their approval until its release starts.`, { details: { status: after.status } });
      }
      await audit('vote');
      return 'vote';
    }
    default:
      throw nothingToUndo(submission.status);
  }
}
