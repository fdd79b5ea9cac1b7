import { removeCaptionVersions } from '../../shared/captions/caption-versions';
import type { QueueJob } from '../../shared/queue/queue';
import { captionsPrefix, originalsPrefix, outputsPrefix } from '../../shared/storage/keys';
import { markTakenDown } from '../../shared/submissions/release';
import { clearPersonalData, markOriginalDeleted } from '../../shared/submissions/retention';
import { forgetDeliveredTitles, queueWebhooks } from '../../shared/distribution/webhooks';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../deps';
import { removeRelease } from './release-submission.handler';
import { removeFromIndex } from '../../shared/provenance/fingerprint-index';

/**
 * Deletes every object a withdrawn clip may still have under its release, outputs and captioned-preview
 * prefixes (the raw original goes with the retention job). Returns how many went from each. Also run by the
 * retention sweep (worker/retention.ts) on clips already taken down: a release attempt that crashed while
 * storing after the takedown can leave objects under releases/<id>/ that nobody else would look for.
 */
export async function removeWithdrawnObjects(storage: ObjectStorage, submissionId: string): Promise<{ release: number; outputs: number; captioned: number }> {
  const release = await removeRelease(storage, submissionId);
  const outputs = await storage.list(outputsPrefix(submissionId));
  const captioned = await storage.list(captionsPrefix(submissionId));
  await Promise.all([...outputs, ...captioned].map((key) => storage.remove(key)));
  return { release, outputs: outputs.length, captioned: captioned.length };
}

/**
 * takedown-submission, queued by a withdrawal: deletes the clip's release objects, its outputs (of every
 * processing attempt: master, previews, poster, captions), the moderators' captioned previews and caption
 * versions and its raw original (`originalDeletedAt`), then records it and clears the contributor's personal data. The clip left the gallery and the feeds at the withdrawal
 * itself (they list `released` clips only) and no link is minted for it any more (shared/release/links.ts);
 * this removes what an old link could still reach. Safe to run twice; a failure is retried by the queue.
 */
export async function takedownSubmission(deps: WorkerDeps, job: QueueJob<'takedown-submission'>): Promise<void> {
  const { submissionId } = job.payload;
  const log = deps.logger.child({ submissionId, jobId: job.id, step: 'takedown' });
  const found = await deps.db.submissions.findById(submissionId).lean<Submission>();
  if (!found || found.status !== 'withdrawn') {
    log.info({ status: found?.status ?? null }, 'not withdrawn: nothing to take down');
    return;
  }
  // Every output of every processing attempt (master, previews, poster, the contributor's clean subtitles):
  // the contributor is told their clip is deleted. The moderators' captioned previews show the clip too, and
  // their caption versions hold the contributor's words.
  const removed = await removeWithdrawnObjects(deps.storage, submissionId);
  // The raw original (and the uploaded subtitle file) too, whoever withdrew: consent is gone, nothing more will
  // be made from it, and it still carries GPS, device and time tags. Recorded, so no page offers it any more.
  const originals = await deps.storage.list(originalsPrefix(submissionId));
  await Promise.all(originals.map((key) => deps.storage.remove(key)));
  await markOriginalDeleted(deps.db.submissions, found._id, new Date());
  const captionVersions = await removeCaptionVersions(deps.db.captionVersions, submissionId);
  // Where the contributor's face was, frame by frame: it describes them, and nothing will be drawn from it.
  await deps.db.faceTracks.deleteOne({ _id: submissionId });
  // Its content leaves the verification index: a copy of it is then "not something this campaign released", and a
  // signed copy reads as revoked (the verify job checks the release still stands).
  await removeFromIndex(deps.db, submissionId);
  await markTakenDown(deps.db.submissions, submissionId, new Date());
  // The contributor's organisation, title, message and contact address go too (the record keeps what the
  // audit and the tallies need); the webhook below was given the clip as loaded, and says only its id.
  await clearPersonalData(deps.db.submissions, submissionId, new Date());
  // The title the release webhook carried goes from the delivery log too.
  await forgetDeliveredTitles(deps.db, submissionId);
  // The teams' tools hear of it (only for a clip that had been released).
  await queueWebhooks(deps, found, 'withdrawal', new Date());
  log.info({ releaseObjects: removed.release, outputs: removed.outputs, captionVersions }, 'withdrawn clip taken down');
}
