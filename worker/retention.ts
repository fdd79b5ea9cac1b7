import { removeCaptionVersions } from '../shared/captions/caption-versions';
import { captionsPrefix, originalsPrefix, outputsPrefix, VERIFY_PREFIX } from '../shared/storage/keys';
import type { VerifyCheck } from '../shared/provenance/verify-check';
import { holdEndsAt, markTakenDown } from '../shared/submissions/release';
import { clearPersonalData, markMediaDeleted, markOriginalDeleted, markUnprotectedDeleted, mediaGoesWithOriginal, originalDueAt, retentionCandidates, takedownRecheckSince } from '../shared/submissions/retention';
import type { WorkerDeps } from './deps';
import { isProtected } from '../shared/protection/protection';
import type { Submission } from '../shared/submissions/submission.model';
import { removeWithdrawnObjects } from './handlers/takedown-submission.handler';
import { forgetDeliveredTitles } from '../shared/distribution/webhooks';

type RetentionDeps = Pick<WorkerDeps, 'db' | 'storage' | 'logger' | 'config'>;

/** How long after an approval's hold the retention job still leaves the approved clip alone (its release is starting). */
export const UNDO_RETENTION_MARGIN_MS = 10 * 60_000;

async function removePrefixes(deps: RetentionDeps, prefixes: string[]): Promise<number> {
  const keys = (await Promise.all(prefixes.map((prefix) => deps.storage.list(prefix)))).flat();
  await Promise.all(keys.map((key) => deps.storage.remove(key)));
  return keys.length;
}

/**
 * A protected, approved clip's unprotected objects: its raw original and its clean (unmasked) master. Only the
 * protected master and what was drawn from it remain. Returns whether this call recorded it.
 */
export async function removeUnprotected(deps: RetentionDeps, id: string, now: Date): Promise<boolean> {
  const submission = await deps.db.submissions.findById(id).select({ outputs: 1, originalDeletedAt: 1 }).lean<Pick<Submission, '_id' | 'outputs' | 'originalDeletedAt'>>();
  if (!submission) return false;
  const master = submission.outputs.master;
  await removePrefixes(deps, [originalsPrefix(id)]);
  if (master) await deps.storage.remove(master.key);
  const recorded = await markUnprotectedDeleted(deps.db.submissions, submission._id, now);
  if (recorded) deps.logger.info({ submissionId: id }, 'retention: a protected clip\'s original and unprotected master deleted');
  return recorded;
}

/** A withdrawn clip's takedown, checked again: removes what was stored after it, and clears the record again. */
async function sweepTakenDown(deps: RetentionDeps, id: string, now: Date): Promise<void> {
  const removed = await removeWithdrawnObjects(deps.storage, id);
  if (removed.release + removed.outputs + removed.captioned === 0) return;
  await markTakenDown(deps.db.submissions, id, now);
  deps.logger.warn({ submissionId: id, ...removed }, 'retention: objects left after a takedown removed');
}

/**
 * The retention job: deletes the raw originals (video and uploaded subtitle file) that are due
 * (shared/submissions/retention.ts), then records it on the clip; a rejected clip's outputs (every
 * processing attempt's, and the moderators' captioned previews) and caption versions go at the same moment
 * and are recorded (`mediaDeletedAt`). A withdrawn clip already taken down is checked on every run for
 * `ORIGINAL_RETENTION_DAYS_DECLINED` after its latest takedown (far longer than a release job's retries),
 * whether or not its original is still there (a released clip's went after approval): anything found under
 * its release, outputs or captioned-preview prefixes (a release attempt that crashed while storing after the
 * takedown) is removed as the takedown would. Run on the reconciler's interval by every worker; safe to run
 * twice at once (a removal of a removed object is a no-op, the records are compare-and-set). `now` is
 * injected so a test can move the clock. Returns how many originals went.
 */
