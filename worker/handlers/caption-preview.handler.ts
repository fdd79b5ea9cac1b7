import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordCaptionPreview, type CaptionVersion } from '../../shared/captions/caption-versions';
import type { QueueJob } from '../../shared/queue/queue';
import { captionPreviewKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../deps';
import { fetchOriginal } from '../steps/fetch-original.step';
import { renderCaptionPreview } from '../steps/caption-preview.step';
import { storeFile } from '../steps/store-outputs.step';
import { previewFps, previewSize } from '../steps/transcode.step';
import { toAss } from '../../shared/subtitles/subtitles';
import { makeJobDir, workRoot } from '../work-dirs';

/**
 * caption-preview, queued by a moderator's caption save (server/services/captions.service.ts): load →
 * return if the version is gone, rendered already, or superseded by a newer one of its language (that one
 * has its own job), or the clip is withdrawn → burn the version's cues into the review preview → store
 * under the version's own key → record it on the version. The clip's state, claim and decision are not
 * touched: nothing of the lifecycle changes. Safe to run twice; a failure is recorded and retried.
 */
export async function captionPreview(deps: WorkerDeps, job: QueueJob<'caption-preview'>): Promise<void> {
  const { captionVersionId } = job.payload;
  const log = deps.logger.child({ captionVersionId, jobId: job.id, step: 'caption-preview' });
  const version = await deps.db.captionVersions.findById(captionVersionId).lean<CaptionVersion>();
  if (!version || version.preview) return log.info({ found: Boolean(version) }, 'nothing to render');
  // What will never be rendered says why, so the reconciler does not queue it again.
  const skip = async (why: string) => {
    await recordCaptionPreview(deps.db.captionVersions, captionVersionId, { error: why });
    log.info(why);
  };
  const superseded = async () => Boolean(await deps.db.captionVersions.exists({ submissionId: version.submissionId, language: version.language, version: { $gt: version.version } }));
  if (await superseded()) return skip('superseded: a newer version of this language is rendered instead');
  const submission = await deps.db.submissions.findById(version.submissionId).lean<Submission>();
  const preview = submission?.outputs.preview;
  const video = submission?.media?.video;
  if (!submission || submission.status === 'withdrawn' || !preview || !video) return skip(`not rendered: the clip is ${submission?.status ?? 'gone'} or has no preview`);

  const workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
  try {
    const plan = { previewPath: join(workDir, 'preview.mp4'), assPath: join(workDir, 'captions.ass'), outPath: join(workDir, 'preview-captioned.mp4'), fps: previewFps(video) };
    await fetchOriginal(deps.storage, preview, plan.previewPath);
    await writeFile(plan.assPath, toAss(version.cues, previewSize(video)), 'utf8');
    await renderCaptionPreview(plan, { ...deps.limits, groupDir: workDir }, { durationSeconds: submission.media?.durationSeconds, signal: deps.shutdown });
    // Saved again while this rendered: the newer version's job makes the preview worth keeping.
    if (await superseded()) return await skip('superseded while rendering: a newer version of this language is rendered instead');
    const id = submission._id.toHexString();
    const stored = await storeFile(deps.storage, captionPreviewKey(id, captionVersionId), plan.outPath, 'video/mp4');
    await recordCaptionPreview(deps.db.captionVersions, captionVersionId, { preview: stored });
    // Withdrawn while rendering: the takedown may have run already, so this file goes now.
    const now = await deps.db.submissions.findById(id).select({ status: 1 }).lean<Pick<Submission, 'status'>>();
    if (!now || now.status === 'withdrawn') await deps.storage.remove(stored.key);
    log.info({ language: version.language, version: version.version }, 'captioned preview rendered');
  } catch (error) {
    await recordCaptionPreview(deps.db.captionVersions, captionVersionId, { error: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
    log.warn({ err: error }, 'captioned preview failed: the queue will retry');
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
