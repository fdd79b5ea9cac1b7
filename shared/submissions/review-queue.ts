import { Schema, type Connection, type Model, type mongo, Types } from 'mongoose';
import type { Submission, SubmissionModel } from './submission.model';
import { isDuplicateKey } from '../errors';
import { UNDO_TRANSITIONS } from './submission-states';

/**
 * The moderators' queue: one small document per clip in `in_review`, kept in step by `transition()`
 * (transition.ts: inserted when a clip enters `in_review`, removed when it leaves) and rebuilt from the
 * submissions by `reconcileReviewQueue` (the worker's reconciler, every minute) if it ever drifts.
 *
 * Why a collection of its own: FerretDB 1.24 never pushes a sort down, nor a limit after a filter, so a
 * sorted, filtered page read from `submissions` costs the whole collection (7.5 s at 100 000 documents).
 * Sorting what is waiting costs what is waiting. The entry holds what the queue page shows, so a page is
 * one query on this collection. Its indexes are the ones a real MongoDB would use for the same query.
 */

export const REVIEW_QUEUE = 'review_queue';

export interface ReviewVote {
  by: string;
  email: string;
  at: Date;
}

export interface ReviewEntry {
  /** The submission's id. */
  _id: Types.ObjectId;
  campaignId: Types.ObjectId;
  language: string;
  country: string;
  organisation: string;
  title: string;
  durationSeconds: number | null;
  receivedAt: Date;
  /** When the clip entered review: the queue's order (oldest first) and its "time in queue". */
  enteredAt: Date;
  /** The contributor asked for protection when sending the clip. */
  protectionRequested: boolean;
  /** Needs two moderators' approvals: the contributor's request, or a checklist answer. */
  sensitive: boolean;
  /** Approvals so far of a sensitive clip (the second one, by someone else, approves it). */
  approvals: ReviewVote[];
}

export const reviewEntrySchema = new Schema<ReviewEntry>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    campaignId: { type: Schema.Types.ObjectId, required: true },
    language: { type: String, required: true },
    country: { type: String, required: true },
    organisation: { type: String, required: true },
    title: { type: String, required: true },
    durationSeconds: { type: Number, default: null },
    receivedAt: { type: Date, required: true },
    enteredAt: { type: Date, required: true },
    protectionRequested: { type: Boolean, default: false },
    sensitive: { type: Boolean, default: false },
    approvals: { type: [new Schema<ReviewVote>({ by: String, email: String, at: Date }, { _id: false })], default: [] },
  },
  { collection: REVIEW_QUEUE, strict: 'throw', versionKey: false },
);

// What a real MongoDB would use: a campaign's queue and the unfiltered queue, both in queue order.
reviewEntrySchema.index({ campaignId: 1, enteredAt: 1, _id: 1 });
reviewEntrySchema.index({ enteredAt: 1, _id: 1 });
reviewEntrySchema.index({ language: 1, enteredAt: 1 });
reviewEntrySchema.index({ country: 1, enteredAt: 1 });

export type ReviewEntryModel = Model<ReviewEntry>;

export function reviewEntryModel(connection: Connection): ReviewEntryModel {
  return connection.model<ReviewEntry>('ReviewEntry', reviewEntrySchema);
}

/** Whether the clip's last move was a moderator's undo (it came back to review from a decision). */
function undone(submission: Pick<Submission, 'history'>): boolean {
  const last = submission.history.at(-1);
  return last !== undefined && UNDO_TRANSITIONS.includes(last.transition);
}

/**
 * The entry of a clip that has just entered review. One back from an undone decision takes its place in the
 * queue again (when it first entered review) and what the queue knew of it then (sensitive, the approvals
 * left: `submission.review`).
 */
