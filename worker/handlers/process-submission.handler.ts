import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { PENDING_PROCESSING_STATES } from '../../shared/domain/submission-states';
import { transition } from '../../shared/domain/transition';
import type { Logger } from '../../shared/logger';
import type { StoredObject, Submission } from '../../shared/models/submission.model';
import type { OutputName } from '../../shared/storage/keys';
import type { QueueJob } from '../../shared/queue/queue';
import type { WorkerDeps } from '../deps';
import { FfmpegError } from '../ffmpeg/ffmpeg';
import type { MediaInfo } from '../ffmpeg/media-info';
import { ChecksumMismatchError, fetchOriginal } from '../steps/fetch-original.step';
import { measureLoudness } from '../steps/loudness.step';
import { posterFromPreview } from '../steps/poster.step';
import { checkMediaLimits, probe } from '../steps/probe.step';
import { MediaRejection } from '../steps/rejections';
import { storeOutputs } from '../steps/store-outputs.step';
import { prepareSubtitles } from '../steps/subtitles.step';
import { OUTPUT_FILES, previewSize, transcode } from '../steps/transcode.step';
import { makeJobDir, workRoot } from '../work-dirs';

const HEARTBEAT_MS = 15_000;

/** How a run ended, and so which transition follows: decided here, in one place. */
export type Outcome =
  | { kind: 'done'; media: MediaInfo; outputs: Record<string, StoredObject> }
  | { kind: 'rejected'; code: string; reason: string; media: MediaInfo | null }
  | { kind: 'handed-back' }
  | { kind: 'retry'; error: Error }
  | { kind: 'failed'; error: Error };

export function outcomeOfError(error: unknown, job: Pick<QueueJob<'process-submission'>, 'attempt' | 'maxAttempts'>, media: MediaInfo | null): Outcome {
  if (error instanceof MediaRejection) return { kind: 'rejected', code: error.code, reason: error.reason, media };
  if (error instanceof FfmpegError && error.kind === 'aborted') return { kind: 'handed-back' };
  // ffmpeg could not run at all, or was killed by someone else (out of memory): the system, not the clip.
  if (error instanceof FfmpegError && error.kind === 'unavailable') {
    return job.attempt >= job.maxAttempts ? { kind: 'failed', error } : { kind: 'retry', error };
  }
  const err = error instanceof Error ? error : new Error(String(error));
  // A file that ffmpeg cannot decode fails the same way every time: that is the clip, not the system.
  if (error instanceof FfmpegError && error.kind === 'failed') {
    return { kind: 'rejected', code: 'corrupt', reason: 'This video file is damaged or incomplete and could not be converted. Please send the original file again.', media };
  }
  if (error instanceof FfmpegError && error.kind === 'timeout') {
    return { kind: 'rejected', code: 'processing_timeout', reason: 'This clip took too long to convert. Please send a shorter or smaller version.', media };
  }
  if (error instanceof ChecksumMismatchError || job.attempt >= job.maxAttempts) return { kind: 'failed', error: err };
  return { kind: 'retry', error: err };
}

/**
 * process-submission: load → return if gone or already past processing → run the steps in a folder of
 * its own → transition. Every transition is a compare-and-set, so a duplicate or late job changes nothing.
 */
