import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Types } from 'mongoose';
import type { Logger } from '../../shared/logger';
import type { Campaign } from '../../shared/models/campaign.model';
import { DEFAULT_TRACK_SETTINGS, type FaceTrack } from '../../shared/protection/face-track';
import { buildMasks, drawPlan } from '../../shared/protection/mask-plan';
import type { SubmissionProtection } from '../../shared/protection/protection';
import type { MediaInfo } from '../../shared/submissions/media-info';
import type { StoredObject, Submission } from '../../shared/submissions/submission.model';
import type { QueueJob } from '../../shared/queue/queue';
import type { OutputName } from '../../shared/storage/keys';
import { contributorCues, type CaptionVersion } from '../../shared/captions/caption-versions';
import { toAss } from '../../shared/subtitles/subtitles';
import { isProtected } from '../../shared/protection/protection';
import { fetchOriginal } from '../steps/fetch-original.step';
import { storeOutputs } from '../steps/store-outputs.step';
import { makeJobDir, workRoot } from '../work-dirs';
import type { WorkerDeps } from '../deps';
import { createFaceDetector } from '../faces/face-detector';
import type { RunLimits } from '../ffmpeg/ffmpeg';
import { detectFaces } from '../steps/detect-faces.step';
import { disguisedVoiceFilters, drawVoiceFactor, PROTECTED_FILES, renderProtected, type PictureProtection } from '../steps/protect.step';
import { masterSize, posterTime, previewFps, previewSize } from '../steps/transcode.step';

/** The card's colour when the campaign has none of its own: a dark blue that white captions read well on. */
export const DEFAULT_CARD_COLOUR = '#1d3557';

export interface ProtectInputs {
  /** The clean, unprotected master (upright, constant-rate; made by the transcode step). */
  masterPath: string;
  /** A re-render: the protected master made before, whose already disguised sound is kept (no factor needed). */
  protectedMasterPath: string | null;
  media: MediaInfo;
  captionsAssPath: string | null;
  workDir: string;
  outDir: string;
  maxDurationSeconds: number;
}

export type ProtectedFiles = Record<keyof typeof PROTECTED_FILES, string>;

/**
 * The protected outputs of a clip, from its clean master: faces found (once: the track is kept and edited by
 * moderators) and covered, or the picture replaced by the campaign's card; the voice disguised by a factor drawn
 * now and forgotten when this returns. Returns the files made in `outDir`.
 */
