import { transition } from '../shared/domain/transition';
import type { Submission } from '../shared/models/submission.model';
import type { WorkerDeps } from './deps';

/** A submission waiting this long with no job, or processing with no heartbeat this long, is re-queued. */
export const RECONCILE = { intervalMs: 60_000, receivedGraceMs: 2 * 60_000, staleHeartbeatMs: 3 * 60_000, batch: 100, maxAttempts: 5 };

const LIVE_JOB_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);

/**
 * The database is the source of truth, not Redis. Re-queues submissions that should be moving but have
 * no live job: a `received` one whose job was lost (Redis restored from an old backup, flushed, or the
 * enqueue failed after the upload), and a `processing` one whose worker stopped sending heartbeats and
 * whose job is gone. Returns how many were re-queued.
 */
export async function reconcile(deps: Pick<WorkerDeps, 'db' | 'queue' | 'logger'>, now: Date = new Date()): Promise<number> {
  const { db, queue, logger } = deps;
  let requeued = 0;

  const stuckProcessing = await db.submissions
    .find({ status: 'processing', 'processing.heartbeatAt': { $lt: new Date(now.getTime() - RECONCILE.staleHeartbeatMs) } })
    .sort({ updatedAt: 1 })
    .limit(RECONCILE.batch)
    .lean<Submission[]>();
  for (const submission of stuckProcessing) {
    const id = submission._id.toHexString();
    if (LIVE_JOB_STATES.has((await queue.jobState(id)) ?? '')) continue; // the queue will hand it on itself
    if (submission.processing.attempts >= RECONCILE.maxAttempts) {
      // A clip whose processing keeps killing its worker (out of memory, say) must not loop forever.
      await transition(db.submissions, submission._id, 'processing_failed', 'processing', {
        by: 'reconciler',
        reason: `no heartbeat after ${submission.processing.attempts} attempts`,
        set: { 'processing.lastError': 'the worker stopped during every attempt' },
      });
      continue;
    }
    const moved = await transition(db.submissions, submission._id, 'requeued', 'processing', { by: 'reconciler', reason: 'no heartbeat' });
    if (moved) {
      await queue.enqueue('process-submission', { submissionId: id }, { replace: true });
      requeued += 1;
    }
  }

  const waiting = await db.submissions
    .find({ status: 'received', updatedAt: { $lt: new Date(now.getTime() - RECONCILE.receivedGraceMs) } })
    .sort({ updatedAt: 1 })
    .limit(RECONCILE.batch)
    .lean<Submission[]>();
  for (const submission of waiting) {
    const id = submission._id.toHexString();
    if (LIVE_JOB_STATES.has((await queue.jobState(id)) ?? '')) continue;
    await queue.enqueue('process-submission', { submissionId: id }, { replace: true });
    requeued += 1;
  }

  if (requeued > 0) logger.info({ requeued }, 'reconciler re-queued submissions');
  return requeued;
}
