import type { Collection, Types } from 'mongoose';
import { leaseCondition, newLease } from './lease';
import { canTransition, isLeased, transitionTarget, type SubmissionState, type TransitionName } from './submission-states';
import type { HistoryEntry, Lease, Processing, Rejection, ReleaseRecord, ReviewSnapshot, StoredObject, Submission, SubmissionModel } from './submission.model';
import type { MediaInfo } from './media-info';
import { syncReviewEntry } from './review-queue';
import { isDuplicateKey } from '../errors';

export class IllegalTransitionError extends Error {}

/** What a transition may change besides the state: typed fields, turned into the update here alone. */
export interface TransitionChanges {
  media?: MediaInfo | null;
  outputs?: Record<string, StoredObject>;
  rejection?: Rejection | null;
  /** The release renders' record (release.ts). */
  release?: ReleaseRecord | null;
  /** The review queue's view at a decision, or what an undo leaves of it (submission.model.ts). */
  review?: ReviewSnapshot | null;
  /** The face-track version the protected preview was drawn with (submission.model.ts). */
  protectedRender?: Submission['protectedRender'];
  processing?: Partial<Omit<Processing, 'lease' | 'attempts'>>;
  /** Counts a new attempt (a claim). */
  countAttempt?: boolean;
}

export interface TransitionRequest {
  name: TransitionName;
  from: SubmissionState;
  /** Who moves it: "upload", "worker", "reconciler", "operator", a moderator's id. */
  by: string;
  reason?: string;
  /**
   * For a leased transition from `processing`: the holder's lease id. Null: applied only if the lease has
   * expired (submission-states.ts, lease.ts). Ignored for every other transition.
   */
  lease?: string | null;
  changes?: TransitionChanges;
  now: Date;
  /** Seconds a new lease lasts, when the transition enters `processing`. */
  leaseSeconds?: number;
}

/** The compare-and-set filter and the update of one transition: pure, so the lease rules are unit-tested. */
export function transitionUpdate(id: Types.ObjectId | string, request: TransitionRequest): { filter: Record<string, unknown>; update: Record<string, unknown>; lease: Lease | null } {
  const { name, from, now, changes = {} } = request;
  if (!canTransition(name, from)) throw new IllegalTransitionError(`${name} cannot start from ${from}`);
  const to = transitionTarget(name);
  const heldLease = isLeased(name, from) ? (request.lease ?? null) : null;
  const filter = { _id: id, status: from, ...(isLeased(name, from) ? leaseCondition(heldLease, now) : {}) };
  // Entering processing takes a fresh lease; leaving it drops the lease.
  const lease = to === 'processing' ? newLease(now, request.leaseSeconds ?? 60) : null;
  const entry: HistoryEntry = {
    transition: name,
    from,
    to,
    at: now,
    by: request.by,
    ...(request.reason ? { reason: request.reason } : {}),
    ...(lease ? { lease: lease.id } : heldLease ? { lease: heldLease } : {}),
  };
  const set: Record<string, unknown> = { status: to, 'processing.lease': lease };
  if (changes.media !== undefined) set.media = changes.media;
  if (changes.outputs !== undefined) set.outputs = changes.outputs;
  if (changes.rejection !== undefined) set.rejection = changes.rejection;
  if (changes.release !== undefined) set.release = changes.release;
  if (changes.review !== undefined) set.review = changes.review;
  if (changes.protectedRender !== undefined) set.protectedRender = changes.protectedRender;
  for (const [field, value] of Object.entries(changes.processing ?? {})) set[`processing.${field}`] = value;
  const update = {
    $set: set,
    $push: { history: entry },
    ...(changes.countAttempt ? { $inc: { 'processing.attempts': 1 } } : {}),
  };
  return { filter, update, lease };
}

/** The collection of transition slots (see `transition`): `{ _id: "<submission id>:<n>", … }`. */
export const TRANSITION_SLOTS = 'submission_transitions';

/** A slot taken by a process that died before its update landed is freed after this long. */
const SLOT_STALE_MS = 30_000;

interface Slot {
  _id: string;
  submissionId: string;
  transition: TransitionName;
  at: Date;
}


/**
 * The one function that changes a submission's state. Applies the named transition from `from` with a
 * compare-and-set update: it only happens if the submission is still in `from` (and, while processing,
 * still under the given lease or past its expiry). Returns the updated submission, or null when it was
 * not (a duplicate or late job lost the race; the caller just stops).
 *
 * FerretDB 1.x applies an update as a read and then a write, not atomically (its SQLite backend; FerretDB
 * issue #3040): measured here, two compare-and-sets racing on one document both succeeded in 29 of 30
 * tries. An insert of an existing `_id` is refused atomically on both databases, so a transition first
 * takes the slot `<id>:<n>` (n: the number of transitions the submission has had, its history's length);
 * of two racing transitions only one gets the slot, and only it updates. A slot whose update did not
 * happen is given back; one left by a process that died in between is freed once stale.
 *
 * Every change of state passes here, so whatever must stay in step with the state goes here too — e.g.
 * the moderators' "waiting for review" collection (review-queue.ts; FerretDB never pushes a sort down, so
 * the queue is kept small and apart): inserted when `to` is `in_review`, deleted when `from` is.
 */
export async function transition(submissions: SubmissionModel, id: Types.ObjectId | string, request: TransitionRequest): Promise<Submission | null> {
  const { filter, update } = transitionUpdate(id, request);
  const current = await submissions.findOne(filter).select({ history: 1 }).lean<Pick<Submission, 'history'>>();
  if (!current) return null;
  const slots = submissions.db.collection<Slot>(TRANSITION_SLOTS);
  const slot: Slot = { _id: `${String(id)}:${current.history.length}`, submissionId: String(id), transition: request.name, at: new Date() };
  if (!(await takeSlot(slots, slot, submissions, id, current.history.length))) return null;
  const moved = await submissions.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<Submission>();
  if (!moved) await slots.deleteOne({ _id: slot._id, at: slot.at });
  else {
    // The moderators' queue follows every move in or out of review (review-queue.ts). If this write
    // fails, the transition stands and the reconciler rebuilds the queue from the submissions.
    await syncReviewEntry(submissions.db, moved, request.from, request.now).catch(() => undefined);
  }
  return moved;
}

async function takeSlot(slots: Collection<Slot>, slot: Slot, submissions: SubmissionModel, id: Types.ObjectId | string, seen: number): Promise<boolean> {
  try {
    await slots.insertOne(slot);
    return true;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  // Taken. By a transition that happened (then the submission has moved on), or by one whose process
  // died before its update: free that slot once it is stale, and try once more.
  const holder = await slots.findOne({ _id: slot._id });
  const still = await submissions.findById(id).select({ history: 1 }).lean<Pick<Submission, 'history'>>();
  if (!holder || !still || still.history.length !== seen || Date.now() - holder.at.getTime() < SLOT_STALE_MS) return false;
  await slots.deleteOne({ _id: slot._id, at: holder.at });
  try {
    await slots.insertOne(slot);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}