export async function deleteDueOriginals(deps: RetentionDeps, now: Date = new Date()): Promise<number> {
  let deleted = 0;
  let media = 0;
  const recheckSince = takedownRecheckSince(now, deps.config.retention);
  for await (const candidate of retentionCandidates(deps.db.submissions, recheckSince)) {
    const id = candidate._id.toHexString();
    if (candidate.status === 'withdrawn' && candidate.takenDownAt && candidate.takenDownAt.getTime() >= recheckSince.getTime()) await sweepTakenDown(deps, id, now);
    // A withdrawn clip taken down before its personal data went with the takedown.
    if (candidate.status === 'withdrawn' && candidate.takenDownAt && !candidate.personalDataClearedAt) {
      await clearPersonalData(deps.db.submissions, candidate._id, now);
      await forgetDeliveredTitles(deps.db, id);
    }
    // An approval can be undone until its release starts: nothing of it goes while its hold lasts, and a margin
    // after (PROTECTED_UNMASKED_RETENTION_DAYS=0 would otherwise take a protected clip's clean master from a clip
    // an undo may bring back to review, where redrawing its masks needs it).
    if (candidate.status === 'approved' && holdEndsAt(candidate, deps.config.review.releaseHoldSeconds)!.getTime() + UNDO_RETENTION_MARGIN_MS > now.getTime()) continue;
    const due = originalDueAt(candidate, deps.config.retention);
    if (!due || due.getTime() > now.getTime()) continue;
    if (!candidate.originalDeletedAt && isProtected(candidate.protection) && candidate.status !== 'rejected' && candidate.status !== 'withdrawn') {
      if (await removeUnprotected(deps, id, now)) deleted += 1;
    } else if (!candidate.originalDeletedAt) {
      await removePrefixes(deps, [originalsPrefix(id)]);
      if (await markOriginalDeleted(deps.db.submissions, candidate._id, now)) deleted += 1;
    }
    if (mediaGoesWithOriginal(candidate) && !candidate.mediaDeletedAt) {
      const objects = await removePrefixes(deps, [outputsPrefix(id), captionsPrefix(id)]);
      const versions = await removeCaptionVersions(deps.db.captionVersions, id);
      await deps.db.faceTracks.deleteOne({ _id: candidate._id });
      if (await markMediaDeleted(deps.db.submissions, candidate._id, now)) {
        media += 1;
        deps.logger.info({ submissionId: id, objects, captionVersions: versions }, 'retention: a rejected clip\'s media deleted');
      }
    }
    // The contributor's organisation, title, message and contact go with a rejected clip's media.
    if (mediaGoesWithOriginal(candidate) && !candidate.personalDataClearedAt) await clearPersonalData(deps.db.submissions, candidate._id, now);
  }
  if (deleted + media > 0) deps.logger.info({ deleted, media }, 'retention: raw originals (and rejected clips\' media) deleted');
  return deleted;
}

/**
 * The public verification's leftovers: answers past their hour, and files sent to /verify that no waiting check
 * will read (a job that died, a server that stopped between storing the file and recording its check). A file
 * of a check still waiting is left to its job; a check still waiting after 15 minutes is failed (its job is lost).
 * Returns how many answers and files went.
 */
const VERIFY_ORPHAN_MINUTES = 10;
const VERIFY_GIVE_UP_MINUTES = 15;

export async function sweepVerifyChecks(deps: Pick<WorkerDeps, 'db' | 'storage'>, now: Date = new Date()): Promise<{ answers: number; files: number }> {
  const answers = (await deps.db.verifyChecks.deleteMany({ expiresAt: { $lte: now } })).deletedCount ?? 0;
  // A check nobody answered in this long lost its job (a worker killed, Redis emptied): its page says so.
  await deps.db.verifyChecks.updateMany({ status: { $in: ['waiting', 'checking'] }, createdAt: { $lte: new Date(now.getTime() - VERIFY_GIVE_UP_MINUTES * 60_000) } }, { $set: { status: 'failed', failure: 'internal' } });
  let files = 0;
  for await (const object of deps.storage.listObjects(VERIFY_PREFIX)) {
    // A file younger than a few minutes may be one whose check the server is recording right now.
    if (!object.lastModified || now.getTime() - object.lastModified.getTime() < VERIFY_ORPHAN_MINUTES * 60_000) continue;
    const checkId = object.key.slice(VERIFY_PREFIX.length);
    const check = await deps.db.verifyChecks.findById(checkId).select({ status: 1 }).lean<Pick<VerifyCheck, 'status'>>();
    if (check && (check.status === 'waiting' || check.status === 'checking')) continue;
    await deps.storage.remove(object.key);
    files += 1;
  }
  return { answers, files };
}
