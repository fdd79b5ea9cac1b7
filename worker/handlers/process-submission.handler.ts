import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Logger } from '../../shared/logger';
import type { MediaInfo } from '../../shared/submissions/media-info';
import { claim, heartbeat, holdsLease, reportProgress, settle, type Claim, type Settlement } from '../../shared/submissions/processing';
import type { StoredObject, Submission } from '../../shared/submissions/submission.model';
import type { OutputName } from '../../shared/storage/keys';
import type { QueueJob } from '../../shared/queue/queue';
import type { WorkerDeps } from '../deps';
import { FfmpegError } from '../ffmpeg/ffmpeg';
import { ChecksumMismatchError, fetchOriginal } from '../steps/fetch-original.step';
import { measureLoudness } from '../steps/loudness.step';
import { posterFromPreview } from '../steps/poster.step';
import { checkMediaLimits, probe } from '../steps/probe.step';
import { MediaRejection } from '../steps/rejections';
import { removeOutputs, storeOutputs } from '../steps/store-outputs.step';
import { prepareSubtitles } from '../steps/subtitles.step';
import { OUTPUT_FILES, previewSize, transcode } from '../steps/transcode.step';
import { makeJobDir, workRoot } from '../work-dirs';
import { isProtected } from '../../shared/protection/protection';
import { makeProtectedOutputs } from './protect-clip.handler';

/** How a run ended, and so which transition follows: decided here, in one place. */
export type Outcome =
  | { kind: 'done'; media: MediaInfo; outputs: Record<string, StoredObject>; protectedRender: Submission['protectedRender'] }
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

/** The lease was lost while the job ran (it stalled past it and another worker took the clip, or it was withdrawn). */
class LeaseLostError extends Error {}

/**
 * process-submission: claim under a lease → run the steps in a folder of its own → settle. Only the
 * lease's holder is heard: its heartbeat renews the lease (a refused renewal stops the run at once), it
 * checks the lease right before storing, stores under its lease's own folder, and settles with a
 * compare-and-set on the lease id. A worker that stalled past its lease and woke up therefore never
 * overwrites or records anything; what it stored is removed, as is what killed attempts left.
 */
export async function processSubmission(deps: WorkerDeps, job: QueueJob<'process-submission'>): Promise<void> {
  const { db } = deps;
  const { submissionId } = job.payload;
  const log = deps.logger.child({ submissionId, jobId: job.id, attempt: job.attempt });
  const leaseSeconds = deps.config.redis.lockSeconds;

  const claimed = await claimWhenFree(deps, submissionId, leaseSeconds, log);
  if (!claimed) return;
  const { submission, lease } = claimed;
  const lost = new AbortController();
  const leaseLost = (why: string) => {
    if (lost.signal.aborted) return;
    log.warn({ lease: lease.id }, `lease lost (${why}): stopping without a word`);
    lost.abort();
  };

  // The lease and the queue's lock are renewed at the same pace: a quarter of their length.
  // Writes still on their way are awaited before the settle: FerretDB applies an update as a read and
  // a write, so a late heartbeat could otherwise put back the state the settle just changed.
  const inFlight = new Set<Promise<unknown>>();
  const track = (write: Promise<unknown>) => {
    inFlight.add(write);
    write.finally(() => inFlight.delete(write)).catch(() => undefined);
  };
  const beat = setInterval(() => {
    track(
      heartbeat(db.submissions, submission._id, lease.id, { leaseSeconds })
        .then((held) => held || leaseLost('heartbeat refused'))
        .catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed')),
    );
  }, (leaseSeconds * 1000) / 4);
  let workDir: string | null = null;
  let media: MediaInfo | null = null;
  let outcome: Outcome | { kind: 'lost' };
  try {
    workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
    const run = { signal: AbortSignal.any([deps.shutdown, lost.signal]), leaseLost, groupDir: workDir, track };
    const result = await runSteps(deps, submission, lease.id, workDir, job, log, run, (info) => {
      media = info;
    });
    outcome = { kind: 'done', ...result };
  } catch (error) {
    outcome = lost.signal.aborted || error instanceof LeaseLostError ? { kind: 'lost' } : outcomeOfError(error, job, media);
  } finally {
    clearInterval(beat);
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await Promise.allSettled([...inFlight]);
  }
  const settled = outcome.kind !== 'lost' && (await settle(db.submissions, submission._id, lease.id, settlementOf(outcome), { by: 'worker' }));
  const id = submission._id.toHexString();
  if (!settled) {
    // Not the holder any more: what this run stored is nobody's.
    await removeOutputs(deps.storage, id, [], lease.id);
    log.info({ lease: lease.id }, 'lease lost: the clip is another worker\'s now');
    return;
  }
  await report(deps, id, outcome as Outcome, log);
}

