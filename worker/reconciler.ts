import { captionPreviewJobId, protectJobId, releaseJobId, takedownJobId } from '../shared/queue/queue';
import type { FaceTrack } from '../shared/protection/face-track';
import type { Submission } from '../shared/submissions/submission.model';
import { findAbandoned, findWaiting, recoverAbandoned } from '../shared/submissions/processing';
import { reconcileReviewQueue } from '../shared/submissions/review-queue';
import { findNotTakenDown, findReleasePending, holdEndsAt } from '../shared/submissions/release';
import { findCaptionPreviewsPending } from '../shared/captions/caption-versions';
import type { WorkerDeps } from './deps';

/**
 * A submission waiting this long with no job, or processing under a lease expired this long with no job,
 * is re-queued. (The queue hands on a dead worker's job itself after its lock time; this is for what the
 * queue lost.)
 */
export const RECONCILE = {
  intervalMs: 60_000,
  receivedGraceMs: 2 * 60_000,
  expiredLeaseGraceMs: 60_000,
  batch: 100,
  /** The review queue is checked at the first round and every this many after (it reads every clip in review twice: 75 s at 100 000 submissions on FerretDB). */
  reviewQueueEveryRounds: 10,
  /** How often a worker looks for its mark in Redis (JobQueue.markRedis): a Redis that lost its data is seen this soon. */
  redisMarkCheckMs: 5_000,
  /** Clips of each kind looked at when Redis lost its data (requeueAfterRedisLoss): every waiting one, in practice. */
  afterLossBatch: 20_000,
};

const LIVE_JOB_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);

/**
 * The database is the source of truth, not Redis. Re-queues submissions that should be moving but have
 * no live job: a `received` one whose job was lost (Redis restored from an old backup, flushed, or the
 * enqueue failed after the upload), and a `processing` one whose lease expired and whose job is gone.
 * Also rebuilds the moderators' review queue if it drifted from the submissions in `in_review`, and re-queues
 * the release of approved clips that have no release job. Returns how many were re-queued.
 */
