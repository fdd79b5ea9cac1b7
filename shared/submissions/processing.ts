import type { Types } from 'mongoose';
import { AppError } from '../errors';
import { leaseCondition, leaseExpired, leaseExpiry } from './lease';
import type { MediaInfo } from './media-info';
import type { Lease, StoredObject, Submission, SubmissionModel } from './submission.model';
import { transition } from './transition';

/**
 * The worker's side of the lifecycle: claim a submission under a lease, keep the lease alive, report
 * progress, settle. Every write is a compare-and-set on the lease id, so only the current holder is heard.
 */

/** A clip claimed this many times without ever settling keeps killing its worker (out of memory, say): failed. */
export const MAX_CLAIMS = 8;

type Id = Types.ObjectId | string;

export type Claim =
  | { kind: 'claimed'; submission: Submission; lease: Lease }
  /** Gone, or already past processing: nothing to do. */
  | { kind: 'nothing'; status: Submission['status'] | null }
  /** Another worker holds a live lease until `until`. */
  | { kind: 'held'; until: Date }
  /** Claimed MAX_CLAIMS times already: failed instead. */
  | { kind: 'exhausted' };

/**
 * Takes a `received` submission, or a `processing` one whose lease expired (its worker died or stalled),
 * for processing under a new lease of `leaseSeconds`.
 */
export async function claim(submissions: SubmissionModel, id: Id, options: { by: string; leaseSeconds: number; now?: Date }): Promise<Claim> {
  for (let tries = 0; tries < 3; tries += 1) {
    const now = options.now ?? new Date();
    const found = await submissions.findById(id).lean<Submission>();
    if (!found || (found.status !== 'received' && found.status !== 'processing')) return { kind: 'nothing', status: found?.status ?? null };
    if (found.status === 'processing' && !leaseExpired(found.processing.lease, now)) return { kind: 'held', until: found.processing.lease!.expiresAt };
    if (found.status === 'processing' && found.processing.attempts >= MAX_CLAIMS) {
      await failExhausted(submissions, found, options.by, now);
      return { kind: 'exhausted' };
    }
    const claimed = await transition(submissions, found._id, {
      name: 'processing_started',
      from: found.status,
      by: options.by,
      lease: null,
      now,
      leaseSeconds: options.leaseSeconds,
      changes: { countAttempt: true, processing: { startedAt: now, heartbeatAt: now, progress: 0, lastError: null, finishedAt: null } },
    });
    if (claimed) return { kind: 'claimed', submission: claimed, lease: claimed.processing.lease! };
    // Moved meanwhile (another worker claimed it first, or it was withdrawn): look again.
  }
  return { kind: 'nothing', status: null };
}

async function failExhausted(submissions: SubmissionModel, found: Submission, by: string, now: Date): Promise<Submission | null> {
  return transition(submissions, found._id, {
    name: 'processing_failed',
    from: 'processing',
    by,
    lease: null,
    now,
    reason: `the worker stopped during each of ${found.processing.attempts} attempts`,
    changes: { processing: { lastError: 'the worker stopped during every attempt', finishedAt: now } },
  });
}

/** Renews the lease; false when it is no longer this holder's (replaced after a stall, or withdrawn). */
export async function heartbeat(submissions: SubmissionModel, id: Id, lease: string, options: { leaseSeconds: number; now?: Date }): Promise<boolean> {
  const now = options.now ?? new Date();
  const result = await submissions.updateOne(
    { _id: id, status: 'processing', ...leaseCondition(lease, now) },
    { $set: { 'processing.lease.expiresAt': leaseExpiry(now, options.leaseSeconds), 'processing.heartbeatAt': now } },
  );
  return result.matchedCount === 1;
}

/** Whether `lease` still holds the submission (checked by the worker right before it stores its outputs). */
export async function holdsLease(submissions: SubmissionModel, id: Id, lease: string): Promise<boolean> {
  return (await submissions.exists({ _id: id, status: 'processing', ...leaseCondition(lease, new Date()) })) !== null;
}

/** Records progress (0–100) for the status endpoint; false when the lease is lost. */
export async function reportProgress(submissions: SubmissionModel, id: Id, lease: string, percent: number): Promise<boolean> {
  const result = await submissions.updateOne({ _id: id, status: 'processing', ...leaseCondition(lease, new Date()) }, { $set: { 'processing.progress': percent } });
  return result.matchedCount === 1;
}

/** How a processing run ended. */
export type Settlement =
  | { kind: 'done'; media: MediaInfo; outputs: Record<string, StoredObject>; protectedRender?: Submission['protectedRender'] }
  | { kind: 'rejected'; code: string; reason: string; media: MediaInfo | null }
  | { kind: 'failed'; error: string }
  /** The worker is stopping: the clip goes back to `received` for another worker. */
  | { kind: 'handed-back' }
  /** A transient failure: the queue retries later; the lease is let go so the retry can claim at once. */
  | { kind: 'retry'; error: string };