/**
 * Claims the clip. When another worker's lease is still live (the queue handed the job on a little before
 * the lease ran out, or a duplicate job), looks again every quarter lease until it expires: a renewed
 * lease means its holder is alive and will settle the clip, so this job has nothing to do.
 */
async function claimWhenFree(deps: WorkerDeps, submissionId: string, leaseSeconds: number, log: Logger): Promise<Extract<Claim, { kind: 'claimed' }> | null> {
  let firstSeen: number | null = null;
  for (;;) {
    const result = await claim(deps.db.submissions, submissionId, { by: 'worker', leaseSeconds });
    if (result.kind === 'claimed') return result;
    if (result.kind === 'nothing') {
      log.info({ status: result.status }, 'gone, or already past processing: nothing to do');
      return null;
    }
    if (result.kind === 'exhausted') {
      log.error('the clip stopped its worker in every attempt: failed');
      return null;
    }
    if (firstSeen !== null && result.until.getTime() > firstSeen) {
      log.info('another worker holds the clip and renews its lease: nothing to do');
      return null;
    }
    firstSeen ??= result.until.getTime();
    if (deps.shutdown.aborted) throw new Error('worker shutting down: job handed back to the queue');
    await new Promise((resolve) => setTimeout(resolve, Math.min((leaseSeconds * 1000) / 4, Math.max(0, result.until.getTime() - Date.now())) + 100));
  }
}

function settlementOf(outcome: Outcome): Settlement {
  switch (outcome.kind) {
    case 'done':
    case 'rejected':
    case 'handed-back':
      return outcome;
    case 'failed':
    case 'retry':
      return { kind: outcome.kind, error: outcome.error.message };
  }
}

/** After a settle: clean up, log, and tell the queue (a retry or a hand-back is a thrown error). */
async function report(deps: WorkerDeps, id: string, outcome: Outcome, log: Logger): Promise<void> {
  switch (outcome.kind) {
    case 'done': {
      // Outputs of earlier attempts (workers killed mid-upload, replaced ones) are removed.
      const removed = await removeOutputs(deps.storage, id, Object.values(outcome.outputs));
      log.info({ removedStale: removed }, 'preview ready: in review');
      // A protected clip's protected master, which only its release needs, is drawn next; if this enqueue is
      // lost, the reconciler queues a render for a protected clip in review without one.
      if (outcome.protectedRender) await deps.queue.enqueue('protect-clip', { submissionId: id, trackVersion: outcome.protectedRender.trackVersion, part: 'master' });
      return;
    }
    case 'rejected':
      log.info({ code: outcome.code }, 'clip rejected');
      return;
    case 'handed-back':
      log.info('worker stopping: job handed back');
      throw new Error('worker shutting down: job handed back to the queue');
    case 'failed':
      log.error({ err: outcome.error }, 'processing failed for good');
      return;
    case 'retry':
      log.warn({ err: outcome.error }, 'processing failed: the queue will retry');
      throw outcome.error;
  }
}

interface RunControl {
  /** Aborted on shutdown and when the lease is lost: ffmpeg is killed. */
  signal: AbortSignal;
  leaseLost: (why: string) => void;
  groupDir: string;
  /** Registers a write to the submission that must land before the settle. */
  track: (write: Promise<unknown>) => void;
}