export async function reconcile(
  deps: Pick<WorkerDeps, 'db' | 'queue' | 'logger'> & { config?: Pick<WorkerDeps['config'], 'review'> },
  now: Date = new Date(),
  options: { reviewQueue?: boolean; graceMs?: number; batch?: number } = {},
): Promise<number> {
  const { db, queue, logger } = deps;
  // How long a waiting clip or version must have waited without a job to be queued again (0 after Redis lost its data).
  const grace = options.graceMs ?? RECONCILE.receivedGraceMs;
  // Clips looked at per kind: the oldest first (a regular round looks at a few; a Redis loss, at every waiting one).
  const batch = options.batch ?? RECONCILE.batch;
  let requeued = 0;

  for (const submission of await findAbandoned(db.submissions, new Date(now.getTime() - RECONCILE.expiredLeaseGraceMs), batch)) {
    const id = submission._id.toHexString();
    if (LIVE_JOB_STATES.has((await queue.jobState(id)) ?? '')) continue; // the queue will hand it on itself
    // A clip whose processing keeps killing its worker (out of memory, say) is failed rather than looping.
    if ((await recoverAbandoned(db.submissions, submission, { by: 'reconciler', now })) === 'requeued') {
      await queue.enqueue('process-submission', { submissionId: id }, { replace: true });
      requeued += 1;
    }
  }

  for (const submission of await findWaiting(db.submissions, new Date(now.getTime() - grace), batch)) {
    const id = submission._id.toHexString();
    if (LIVE_JOB_STATES.has((await queue.jobState(id)) ?? '')) continue;
    await queue.enqueue('process-submission', { submissionId: id }, { replace: true });
    requeued += 1;
  }

  // The moderators' queue is kept in step by transition(); this repairs it if a write was lost.
  if (options.reviewQueue ?? true) {
    const review = await reconcileReviewQueue(db.submissions);
    if (review.added + review.removed > 0) logger.warn(review, 'reconciler repaired the review queue');
  }

  // Approved (or releasing) clips whose release job is gone: the approval's enqueue failed, or Redis lost it.
  // A job the queue failed for good (every retry used) is left for an operator (`release.lastError` says why),
  // as is a releasing clip whose job completed (the job stops without retrying when no retry can help). An
  // approved clip whose job completed was taken early (a job of an earlier, undone approval): queued again.
  // The release waits out what is left of the approval's hold; an undone clip is in review, never found here.
  const holdSeconds = deps.config?.review.releaseHoldSeconds ?? 0;
  for (const submission of await findReleasePending(db.submissions, new Date(now.getTime() - grace), batch)) {
    const id = submission._id.toHexString();
    const state = await queue.jobState(releaseJobId(id));
    if (state !== null && !(state === 'completed' && submission.status === 'approved')) continue;
    const ends = holdEndsAt(submission, holdSeconds);
    await queue.enqueue('release-submission', { submissionId: id }, { replace: true, delayMs: ends ? Math.max(0, ends.getTime() - now.getTime()) : 0 });
    requeued += 1;
  }

  // Withdrawn clips whose takedown job was lost: their release objects and master must still go.
  for (const submission of await findNotTakenDown(db.submissions, new Date(now.getTime() - grace), batch)) {
    const id = submission._id.toHexString();
    if (LIVE_JOB_STATES.has((await queue.jobState(takedownJobId(id))) ?? '')) continue;
    await queue.enqueue('takedown-submission', { submissionId: id }, { replace: true });
    requeued += 1;
  }

  // Moderators' caption versions whose preview job was lost (the save's enqueue failed, or Redis lost it).
  for (const version of await findCaptionPreviewsPending(db.captionVersions, new Date(now.getTime() - grace), batch)) {
    const versionId = version._id.toHexString();
    const render = version.previewRender ?? 0;
    if ((await queue.jobState(captionPreviewJobId(versionId, render))) !== null) continue;
    await queue.enqueue('caption-preview', { captionVersionId: versionId, render });
    requeued += 1;
  }

  // Moderators' face-mask saves whose render job was lost: without it, the clip could never be approved.
  const pendingTracks = await db.faceTracks
    .find({ renderPending: true, updatedAt: { $lt: new Date(now.getTime() - grace) } })
    .select({ version: 1 })
    .limit(batch)
    .lean<Array<Pick<FaceTrack, '_id' | 'version'>>>();
  for (const track of pendingTracks) {
    const submissionId = track._id.toHexString();
    if ((await queue.jobState(protectJobId(submissionId, track.version))) !== null) continue;
    await queue.enqueue('protect-clip', { submissionId, trackVersion: track.version });
    requeued += 1;
  }

  // Protected clips in review without a protected master: a moderator switched protection on and its first render
  // was lost, or processing's follow-up job (the protected master) was. They could never be approved. A full
  // render is queued: it is right in both cases (it draws the preview again too).
  const unmastered = await db.submissions
    .find({
      status: 'in_review',
      $or: [{ 'protection.face': true }, { 'protection.voice': true }, { 'protection.card': true }],
      'outputs.protectedMaster': null,
      updatedAt: { $lt: new Date(now.getTime() - grace) },
    })
    .select({ _id: 1, protectedRender: 1 })
    .limit(batch)
    .lean<Array<Pick<Submission, '_id' | 'protectedRender'>>>();
  for (const clip of unmastered) {
    const submissionId = clip._id.toHexString();
    const track = await db.faceTracks.findById(clip._id).select({ version: 1 }).lean<Pick<FaceTrack, 'version'>>();
    const version = Math.max(track?.version ?? 0, clip.protectedRender?.trackVersion ?? 0);
    const states = await Promise.all([queue.jobState(protectJobId(submissionId, version)), queue.jobState(protectJobId(submissionId, version, 'master'))]);
    if (states.some((state) => state !== null)) continue;
    await queue.enqueue('protect-clip', { submissionId, trackVersion: version });
    requeued += 1;
  }

  if (requeued > 0) logger.info({ requeued }, 'reconciler re-queued submissions');
  return requeued;
}

/**
 * After Redis lost its data (JobQueue.markRedis found no mark) every job is gone: every clip waiting for a job is queued
 * again now, without the grace the regular rounds give a clip whose upload is still queuing it, and up to
 * RECONCILE.afterLossBatch of each kind at once (a regular round looks at the oldest RECONCILE.batch, which on a day of
 * action may all still have their jobs). That is safe: a job is keyed by its clip, so queuing a clip that has a job adds
 * nothing, and a clip that moved on meanwhile is left alone by its job (the claim needs the clip still waiting).
 */
export function requeueAfterRedisLoss(deps: Pick<WorkerDeps, 'db' | 'queue' | 'logger'> & { config?: Pick<WorkerDeps['config'], 'review'> }, now: Date = new Date()): Promise<number> {
  return reconcile(deps, now, { reviewQueue: false, graceMs: 0, batch: RECONCILE.afterLossBatch });
}