export async function processSubmission(deps: WorkerDeps, job: QueueJob<'process-submission'>): Promise<void> {
  const { db } = deps;
  const { submissionId } = job.payload;
  const log = deps.logger.child({ submissionId, jobId: job.id, attempt: job.attempt });

  const found = await db.submissions.findById(submissionId).lean<Submission>();
  if (!found) {
    log.warn('the submission no longer exists: nothing to do');
    return;
  }
  if (!PENDING_PROCESSING_STATES.includes(found.status)) {
    log.info({ status: found.status }, 'already past processing: nothing to do');
    return;
  }
  const now = new Date();
  const claimed = await transition(db.submissions, found._id, 'processing_started', found.status, {
    by: 'worker',
    set: { 'processing.startedAt': now, 'processing.heartbeatAt': now, 'processing.progress': 0, 'processing.lastError': null },
    inc: { 'processing.attempts': 1 },
  });
  if (!claimed) {
    log.info('another worker moved it first: nothing to do');
    return;
  }

  const heartbeat = setInterval(() => {
    db.submissions
      .updateOne({ _id: found._id, status: 'processing' }, { $set: { 'processing.heartbeatAt': new Date() } })
      .catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed'));
  }, HEARTBEAT_MS);
  let workDir: string | null = null;
  let media: MediaInfo | null = null;
  let outcome: Outcome;
  try {
    workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
    const result = await runSteps(deps, claimed, workDir, job, log, (info) => {
      media = info;
    });
    outcome = { kind: 'done', ...result };
  } catch (error) {
    outcome = outcomeOfError(error, job, media);
  } finally {
    clearInterval(heartbeat);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
  await settle(deps, claimed, outcome, log);
}

async function settle(deps: WorkerDeps, submission: Submission, outcome: Outcome, log: Logger): Promise<void> {
  const { db } = deps;
  const finishedAt = new Date();
  switch (outcome.kind) {
    case 'done': {
      const moved = await transition(db.submissions, submission._id, 'processing_succeeded', 'processing', {
        by: 'worker',
        set: { media: outcome.media, outputs: outcome.outputs, 'processing.progress': 100, 'processing.finishedAt': finishedAt },
      });
      log.info({ moved: moved !== null }, 'preview ready: in review');
      return;
    }
    case 'rejected': {
      await transition(db.submissions, submission._id, 'media_rejected', 'processing', {
        by: 'worker',
        reason: outcome.code,
        set: { media: outcome.media, rejection: { code: outcome.code, reason: outcome.reason }, 'processing.finishedAt': finishedAt },
      });
      log.info({ code: outcome.code }, 'clip rejected');
      return;
    }
    case 'handed-back': {
      await transition(db.submissions, submission._id, 'requeued', 'processing', { by: 'worker', reason: 'worker shutting down' });
      log.info('worker stopping: job handed back');
      throw new Error('worker shutting down: job handed back to the queue');
    }
    case 'failed': {
      await transition(db.submissions, submission._id, 'processing_failed', 'processing', {
        by: 'worker',
        reason: outcome.error.message,
        set: { 'processing.lastError': outcome.error.message, 'processing.finishedAt': finishedAt },
      });
      log.error({ err: outcome.error }, 'processing failed for good');
      return;
    }
    case 'retry': {
      await db.submissions.updateOne({ _id: submission._id, status: 'processing' }, { $set: { 'processing.lastError': outcome.error.message } });
      log.warn({ err: outcome.error }, 'processing failed: the queue will retry');
      throw outcome.error;
    }
  }
}

async function runSteps(
  deps: WorkerDeps,
  submission: Submission,
  workDir: string,
  job: QueueJob<'process-submission'>,
  log: Logger,
  onMedia: (info: MediaInfo) => void,
): Promise<{ media: MediaInfo; outputs: Record<string, StoredObject> }> {
  const { storage, limits, config, shutdown } = deps;
  const id = submission._id.toHexString();
  const progress = progressReporter(deps, submission, job);

  const originalPath = join(workDir, 'original');
  await fetchOriginal(storage, submission.original, originalPath);
  await progress(0.05);

  const media = await probe(originalPath, limits, config.media.maxFps);
  onMedia(media);
  const refusal = checkMediaLimits(media, config.media);
  if (refusal) throw refusal;
  if (media.audio) media.audio.loudness = await measureLoudness(originalPath, media.audio, limits, config.media.maxDurationSeconds, shutdown);
  log.info({ step: 'probe', container: media.container, duration: media.durationSeconds, video: media.video?.codec, hdr: media.video?.hdr }, 'probed');

  const size = previewSize(media.video!);
  const subtitles = submission.subtitles
    ? await prepareSubtitles(await buffer(await storage.download(submission.subtitles.key)), submission.language, size, workDir)
    : null;

  const outDir = join(workDir, 'out');
  await mkdir(outDir);
  await transcode(
    media,
    { inputPath: originalPath, outDir, captionsAssPath: subtitles?.assPath ?? null, maxDurationSeconds: config.media.maxDurationSeconds },
    limits,
    { onProgress: (fraction) => void progress(0.1 + 0.85 * fraction), signal: shutdown },
  );
  const files: Partial<Record<OutputName, string>> = {
    preview: join(outDir, OUTPUT_FILES.preview),
    poster: join(outDir, OUTPUT_FILES.poster),
  };
  const posterMade = await stat(files.poster!).then((s) => s.size > 0, () => false);
  if (!posterMade) await posterFromPreview(files.preview!, files.poster!, limits);
  if (subtitles) {
    files.captionedPreview = join(outDir, OUTPUT_FILES.captionedPreview);
    files.captionsVtt = subtitles.vttPath;
    files.captionsSrt = subtitles.srtPath;
  }
  log.info({ step: 'transcode' }, 'outputs made');

  const outputs = await storeOutputs(storage, id, files);
  return { media, outputs };
}

/** Progress to the job and to the submission (for the status endpoint), at most every 2 s or 5 %. */
function progressReporter(deps: WorkerDeps, submission: Submission, job: QueueJob<'process-submission'>) {
  let last = { at: 0, percent: -1 };
  return async (fraction: number) => {
    const percent = Math.max(0, Math.min(99, Math.round(fraction * 100)));
    const now = Date.now();
    if (percent - last.percent < 5 && now - last.at < 2000) return;
    last = { at: now, percent };
    try {
      await Promise.all([
        job.reportProgress(percent),
        deps.db.submissions.updateOne({ _id: submission._id, status: 'processing' }, { $set: { 'processing.progress': percent } }),
      ]);
    } catch (error) {
      deps.logger.warn({ err: error, submissionId: submission._id.toHexString() }, 'could not record progress');
    }
  };
}