async function runSteps(
  deps: WorkerDeps,
  submission: Submission,
  lease: string,
  workDir: string,
  job: QueueJob<'process-submission'>,
  log: Logger,
  run: RunControl,
  onMedia: (info: MediaInfo) => void,
): Promise<{ media: MediaInfo; outputs: Record<string, StoredObject>; protectedRender: Submission['protectedRender'] }> {
  const { storage, config } = deps;
  // Every ffmpeg and ffprobe of this job records its process group in the job's folder.
  const limits = { ...deps.limits, groupDir: run.groupDir };
  const id = submission._id.toHexString();
  const progress = progressReporter(deps, submission, lease, job, run);

  const originalPath = join(workDir, 'original');
  await fetchOriginal(storage, submission.original, originalPath);
  await progress(0.05);

  const media = await probe(originalPath, limits, config.media.maxFps);
  onMedia(media);
  const refusal = checkMediaLimits(media, config.media);
  if (refusal) throw refusal;
  if (media.audio) media.audio.loudness = await measureLoudness(originalPath, media.audio, limits, config.media.maxDurationSeconds, run.signal);
  log.info({ step: 'probe', container: media.container, duration: media.durationSeconds, video: media.video?.codec, hdr: media.video?.hdr }, 'probed');

  const size = previewSize(media.video!);
  const subtitles = submission.subtitles
    ? await prepareSubtitles(await buffer(await storage.download(submission.subtitles.key)), submission.language, size, workDir)
    : null;

  const outDir = join(workDir, 'out');
  await mkdir(outDir);
  // A protected clip: the clean master alone first; everything anyone watches is drawn from it, protected.
  const protection = isProtected(submission.protection) ? submission.protection! : null;
  const captionsAssPath = subtitles?.assPath ?? null;
  const transcodeShare = protection ? 0.35 : 0.85;
  await transcode(
    media,
    { inputPath: originalPath, outDir, captionsAssPath: protection ? null : captionsAssPath, maxDurationSeconds: config.media.maxDurationSeconds, masterOnly: protection !== null },
    limits,
    { onProgress: (fraction) => void progress(0.1 + transcodeShare * fraction), signal: run.signal },
  );
  const files: Partial<Record<OutputName, string>> = {
    master: join(outDir, OUTPUT_FILES.master),
    preview: join(outDir, OUTPUT_FILES.preview),
    poster: join(outDir, OUTPUT_FILES.poster),
  };
  let protectedRender: Submission['protectedRender'] = null;
  if (protection) {
    // The preview, captioned preview and poster first: the clip is in review as soon as they are stored. The
    // protected master (only needed for the release) is drawn next by a job of its own (report(), below).
    const protectedDir = join(workDir, 'protected');
    await mkdir(protectedDir);
    const made = await makeProtectedOutputs(
      deps,
      { _id: submission._id, campaignId: submission.campaignId, protection },
      { masterPath: files.master!, disguisedSoundPath: null, parts: 'review', media, captionsAssPath, workDir, outDir: protectedDir, maxDurationSeconds: config.media.maxDurationSeconds },
      limits,
      log,
      { signal: run.signal, onProgress: (fraction) => void progress(0.45 + 0.5 * fraction) },
    );
    files.preview = made.files.preview;
    files.poster = made.files.poster;
    if (captionsAssPath) files.captionedPreview = made.files.captionedPreview;
    protectedRender = { trackVersion: made.trackVersion, at: new Date() };
  }
  const posterMade = await stat(files.poster!).then((s) => s.size > 0, () => false);
  if (!posterMade) await posterFromPreview(files.preview!, files.poster!, limits);
  if (subtitles) {
    files.captionedPreview ??= join(outDir, OUTPUT_FILES.captionedPreview);
    files.captionsVtt = subtitles.vttPath;
    files.captionsSrt = subtitles.srtPath;
  }
  log.info({ step: 'transcode' }, 'outputs made');

  // Checked right before storing; even if this worker stalls past its lease in the middle of the upload,
  // it writes only into its own lease's folder, and its settle (a compare-and-set on the lease) is refused.
  if (run.signal.aborted || !(await holdsLease(deps.db.submissions, submission._id, lease))) throw new LeaseLostError('lease lost before storing');
  const outputs = await storeOutputs(storage, id, lease, files);
  return { media, outputs, protectedRender };
}

/** Progress to the job and to the submission (for the status endpoint), at most every 2 s or 5 %. */
function progressReporter(deps: WorkerDeps, submission: Submission, lease: string, job: QueueJob<'process-submission'>, run: RunControl) {
  let last = { at: 0, percent: -1 };
  return async (fraction: number) => {
    const percent = Math.max(0, Math.min(99, Math.round(fraction * 100)));
    const now = Date.now();
    if (percent - last.percent < 5 && now - last.at < 2000) return;
    last = { at: now, percent };
    try {
      const recorded = reportProgress(deps.db.submissions, submission._id, lease, percent);
      run.track(recorded);
      const [, held] = await Promise.all([job.reportProgress(percent), recorded]);
      if (!held) run.leaseLost('progress refused');
    } catch (error) {
      deps.logger.warn({ err: error, submissionId: submission._id.toHexString() }, 'could not record progress');
    }
  };
}
