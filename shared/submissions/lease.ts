import { randomBytes } from 'node:crypto';
import type { Lease } from './submission.model';

/**
 * The processing lease: a worker that claims a submission gets a random lease id and an expiry, and
 * renews the expiry with its heartbeat. The rules (pure, unit-tested):
 *  - a submission `processing` under a lease that has not expired cannot be claimed by anyone else;
 *  - a leased transition (submission-states.ts) out of `processing` is applied for the holder (its lease
 *    id matches) or, when no lease id is given, only once the lease has expired (the reconciler, the
 *    operator, a worker taking over a dead one's clip);
 *  - every leased compare-and-set carries the lease id, so a worker that stalled past its lease and was
 *    replaced finds its heartbeat, its progress and its settle refused: it never moves the clip again.
 * A new claim sets a new lease; leaving `processing` clears it.
 */

export function newLease(now: Date, seconds: number): Lease {
  return { id: randomBytes(8).toString('hex'), expiresAt: leaseExpiry(now, seconds) };
}

export function leaseExpiry(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}

/** A lease that is missing (a document from before leases) counts as expired. */
export function leaseExpired(lease: Lease | null | undefined, now: Date): boolean {
  return !lease || lease.expiresAt.getTime() <= now.getTime();
}

/** The part of a compare-and-set filter that enforces the lease: held by `leaseId`, or expired. */
export function leaseCondition(leaseId: string | null, now: Date): Record<string, unknown> {
  if (leaseId !== null) return { 'processing.lease.id': leaseId };
  return { $or: [{ 'processing.lease': null }, { 'processing.lease.expiresAt': { $lte: now } }] };
}
