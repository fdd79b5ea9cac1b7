import type { Types } from 'mongoose';
import type { ReleaseRecord, Submission, SubmissionModel } from './submission.model';
import { transition } from './transition';

/**
 * The release's side of the lifecycle: `approved ─release_started→ releasing ─release_finished→ released`.
 * The release job (worker/handlers/release-submission.handler.ts) starts it, renders, stores every output,
 * and only then finishes it: a clip is `released` only with its whole set stored. Withdrawal wins at any
 * point (its transition is allowed from every state); a release that finds the clip withdrawn stops.
 */

type Id = Types.ObjectId | string;

/** States in which the release job still owes the clip its renders (the reconciler re-queues these). */
export const PENDING_RELEASE_STATES = ['approved', 'releasing'] as const;

/** A delayed job may fire this much before the hold ends by the database's clock (clocks of two machines). */
export const HOLD_TOLERANCE_MS = 2_000;

/** When the clip's latest approval was given (its history), or null. */
export function approvedAtOf(submission: Pick<Submission, 'history'>): Date | null {
  const entry = [...submission.history].reverse().find((h) => h.transition === 'approved');
  return entry ? new Date(entry.at) : null;
}

/** When the hold of an approved clip ends: its release may start from then on (RELEASE_HOLD_SECONDS). */
export function holdEndsAt(submission: Pick<Submission, 'history'>, holdSeconds: number): Date | null {
  const at = approvedAtOf(submission);
  return at ? new Date(at.getTime() + holdSeconds * 1000) : null;
}

/**
 * Moves an approved clip to `releasing` (a fresh record; a re-run after a crash finds it `releasing`
 * already and carries on with it). Returns the clip to render, or null when there is nothing to do: it is
 * not approved (an undo took it back to review, a withdrawal), or its approval is still within its hold
 * (`holdSeconds`: a job of an earlier approval firing early; the reconciler queues the release again).
 * The move is a compare-and-set from `approved`: of this and an undo (`approval_undone`) only one happens.
 */
export async function startRelease(submissions: SubmissionModel, id: Id, options: { by: string; now?: Date; holdSeconds?: number }): Promise<Submission | null> {
  for (let tries = 0; tries < 3; tries += 1) {
    const now = options.now ?? new Date();
    const found = await submissions.findById(id).lean<Submission>();
    if (!found || !(PENDING_RELEASE_STATES as readonly string[]).includes(found.status)) return null;
    if (found.status === 'releasing') return found;
    const ends = holdEndsAt(found, options.holdSeconds ?? 0);
    if (ends && ends.getTime() - HOLD_TOLERANCE_MS > now.getTime()) return null;
    const release: ReleaseRecord = { outputs: {}, languages: [], uses: [], credit: false, startedAt: now, finishedAt: null, lastError: null };
    const moved = await transition(submissions, found._id, { name: 'release_started', from: 'approved', by: options.by, now, changes: { release } });
    if (moved) return moved;
  }
  return null;
}

/** Records the complete set and moves the clip to `released`; null when it is no longer `releasing` (withdrawn). */
export async function finishRelease(
  submissions: SubmissionModel,
  found: Submission,
  result: Pick<ReleaseRecord, 'outputs' | 'languages' | 'uses' | 'credit'>,
  options: { by: string; now?: Date },
): Promise<Submission | null> {
  const now = options.now ?? new Date();
  const release: ReleaseRecord = { ...result, startedAt: found.release?.startedAt ?? now, finishedAt: now, lastError: null };
  return transition(submissions, found._id, { name: 'release_finished', from: 'releasing', by: options.by, now, changes: { release } });
}

/** A failed attempt's reason, for staff (the queue retries the job). */
export async function recordReleaseError(submissions: SubmissionModel, id: Id, error: string): Promise<void> {
  await submissions.updateOne({ _id: id, status: 'releasing' }, { $set: { 'release.lastError': error.slice(0, 2000) } });
}

/** Approved or releasing clips not moved since `before` (oldest first), for the reconciler. */
export function findReleasePending(submissions: SubmissionModel, before: Date, limit: number): Promise<Array<Pick<Submission, '_id' | 'status' | 'history'>>> {
  return submissions
    .find({ status: { $in: PENDING_RELEASE_STATES }, updatedAt: { $lt: before } })
    .sort({ updatedAt: 1 })
    .limit(limit)
    .select({ status: 1, history: 1 })
    .lean<Array<Pick<Submission, '_id' | 'status' | 'history'>>>()
    .exec();
}

/**
 * After a withdrawal (worker/handlers/takedown-submission.handler.ts, once the objects are deleted): the
 * clip records no release objects and no outputs (master, previews, poster, captions) any more, so nothing
 * can be linked to or streamed from its record.
 */
export async function markTakenDown(submissions: SubmissionModel, id: Id, now: Date): Promise<boolean> {
  await submissions.updateOne({ _id: id, status: 'withdrawn', release: { $ne: null } }, { $set: { 'release.outputs': {} } });
  const result = await submissions.updateOne({ _id: id, status: 'withdrawn' }, { $set: { takenDownAt: now, outputs: {} } });
  return result.matchedCount === 1;
}

/** Withdrawn clips whose objects are not yet taken down, withdrawn before `before`, for the reconciler. */
export function findNotTakenDown(submissions: SubmissionModel, before: Date, limit: number): Promise<Array<Pick<Submission, '_id'>>> {
  return submissions
    .find({ status: 'withdrawn', takenDownAt: null, updatedAt: { $lt: before } })
    .sort({ updatedAt: 1 })
    .limit(limit)
    .select({ _id: 1 })
    .lean<Array<Pick<Submission, '_id'>>>()
    .exec();
}