/**
 * The holder's last word on a run, as a compare-and-set on its lease: returns false when the lease was
 * lost meanwhile (another worker took the clip over, or it was withdrawn), and then nothing was changed.
 */
export async function settle(submissions: SubmissionModel, id: Id, lease: string, outcome: Settlement, options: { by: string; now?: Date }): Promise<boolean> {
  const now = options.now ?? new Date();
  const base = { from: 'processing' as const, by: options.by, lease, now };
  switch (outcome.kind) {
    case 'done':
      return null !== (await transition(submissions, id, {
        ...base,
        name: 'processing_succeeded',
        changes: { media: outcome.media, outputs: outcome.outputs, protectedRender: outcome.protectedRender ?? null, processing: { progress: 100, finishedAt: now } },
      }));
    case 'rejected':
      return null !== (await transition(submissions, id, {
        ...base,
        name: 'media_rejected',
        reason: outcome.code,
        changes: { media: outcome.media, rejection: { code: outcome.code, reason: outcome.reason }, processing: { finishedAt: now } },
      }));
    case 'failed':
      return null !== (await transition(submissions, id, {
        ...base,
        name: 'processing_failed',
        reason: outcome.error,
        changes: { processing: { lastError: outcome.error, finishedAt: now } },
      }));
    case 'handed-back':
      return null !== (await transition(submissions, id, { ...base, name: 'requeued', reason: 'worker shutting down' }));
    case 'retry': {
      const result = await submissions.updateOne(
        { _id: id, status: 'processing', ...leaseCondition(lease, now) },
        { $set: { 'processing.lastError': outcome.error, 'processing.lease.expiresAt': now } },
      );
      return result.matchedCount === 1;
    }
  }
}

/**
 * Sends a submission back to `received` so it is processed again: a `failed` one, or a `processing` one
 * whose lease expired (its worker is gone). A `received` one is returned as it is. The caller enqueues
 * the job. Throws AppError when the submission is missing or in another state (a live worker holds it).
 */
export async function requeue(submissions: SubmissionModel, id: Id, options: { by: string; reason: string; now?: Date }): Promise<Submission> {
  const now = options.now ?? new Date();
  const found = await submissions.findById(id).lean<Submission>();
  if (!found) throw new AppError('submission_not_found', 404, `No submission ${String(id)}.`);
  if (found.status === 'received') return found;
  if (found.status === 'processing' && !leaseExpired(found.processing.lease, now)) {
    throw new AppError('submission_busy', 409, `A worker is processing this submission (its lease runs until ${found.processing.lease!.expiresAt.toISOString()}).`);
  }
  if (found.status !== 'failed' && found.status !== 'processing') throw new AppError('submission_state', 409, `A submission in "${found.status}" is not requeued.`);
  const moved = await transition(submissions, found._id, { name: 'requeued', from: found.status, by: options.by, reason: options.reason, lease: null, now });
  if (!moved) throw new AppError('submission_changed', 409, 'The submission changed state meanwhile; look again.');
  return moved;
}

/**
 * For the reconciler: a `processing` submission whose lease expired and which has no live job. It is
 * sent back to `received` (the caller enqueues it), or failed when it has used up its claims.
 * Returns what happened, or null when it moved meanwhile.
 */
export async function recoverAbandoned(submissions: SubmissionModel, found: Submission, options: { by: string; now: Date }): Promise<'requeued' | 'failed' | null> {
  if (found.processing.attempts >= MAX_CLAIMS) return (await failExhausted(submissions, found, options.by, options.now)) ? 'failed' : null;
  const moved = await transition(submissions, found._id, { name: 'requeued', from: 'processing', by: options.by, reason: 'lease expired', lease: null, now: options.now });
  return moved ? 'requeued' : null;
}

/** Processing submissions whose lease expired before `before` (oldest first), for the reconciler. */
export function findAbandoned(submissions: SubmissionModel, before: Date, limit: number): Promise<Submission[]> {
  return submissions.find({ status: 'processing', ...leaseCondition(null, before) }).sort({ updatedAt: 1 }).limit(limit).lean<Submission[]>().exec();
}

/** Received submissions not moved since `before` (oldest first), for the reconciler. */
export function findWaiting(submissions: SubmissionModel, before: Date, limit: number): Promise<Submission[]> {
  return submissions.find({ status: 'received', updatedAt: { $lt: before } }).sort({ updatedAt: 1 }).limit(limit).lean<Submission[]>().exec();
}

/** The processing record of a new submission (not yet claimed). */
export function initialProcessing(): Submission['processing'] {
  return { attempts: 0, progress: 0, startedAt: null, heartbeatAt: null, finishedAt: null, lastError: null, lease: null };
}
