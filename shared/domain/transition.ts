import type { Types } from 'mongoose';
import type { Submission, SubmissionModel } from '../models/submission.model';
import { canTransition, transitionTarget, type SubmissionState, type TransitionName } from './submission-states';

export class IllegalTransitionError extends Error {}

/**
 * Moves a submission from `from` through the named transition, with a compare-and-set update: it only
 * happens if the submission is still in `from`. Returns the updated submission, or null when it was not
 * in `from` any more (a duplicate or late job lost the race; the caller just stops).
 */
export async function transition(
  submissions: SubmissionModel,
  id: Types.ObjectId | string,
  name: TransitionName,
  from: SubmissionState,
  options: { by: string; reason?: string; set?: Record<string, unknown>; inc?: Record<string, number> },
): Promise<Submission | null> {
  if (!canTransition(name, from)) throw new IllegalTransitionError(`${name} cannot start from ${from}`);
  const to = transitionTarget(name);
  const entry = { transition: name, from, to, at: new Date(), by: options.by, ...(options.reason ? { reason: options.reason } : {}) };
  return submissions
    .findOneAndUpdate(
      { _id: id, status: from },
      {
        $set: { status: to, ...(options.set ?? {}) },
        $push: { history: entry },
        ...(options.inc ? { $inc: options.inc } : {}),
      },
      { returnDocument: 'after' },
    )
    .lean<Submission>();
}
