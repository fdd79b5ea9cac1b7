import type { RetentionDays } from '../config';
import type { SubmissionState, TransitionName } from './submission-states';
import type { Submission, SubmissionModel } from './submission.model';

/**
 * When a raw original goes. The original still carries GPS, device and time tags; once a moderator has
 * decided, everything later is made from the clean master (worker/steps/transcode.step.ts). It is kept
 * `approvedDays` after approval (a re-render or a dispute may still need it), and `declinedDays` after a
 * rejection (by a moderator or by the worker) or a withdrawal. Clips not yet decided keep theirs.
 */

const DECISIONS: Partial<Record<TransitionName, keyof RetentionDays>> = {
  approved: 'approvedDays',
  moderator_rejected: 'declinedDays',
  media_rejected: 'declinedDays',
  withdrawn: 'declinedDays',
};

/** The states a decided clip can be in: the candidates the retention job reads. */
export const DECIDED_STATES: readonly SubmissionState[] = ['approved', 'releasing', 'released', 'rejected', 'withdrawn'];

const DAY_MS = 24 * 3600 * 1000;

/**
 * When this clip's original is due for deletion: its latest decision (from its history) plus the days for
 * that decision; null while no decision was taken (in review, processing, failed…).
 */
export function originalDueAt(submission: Pick<Submission, 'status' | 'history'>, days: RetentionDays): Date | null {
  if (!DECIDED_STATES.includes(submission.status)) return null;
  const decision = [...submission.history].reverse().find((entry) => DECISIONS[entry.transition] !== undefined);
  if (!decision) return null;
  return new Date(new Date(decision.at).getTime() + days[DECISIONS[decision.transition]!] * DAY_MS);
}

export type RetentionCandidate = Pick<Submission, '_id' | 'status' | 'history'>;

/**
 * Decided clips whose original is still stored, read in pages by id (FerretDB would sort all of them
 * itself; the `_id` order is the natural one). The set stays small: a clip leaves it once its original is gone.
 */
export async function* decidedWithOriginal(submissions: SubmissionModel, pageSize = 200): AsyncGenerator<RetentionCandidate> {
  let after: RetentionCandidate['_id'] | null = null;
  for (;;) {
    const page: RetentionCandidate[] = await submissions
      .find({ status: { $in: DECIDED_STATES }, originalDeletedAt: null, ...(after ? { _id: { $gt: after } } : {}) })
      .sort({ _id: 1 })
      .limit(pageSize)
      .select({ status: 1, history: 1 })
      .lean<RetentionCandidate[]>()
      .exec();
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!._id;
  }
}

/** Records that the original is gone (after its objects were removed); false when it was already recorded. */
export async function markOriginalDeleted(submissions: SubmissionModel, id: RetentionCandidate['_id'], now: Date): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, originalDeletedAt: null }, { $set: { originalDeletedAt: now } });
  return result.modifiedCount === 1;
}
