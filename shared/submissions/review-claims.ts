import { Types, type Connection, type mongo } from 'mongoose';
import { REVIEW_CLAIMS, REVIEW_QUEUE } from './review-queue';

/**
 * A moderator's claim on a clip in review: a lease (who, until when), so two moderators do not review
 * the same clip at once; a second one sees who has it; it expires by itself.
 *
 * One document per claimed clip, `_id` = the submission's id. Taking a claim is an insert, which both
 * MongoDB and FerretDB refuse atomically when the `_id` exists (FerretDB 1.24 applies a conditional update
 * as a read then a write, so a compare-and-set update could let two moderators win). An expired claim
 * is removed (by its exact holder and expiry) before the insert is tried once more.
 */

export interface ReviewClaim {
  _id: string;
  by: string;
  email: string;
  at: Date;
  expiresAt: Date;
}

export type ClaimResult = { kind: 'claimed'; claim: ReviewClaim; renewed: boolean } | { kind: 'held'; claim: ReviewClaim } | { kind: 'gone' };

function claimsOf(connection: Connection): mongo.Collection<ReviewClaim> {
  return connection.db!.collection<ReviewClaim>(REVIEW_CLAIMS);
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number } | null)?.code === 11000;
}

async function queued(connection: Connection, id: string): Promise<boolean> {
  return (await connection.db!.collection(REVIEW_QUEUE).findOne({ _id: new Types.ObjectId(id) }, { projection: { _id: 1 } })) !== null;
}

async function tryInsert(claims: mongo.Collection<ReviewClaim>, claim: ReviewClaim): Promise<boolean> {
  try {
    await claims.insertOne(claim);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/** Claims a queued clip for `seconds`, or renews the caller's own claim; `held` when someone else has it. */
export async function claimReview(connection: Connection, id: string, who: { id: string; email: string }, now: Date, seconds: number): Promise<ClaimResult> {
  if (!(await queued(connection, id))) return { kind: 'gone' };
  const claims = claimsOf(connection);
  const mine: ReviewClaim = { _id: id, by: who.id, email: who.email, at: now, expiresAt: new Date(now.getTime() + seconds * 1000) };
  let renewed = false;
  if (!(await tryInsert(claims, mine))) {
    const holder = await claims.findOne({ _id: id });
    if (holder && holder.by === who.id) {
      await claims.updateOne({ _id: id, by: who.id }, { $set: { expiresAt: mine.expiresAt } });
      mine.at = holder.at;
      renewed = true;
    } else if (holder && holder.expiresAt > now) {
      return { kind: 'held', claim: holder };
    } else {
      if (holder) await claims.deleteOne({ _id: id, by: holder.by, expiresAt: holder.expiresAt });
      if (!(await tryInsert(claims, mine))) {
        const winner = await claims.findOne({ _id: id });
        return winner ? { kind: 'held', claim: winner } : { kind: 'gone' };
      }
    }
  }
  // The clip may have left review while it was being claimed.
  if (!(await queued(connection, id))) {
    await claims.deleteOne({ _id: id, by: who.id });
    return { kind: 'gone' };
  }
  const current = await claims.findOne({ _id: id });
  if (current && current.by !== who.id) return { kind: 'held', claim: current };
  return { kind: 'claimed', claim: mine, renewed };
}

/** Gives a claim back (only the holder's). */
export async function releaseReview(connection: Connection, id: string, by: string): Promise<void> {
  await claimsOf(connection).deleteOne({ _id: id, by });
}

/** The current (unexpired) claim on a clip, if any. */
export async function claimOf(connection: Connection, id: string, now: Date): Promise<ReviewClaim | null> {
  const claim = await claimsOf(connection).findOne({ _id: id });
  return claim && claim.expiresAt > now ? claim : null;
}

/** The current claims on some clips (a queue page), by clip id. */
export async function claimsFor(connection: Connection, ids: string[], now: Date): Promise<Map<string, ReviewClaim>> {
  if (ids.length === 0) return new Map();
  const found = await claimsOf(connection).find({ _id: { $in: ids } }).toArray();
  return new Map(found.filter((c) => c.expiresAt > now).map((c) => [c._id, c]));
}