export function reviewEntryFor(submission: Submission, enteredAt: Date): ReviewEntry {
  const back = undone(submission) ? (submission.review ?? null) : null;
  return {
    _id: submission._id,
    campaignId: submission.campaignId,
    language: submission.language,
    country: submission.country,
    organisation: submission.organisation,
    title: submission.title,
    durationSeconds: submission.media?.durationSeconds ?? null,
    receivedAt: submission.createdAt,
    enteredAt: undone(submission) ? enteredReviewAt(submission) : enteredAt,
    protectionRequested: submission.protectionRequested === true,
    sensitive: submission.protectionRequested === true || back?.sensitive === true,
    approvals: (back?.approvals ?? []).map((v) => ({ by: v.by, email: v.email, at: new Date(v.at) })),
  };
}

/** When a submission entered `in_review`: its last history entry that led there (an undo puts it back where it was). */
function enteredReviewAt(submission: Pick<Submission, 'history' | 'updatedAt'>): Date {
  const entry = [...submission.history].reverse().find((h) => h.to === 'in_review' && !UNDO_TRANSITIONS.includes(h.transition));
  return entry?.at ?? submission.updatedAt;
}


function queueOf(connection: Connection): mongo.Collection<ReviewEntry> {
  return connection.db!.collection<ReviewEntry>(REVIEW_QUEUE);
}

/**
 * Keeps the queue in step with one transition that happened (called by `transition()` only). A failure
 * here does not undo the transition: `reconcileReviewQueue` repairs the queue within a minute.
 */
