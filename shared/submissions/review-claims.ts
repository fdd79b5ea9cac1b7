import { Types, type Connection, type mongo } from 'mongoose';
import { REVIEW_CLAIMS, REVIEW_QUEUE } from './review-queue';
import { isDuplicateKey } from '../errors';

/**
 * A moderator's claim on a clip in review: a lease (who, until when), so two moderators do not review the
 * same clip at once; a second one sees who has it; it expires by itself.
 *
 * Claims are numbered per clip: `{ _id: "<submission id>:<n>", submissionId, n, by, email, expiresAt }`,
 * and the clip's claim is the one with the highest n. Taking a free clip inserts claim n + 1 (n: the
 * latest, expired, or -1), and an insert of an existing `_id` is refused atomically on MongoDB and on
 * FerretDB alike, so of moderators racing for a clip exactly one wins. (FerretDB 1.24 applies a conditional
 * update or delete as a read then a write: a compare-and-set on one claim document let four of ten racing
 * moderators win a clip whose claim had expired — test/integration/review-queue.test.ts.) Renewing one's
 * own live claim only moves its expiry; earlier claims of the clip are removed once superseded.
 */

export interface ReviewClaim {
  _id: string;
  submissionId: string;
  n: number;
  by: string;
  email: string;
  at: Date;
  expiresAt: Date;
}

export type ClaimResult = { kind: 'claimed'; claim: ReviewClaim; renewed: boolean } | { kind: 'held'; claim: ReviewClaim } | { kind: 'gone' };

function claimsOf(connection: Connection): mongo.Collection<ReviewClaim> {
  return connection.db!.collection<ReviewClaim>(REVIEW_CLAIMS);
}


async function queued(connection: Connection, id: string): Promise<boolean> {
  return (await connection.db!.collection(REVIEW_QUEUE).findOne({ _id: new Types.ObjectId(id) }, { projection: { _id: 1 } })) !== null;
}

function latest(claims: ReviewClaim[]): ReviewClaim | null {
  return claims.reduce<ReviewClaim | null>((best, c) => (!best || c.n > best.n ? c : best), null);
}

async function latestOf(connection: Connection, id: string): Promise<ReviewClaim | null> {
  return latest(await claimsOf(connection).find({ submissionId: id }).toArray());
}

/** Claims a queued clip for `seconds`, or renews the caller's own claim; `held` when someone else has it. */
export async function claimReview(connection: Connection, id: string, who: { id: string; email: string }, now: Date, seconds: number): Promise<ClaimResult> {
  if (!(await queued(connection, id))) return { kind: 'gone' };
  const claims = claimsOf(connection);
  const expiresAt = new Date(now.getTime() + seconds * 1000);
  const current = await latestOf(connection, id);
  let mine: ReviewClaim;
  let renewed = false;
  if (current && current.expiresAt > now) {
    if (current.by !== who.id) return { kind: 'held', claim: current };
    await claims.updateOne({ _id: current._id, by: who.id }, { $set: { expiresAt } });
    mine = { ...current, expiresAt };
    renewed = true;
  } else {
    const n = current ? current.n + 1 : 0;
    mine = { _id: `${id}:${n}`, submissionId: id, n, by: who.id, email: who.email, at: now, expiresAt };
    try {
      await claims.insertOne(mine);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const winner = await latestOf(connection, id);
      return winner ? { kind: 'held', claim: winner } : { kind: 'gone' };
    }
    await claims.deleteMany({ submissionId: id, n: { $lt: n } });
  }
  // The clip may have left review while it was being claimed.
  if (!(await queued(connection, id))) {
    await claims.deleteMany({ submissionId: id });
    return { kind: 'gone' };
  }
  const now2 = await latestOf(connection, id);
  if (now2 && now2._id !== mine._id) return { kind: 'held', claim: now2 };
  return { kind: 'claimed', claim: mine, renewed };
}

/** Gives a claim back (only the holder's). */
export async function releaseReview(connection: Connection, id: string, by: string): Promise<void> {
  const current = await latestOf(connection, id);
  if (current && current.by === by) await claimsOf(connection).updateOne({ _id: current._id, by }, { $set: { expiresAt: new Date(0) } });
}

/** The current (unexpired) claim on a clip, if any. */
export async function claimOf(connection: Connection, id: string, now: Date): Promise<ReviewClaim | null> {
  const claim = await latestOf(connection, id);
  return claim && claim.expiresAt > now ? claim : null;
}

/** The current claims on some clips (a queue page), by clip id. */
export async function claimsFor(connection: Connection, ids: string[], now: Date): Promise<Map<string, ReviewClaim>> {
  if (ids.length === 0) return new Map();
  const byClip = new Map<string, ReviewClaim[]>();
  for (const claim of await claimsOf(connection).find({ submissionId: { $in: ids } }).toArray()) {
    byClip.set(claim.submissionId, [...(byClip.get(claim.submissionId) ?? []), claim]);
  }
  const out = new Map<string, ReviewClaim>();
  for (const [id, claims] of byClip) {
    const current = latest(claims);
    if (current && current.expiresAt > now) out.set(id, current);
  }
  return out;
}