export async function makeProtectedOutputs(
  deps: WorkerDeps,
  submission: Pick<Submission, '_id' | 'campaignId'> & { protection: SubmissionProtection },
  inputs: ProtectInputs,
  limits: RunLimits,
  log: Logger,
  run: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<ProtectedFiles> {
  const video = inputs.media.video;
  if (!video) throw new Error('no video to protect');
  const master = masterSize(video);
  const fps = previewFps(video);
  const duration = inputs.media.durationSeconds ?? 0;
  const choice = submission.protection;

  // The factor exists only in this scope; a re-render keeps the protected master's sound instead. The sound is
  // measured (one pass over the audio) while the faces are looked for.
  const factor = choice.voice && !inputs.protectedMasterPath ? drawVoiceFactor() : undefined;
  const [picture, voice] = await Promise.all([
    pictureFor({ deps, submissionId: submission._id, inputs, master: { ...master, fps }, duration, limits, log, signal: run.signal }, submission.campaignId, choice),
    factor === undefined ? null : disguisedVoiceFilters(inputs.masterPath, factor, limits, run.signal),
  ]);
  run.onProgress?.(0.4);

  await renderProtected(
    {
      masterPath: inputs.masterPath,
      audioFromPath: choice.voice ? inputs.protectedMasterPath : null,
      outDir: inputs.outDir,
      master,
      preview: previewSize(video),
      fps,
      posterTime: posterTime(inputs.media),
      picture,
      voice,
      captionsAssPath: inputs.captionsAssPath,
      maxDurationSeconds: inputs.maxDurationSeconds,
    },
    limits,
    { durationSeconds: duration, signal: run.signal, factor, onProgress: (f) => run.onProgress?.(0.4 + 0.6 * f) },
  );
  log.info({ step: 'protect', picture: picture.kind, voice: factor !== undefined || Boolean(choice.voice) }, 'protected outputs made');
  const files = Object.fromEntries(Object.entries(PROTECTED_FILES).map(([name, file]) => [name, join(inputs.outDir, file)])) as ProtectedFiles;
  return files;
}

/** What one protected render works with, from the clip's clean master. */
interface RenderContext {
  deps: WorkerDeps;
  submissionId: Types.ObjectId;
  inputs: ProtectInputs;
  master: { width: number; height: number; fps: number };
  duration: number;
  limits: RunLimits;
  log: Logger;
  signal?: AbortSignal;
}

/** What is drawn over the picture: the campaign's card, or boxes over the faces of the clip's track. */
async function pictureFor(ctx: RenderContext, campaignId: Types.ObjectId, choice: SubmissionProtection): Promise<PictureProtection> {
  if (choice.card) return cardPicture(ctx.deps, campaignId, ctx.inputs.workDir);
  if (!choice.face) return { kind: 'none' };
  const track = await faceTrackFor(ctx);
  const plan = drawPlan(track.masks, { ...ctx.master, durationSeconds: ctx.duration, margin: track.settings.margin });
  const scriptPath = join(ctx.inputs.workDir, 'masks.cmd');
  await writeFile(scriptPath, plan.script, 'utf8');
  return { kind: 'faces', scriptPath, slots: plan.slots, style: track.style };
}

/**
 * The clip's face track: the stored one (a moderator may have edited it), or a new one from the detector on the
 * master's frames, stored before the masking pass so a retry does not detect again.
 */
async function faceTrackFor({ deps, submissionId, inputs, master, duration, limits, log, signal }: RenderContext): Promise<FaceTrack> {
  const stored = await deps.db.faceTracks.findById(submissionId).lean<FaceTrack>();
  if (stored) return stored;
  const detector = await createFaceDetector();
  try {
    const found = await detectFaces(detector, inputs.masterPath, master, limits, signal);
    const settings = { ...DEFAULT_TRACK_SETTINGS, detectFps: found.detectFps, frameFps: master.fps };
    const masks = buildMasks(found.detections, settings, duration);
    log.info({ step: 'faces', frames: found.framesAnalysed, withFaces: found.framesWithFaces, masks: masks.length }, 'faces detected');
    const track = {
      detector: { name: detector.name, version: detector.version, settings: { ...detector.settings, analysedWidth: found.size.width, analysedHeight: found.size.height, every: found.every } },
      settings,
      width: master.width,
      height: master.height,
      durationSeconds: duration,
      style: 'solid' as const,
      masks,
      framesAnalysed: found.framesAnalysed,
      framesWithFaces: found.framesWithFaces,
      version: 1,
      // The outputs drawn from it are recorded with the clip (its protected master is what approval waits for).
      renderedVersion: 1,
      editedBy: null,
    };
    const saved = await deps.db.faceTracks.findOneAndUpdate({ _id: submissionId }, { $setOnInsert: track }, { upsert: true, new: true }).lean<FaceTrack>();
    return saved!;
  } finally {
    await detector.close();
  }
}

/** The campaign's card: its end card image if it has one, else its logo, over its accent colour. */
async function cardPicture(deps: WorkerDeps, campaignId: Types.ObjectId, workDir: string): Promise<PictureProtection> {
  const campaign = await deps.db.campaigns.findById(campaignId).select({ branding: 1, release: 1 }).lean<Pick<Campaign, 'branding' | 'release'>>();
  const colour = campaign?.branding?.accentColour ?? DEFAULT_CARD_COLOUR;
  const key = campaign?.release?.endCardKey ?? campaign?.branding?.logo?.key ?? null;
  if (!key) return { kind: 'card', colour, imagePath: null };
  const imagePath = join(workDir, 'card-image');
  await writeFile(imagePath, await buffer(await deps.storage.download(key)));
  return { kind: 'card', colour, imagePath };
}

/**
 * protect-clip, queued when moderators save the face masks of a clip in review, or switch protection on for it
 * (server/services/protection.service.ts): load → return unless the clip is still in review with its clean
 * master, and the job's track version is the latest (a newer save has its own job) → draw the protected master,
 * preview, captioned preview and poster again from the clean master (the disguised sound is taken from the
 * protected master, so no factor is needed) → store under a folder of this render's own → swap the records with
 * a compare-and-set on the state → remove what they replaced. Safe to run twice; a failure is retried.
 */
export async function protectClip(deps: WorkerDeps, job: QueueJob<'protect-clip'>): Promise<void> {
  const { submissionId, trackVersion } = job.payload;
  const log = deps.logger.child({ submissionId, jobId: job.id, step: 'protect' });
  const submission = await deps.db.submissions.findById(submissionId).lean<Submission>();
  const master = submission?.outputs.master;
  if (!submission || submission.status !== 'in_review' || !master || !isProtected(submission.protection) || !submission.media?.video) {
    return log.info({ status: submission?.status ?? null, master: Boolean(master) }, 'not rendered: the clip is not in review with its clean master');
  }
  const track = await deps.db.faceTracks.findById(submission._id).select({ version: 1 }).lean<Pick<FaceTrack, 'version'>>();
  if (track && track.version > trackVersion) return log.info({ trackVersion, latest: track.version }, 'superseded: a newer save is rendered instead');

  const workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
  const limits = { ...deps.limits, groupDir: workDir };
  try {
    const masterPath = join(workDir, 'master.mp4');
    await fetchOriginal(deps.storage, master, masterPath);
    const previous = submission.outputs.protectedMaster;
    const protectedMasterPath = submission.protection!.voice && previous ? join(workDir, 'protected-master.mp4') : null;
    if (protectedMasterPath && previous) await fetchOriginal(deps.storage, previous, protectedMasterPath);
    if (submission.protection!.voice && !protectedMasterPath) throw new Error('the voice is to be disguised but the clip has no protected master to take the disguised sound from');
    const cues = await contributorCues(deps.storage, submission);
    const captionsAssPath = cues ? join(workDir, 'captions.ass') : null;
    if (cues && captionsAssPath) await writeFile(captionsAssPath, toAss(cues, previewSize(submission.media.video)), 'utf8');
    const outDir = join(workDir, 'out');
    await mkdir(outDir);
    const files = await makeProtectedOutputs(
      deps,
      { _id: submission._id, campaignId: submission.campaignId, protection: submission.protection! },
      { masterPath, protectedMasterPath, media: submission.media, captionsAssPath, workDir, outDir, maxDurationSeconds: deps.config.media.maxDurationSeconds },
      limits,
      log,
      { signal: deps.shutdown, onProgress: (f) => void job.reportProgress(Math.round(f * 95)).catch(() => undefined) },
    );
    const renderId = randomBytes(8).toString('hex');
    const made: Array<[OutputName, string]> = [['protectedMaster', files.protectedMaster], ['preview', files.preview], ['poster', files.poster]];
    if (captionsAssPath) made.push(['captionedPreview', files.captionedPreview]);
    const stored = await storeOutputs(deps.storage, submissionId, renderId, Object.fromEntries(made));
    const set = Object.fromEntries(Object.entries(stored).map(([name, object]) => [`outputs.${name}`, object]));
    const swapped = await deps.db.submissions.updateOne({ _id: submission._id, status: 'in_review', 'outputs.master.key': master.key }, { $set: set });
    if (swapped.modifiedCount !== 1) {
      await Promise.all(Object.values(stored).map((object) => deps.storage.remove(object.key)));
      return log.info('the clip left review while rendering: this render is dropped');
    }
    // Rendered the latest save: nothing waits any more (a newer save keeps renderPending for its own job).
    await deps.db.faceTracks.updateOne({ _id: submission._id, version: { $lte: trackVersion } }, { $set: { renderedVersion: trackVersion, renderPending: false } });
    const replaced = Object.keys(stored).map((name) => submission.outputs[name]).filter((object): object is StoredObject => Boolean(object));
    await Promise.all(replaced.map((object) => deps.storage.remove(object.key)));
    await redrawCaptionPreviews(deps, submission._id);
    log.info({ trackVersion }, 'protected outputs rendered again');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Moderators' caption previews burn their captions into the protected preview: once that is drawn again (new
 * masks), the old ones show the old masks — perhaps a face a moderator has just covered. Each is forgotten and
 * deleted, and drawn again over the new preview (a job of its own: the first one's id is taken).
 */
async function redrawCaptionPreviews(deps: WorkerDeps, submissionId: Types.ObjectId): Promise<void> {
  const drawn = await deps.db.captionVersions.find({ submissionId, preview: { $ne: null } }).select({ preview: 1, previewRender: 1 }).lean<Array<Pick<CaptionVersion, '_id' | 'preview' | 'previewRender'>>>();
  for (const version of drawn) {
    const render = (version.previewRender ?? 0) + 1;
    const cleared = await deps.db.captionVersions.updateOne({ _id: version._id, 'preview.key': version.preview!.key }, { $set: { preview: null, previewError: null, previewRender: render } });
    if (cleared.modifiedCount !== 1) continue;
    await deps.storage.remove(version.preview!.key);
    await deps.queue.enqueue('caption-preview', { captionVersionId: version._id.toHexString(), render });
  }
}