export async function syncReviewEntry(connection: Connection, moved: Submission, from: string, at: Date): Promise<void> {
  const queue = queueOf(connection);
  if (moved.status === 'in_review') {
    try {
      await queue.insertOne(reviewEntryFor(moved, at));
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  } else if (from === 'in_review') {
    await queue.deleteOne({ _id: moved._id });
    await connection.db!.collection(REVIEW_CLAIMS).deleteMany({ submissionId: moved._id.toHexString() });
  }
}

/** Moderators' claims: `{ _id: "<submission id>:<n>", submissionId, n, by, email, expiresAt }` (see review-claims.ts). */
export const REVIEW_CLAIMS = 'review_claims';

const ENTRY_FIELDS = { _id: 1, campaignId: 1, language: 1, country: 1, organisation: 1, title: 1, media: 1, createdAt: 1, updatedAt: 1, history: 1, protectionRequested: 1, status: 1, review: 1 } as const;

/**
 * Rebuilds the queue from the submissions (the source of truth): adds the clips in `in_review` it lacks,
 * removes entries of clips that are no longer in review, and claims of clips no longer queued. The clips in
 * review are read again before anything is removed, so a transition that happened meanwhile is not undone
 * (two reads of `{ status }`, an equality FerretDB pushes down; no read per clip). Returns what it changed.
 */
export async function reconcileReviewQueue(submissions: SubmissionModel): Promise<{ added: number; removed: number }> {
  const connection = submissions.db;
  const queue = queueOf(connection);
  const readInReview = async () => new Set((await submissions.find({ status: 'in_review' }).select({ _id: 1 }).lean<{ _id: Types.ObjectId }[]>()).map((s) => s._id.toHexString()));
  const inReview = await submissions.find({ status: 'in_review' }).select(ENTRY_FIELDS).lean<Submission[]>();
  const queued = new Set((await queue.find({}, { projection: { _id: 1 } }).toArray()).map((e) => e._id.toHexString()));
  const reviewIds = new Set(inReview.map((s) => s._id.toHexString()));
  const inserted: Types.ObjectId[] = [];
  for (const submission of inReview) {
    if (queued.has(submission._id.toHexString())) continue;
    try {
      await queue.insertOne(reviewEntryFor(submission, enteredReviewAt(submission)));
      inserted.push(submission._id);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  const extra = [...queued].filter((id) => !reviewIds.has(id)).map((id) => new Types.ObjectId(id));
  if (inserted.length === 0 && extra.length === 0) return { added: 0, removed: 0 };
  // Read again: what left review after the first read goes; what entered it after (an "extra") stays.
  const now = await readInReview();
  let removed = 0;
  let added = inserted.length;
  for (const id of inserted) {
    if (now.has(id.toHexString())) continue;
    await queue.deleteOne({ _id: id });
    added -= 1;
  }
  for (const id of extra) {
    if (now.has(id.toHexString())) continue;
    await queue.deleteOne({ _id: id });
    removed += 1;
  }
  const claims = connection.db!.collection<{ _id: string; submissionId: string }>(REVIEW_CLAIMS);
  const left = new Set((await queue.find({}, { projection: { _id: 1 } }).toArray()).map((e) => e._id.toHexString()));
  for (const claim of await claims.find({}, { projection: { _id: 1, submissionId: 1 } }).toArray()) {
    if (!left.has(claim.submissionId)) await claims.deleteOne({ _id: claim._id });
  }
  return { added, removed };
}

export interface QueueFilter {
  /** Campaigns the moderator may see (null: all), and the one picked in the filter, if any. */
  campaignIds: Types.ObjectId[] | null;
  language?: string;
  country?: string;
  organisation?: string;
  /** Only clips waiting at least this long. */
  minWaitMinutes?: number;
}

export interface QueueCursor {
  enteredAt: Date;
  id: Types.ObjectId;
}

export function encodeCursor(entry: Pick<ReviewEntry, 'enteredAt' | '_id'>): string {
  return Buffer.from(`${entry.enteredAt.getTime()}.${entry._id.toHexString()}`).toString('base64url');
}

/** A cursor from a query string, or null when it is not one this code made. */
export function decodeCursor(text: string): QueueCursor | null {
  const match = /^(\d{1,15})\.([0-9a-f]{24})$/.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match) return null;
  return { enteredAt: new Date(Number(match[1])), id: new Types.ObjectId(match[2]) };
}

/**
 * A page of the queue, oldest in review first; `after`: the cursor of the previous page's last entry.
 * Returns the entries and the cursor of the next page (null on the last).
 */
export async function listReviewQueue(
  queue: ReviewEntryModel,
  filter: QueueFilter,
  options: { limit: number; after?: QueueCursor | null; now: Date },
): Promise<{ entries: ReviewEntry[]; next: string | null }> {
  const query: Record<string, unknown> = {};
  if (filter.campaignIds) query.campaignId = filter.campaignIds.length === 1 ? filter.campaignIds[0] : { $in: filter.campaignIds };
  if (filter.language) query.language = filter.language;
  if (filter.country) query.country = filter.country;
  if (filter.organisation) query.organisation = filter.organisation;
  const entered: Record<string, Date> = {};
  if (filter.minWaitMinutes) entered.$lte = new Date(options.now.getTime() - filter.minWaitMinutes * 60_000);
  if (options.after) {
    query.$or = [{ enteredAt: { ...entered, $gt: options.after.enteredAt } }, { enteredAt: options.after.enteredAt, _id: { $gt: options.after.id } }];
    if (entered.$lte) query.enteredAt = entered;
  } else if (entered.$lte) query.enteredAt = entered;
  const found = await queue
    .find(query)
    .sort({ enteredAt: 1, _id: 1 })
    .limit(options.limit + 1)
    .lean<ReviewEntry[]>();
  const entries = found.slice(0, options.limit);
  return { entries, next: found.length > options.limit ? encodeCursor(entries.at(-1)!) : null };
}

/** The distinct values the filters offer (from what is waiting, so small). */
export async function queueFacets(queue: ReviewEntryModel, campaignIds: Types.ObjectId[] | null): Promise<{ languages: string[]; countries: string[]; organisations: string[] }> {
  const query = campaignIds ? { campaignId: { $in: campaignIds } } : {};
  const entries = await queue.find(query).select({ language: 1, country: 1, organisation: 1 }).lean<Pick<ReviewEntry, 'language' | 'country' | 'organisation'>[]>();
  const sorted = (values: string[]) => [...new Set(values)].sort((a, b) => a.localeCompare(b));
  return {
    languages: sorted(entries.map((e) => e.language)),
    countries: sorted(entries.map((e) => e.country)),
    organisations: sorted(entries.map((e) => e.organisation)),
  };
}
