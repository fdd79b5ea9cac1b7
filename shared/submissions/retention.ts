import type { RetentionDays } from '../config';
import type { SubmissionState, TransitionName } from './submission-states';
import type { Submission, SubmissionModel } from './submission.model';
import { isProtected } from '../protection/protection';

/**
 * When a raw original goes. The original still carries GPS, device and time tags; once a moderator has
 * decided, everything later is made from the clean master (worker/steps/transcode.step.ts). It is kept
 * `approvedDays` after approval (a re-render or a dispute may still need it), and `declinedDays` after a
 * rejection (by a moderator or by the worker). A withdrawal's takedown deletes it at once (worker/handlers/
 * takedown-submission.handler.ts); `declinedDays` after a withdrawal is only the backstop for a takedown that
 * never ran. Clips not yet decided keep theirs.
 *
 * A rejected clip's outputs (preview, captioned previews, poster, clean subtitles, master) and its caption
 * versions (the contributor's words) go at the same moment: nothing will be made from them, and some
 * contributors are at personal risk. A withdrawn clip's went with its takedown already. Approved and
 * released clips keep theirs: the master is the renders' source (a re-render, a campaign's new end card)
 * and moderators still watch the preview; they go only with a withdrawal.
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
 * How long after its takedown a withdrawn clip is still checked for objects left behind (worker/retention.ts):
 * the declined period (at least a day), far longer than a release job's retries.
 */
export function takedownRecheckSince(now: Date, days: RetentionDays): Date {
  return new Date(now.getTime() - Math.max(days.declinedDays, 1) * DAY_MS);
}

/**
 * When this clip's original is due for deletion: its latest decision (from its history) plus the days for
 * that decision; null while no decision was taken (in review, processing, failed…).
 */
export function originalDueAt(submission: Pick<Submission, 'status' | 'history' | 'protection'>, days: RetentionDays): Date | null {
  if (!DECIDED_STATES.includes(submission.status)) return null;
  const decision = [...submission.history].reverse().find((entry) => DECISIONS[entry.transition] !== undefined);
  if (!decision) return null;
  // A protected clip's unprotected objects (its original and clean master) go soon after approval: every render is made from the protected master.
  const kind = decision.transition === 'approved' && isProtected(submission.protection) ? 'protectedDays' : DECISIONS[decision.transition]!;
  return new Date(new Date(decision.at).getTime() + days[kind] * DAY_MS);
}

export type RetentionCandidate = Pick<Submission, '_id' | 'status' | 'history' | 'originalDeletedAt' | 'mediaDeletedAt' | 'takenDownAt' | 'protection' | 'personalDataClearedAt'>;

/** Whether the retention job also deletes this clip's outputs and caption versions when its original goes. */
export const mediaGoesWithOriginal = (candidate: Pick<Submission, 'status'>): boolean => candidate.status === 'rejected';

/**
 * The retention job's candidates: decided clips whose original is still stored, rejected clips whose outputs
 * are (one rejected before outputs went with the original), and withdrawn clips taken down since
 * `takenDownSince` (checked again for what a late release attempt stored: worker/retention.ts, whatever
 * became of their original). Read in pages by id (FerretDB would sort all of them itself; the `_id` order
 * is the natural one). The set stays small: a clip leaves it once its original and media are gone and its
 * takedown is older than the window.
 */
export async function* retentionCandidates(submissions: SubmissionModel, takenDownSince: Date, pageSize = 200): AsyncGenerator<RetentionCandidate> {
  let after: RetentionCandidate['_id'] | null = null;
  for (;;) {
    const page: RetentionCandidate[] = await submissions
      .find({
        status: { $in: DECIDED_STATES },
        $or: [
          { originalDeletedAt: null },
          { status: 'rejected', mediaDeletedAt: null },
          { status: 'withdrawn', takenDownAt: { $gte: takenDownSince } },
          // Declined clips stored before their personal data was cleared with the media.
          { status: { $in: PERSONAL_DATA_CLEARED_IN }, personalDataClearedAt: null },
        ],
        ...(after ? { _id: { $gt: after } } : {}),
      })
      .sort({ _id: 1 })
      .limit(pageSize)
      .select({ status: 1, history: 1, originalDeletedAt: 1, mediaDeletedAt: 1, takenDownAt: 1, protection: 1, personalDataClearedAt: 1 })
      .lean<RetentionCandidate[]>()
      .exec();
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!._id;
  }
}

/**
 * Records that a protected clip's unprotected objects are gone (its original, and its clean master, removed from
 * the record); false when it was already recorded. Its protected master stays as the renders' source.
 */
export async function markUnprotectedDeleted(submissions: SubmissionModel, id: RetentionCandidate['_id'], now: Date): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, originalDeletedAt: null }, { $set: { originalDeletedAt: now }, $unset: { 'outputs.master': 1 } });
  return result.modifiedCount === 1;
}

/** Records that the original is gone (after its objects were removed); false when it was already recorded. */
export async function markOriginalDeleted(submissions: SubmissionModel, id: RetentionCandidate['_id'], now: Date): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, originalDeletedAt: null }, { $set: { originalDeletedAt: now } });
  return result.modifiedCount === 1;
}

/**
 * Records that a rejected clip's outputs and caption versions are gone (after their objects were removed) and
 * clears them from the record, so the review page opens without media; false when it was already recorded.
 */
export async function markMediaDeleted(submissions: SubmissionModel, id: RetentionCandidate['_id'], now: Date): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, status: 'rejected', mediaDeletedAt: null }, { $set: { mediaDeletedAt: now, outputs: {} } });
  return result.modifiedCount === 1;
}

/** The states whose clips lose the contributor's personal data: nothing more will be made or shown of them. */
export const PERSONAL_DATA_CLEARED_IN: readonly SubmissionState[] = ['rejected', 'withdrawn'];

/**
 * What a declined clip keeps of the contributor's form once its media is gone: the campaign, country,
 * language, consent (version, language, statements), dates, states and history, which the tallies and
 * the audit need. The organisation, title, message and contact address go (some contributors are at
 * personal risk, and nothing will be made or shown of the clip any more).
 */
export const CLEARED_PERSONAL_DATA = { organisation: '', title: '', message: '', contactEmail: null } as const;

/** Clears a withdrawn or rejected clip's personal data (at its takedown, or with a rejected clip's media); false when already done. */
export async function clearPersonalData(submissions: SubmissionModel, id: RetentionCandidate['_id'] | string, now: Date): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, status: { $in: PERSONAL_DATA_CLEARED_IN }, personalDataClearedAt: null }, { $set: { ...CLEARED_PERSONAL_DATA, personalDataClearedAt: now } });
  return result.modifiedCount === 1;
}
