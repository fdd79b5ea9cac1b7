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
import { createDetectorPool } from '../faces/detector-pool';
import type { RunLimits } from '../ffmpeg/ffmpeg';
import { detectFaces } from '../steps/detect-faces.step';
import { disguiseVoice, drawVoiceFactor, PROTECTED_FILES, protectedFilesOf, renderProtected, type PictureProtection, type ProtectParts } from '../steps/protect.step';
import { masterSize, posterTime, previewFps, previewSize } from '../steps/transcode.step';

/** The card's colour when the campaign has none of its own: a dark blue that white captions read well on. */
export const DEFAULT_CARD_COLOUR = '#1d3557';

export interface ProtectInputs {
  /** The clean, unprotected master (upright, constant-rate; made by the transcode step). */
  masterPath: string;
  /**
   * An earlier protected render of the clip (its protected master, or its protected preview), whose already
   * disguised sound is kept: no factor is needed. Null for a first render, which draws a factor.
   */
  disguisedSoundPath: string | null;
  /** What to make (default `all`): processing makes the `review` part, then a job of its own the `master`. */
  parts?: ProtectParts;
  media: MediaInfo;
  captionsAssPath: string | null;
  workDir: string;
  outDir: string;
  maxDurationSeconds: number;
}

export interface ProtectedRender {
  /** The files made in `outDir`, by output name. */
  files: Partial<Record<keyof typeof PROTECTED_FILES, string>>;
  /** The version of the face track the boxes were drawn from (0: no track, e.g. the card or the voice alone). */
  trackVersion: number;
}

/**
 * The protected outputs of a clip, from its clean master: faces found (once: the track is kept and edited by
 * moderators) and covered, or the picture replaced by the campaign's card; the voice disguised by a factor drawn
 * now and forgotten when this returns (or its disguised sound taken from an earlier render). Returns the files
 * made in `outDir` and the track version they show.
 */
export async function makeProtectedOutputs(
  deps: WorkerDeps,
  submission: Pick<Submission, '_id' | 'campaignId'> & { protection: SubmissionProtection },
  inputs: ProtectInputs,
  limits: RunLimits,
  log: Logger,
  run: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<ProtectedRender> {
  const video = inputs.media.video;
  if (!video) throw new Error('no video to protect');
  const master = masterSize(video);
  const fps = previewFps(video);
  const duration = inputs.media.durationSeconds ?? 0;
  const choice = submission.protection;

  // The factor exists only in this scope; a later render keeps the earlier render's disguised sound instead. The
  // voice is disguised into a file of the job's, and measured (one pass over the audio), while the faces are looked for.
  const factor = choice.voice && !inputs.disguisedSoundPath ? drawVoiceFactor() : undefined;
  const [{ picture, trackVersion }, voice] = await Promise.all([
    pictureFor({ deps, submissionId: submission._id, inputs, master: { ...master, fps }, duration, limits, log, signal: run.signal }, submission.campaignId, choice),
    factor === undefined ? null : disguiseVoice(inputs.masterPath, factor, join(inputs.workDir, 'disguised-voice.mka'), limits, run.signal),
  ]);
  run.onProgress?.(0.4);

  await renderProtected(
    {
      masterPath: inputs.masterPath,
      audioFromPath: choice.voice ? (inputs.disguisedSoundPath ?? voice?.path ?? null) : null,
      parts: inputs.parts ?? 'all',
      outDir: inputs.outDir,
      master,
      preview: previewSize(video),
      fps,
      posterTime: posterTime(inputs.media),
      picture,
      voice: voice?.filters ?? null,
      captionsAssPath: inputs.captionsAssPath,
      maxDurationSeconds: inputs.maxDurationSeconds,
    },
    limits,
    { durationSeconds: duration, signal: run.signal, factor, onProgress: (f) => run.onProgress?.(0.4 + 0.6 * f) },
  );
  const parts = inputs.parts ?? 'all';
  log.info({ step: 'protect', parts, picture: picture.kind, voice: factor !== undefined || Boolean(choice.voice) }, 'protected outputs made');
  const made = protectedFilesOf(parts, inputs.captionsAssPath !== null);
  return { files: Object.fromEntries(made.map((name) => [name, join(inputs.outDir, PROTECTED_FILES[name])])), trackVersion };
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

/** What is drawn over the picture: the campaign's card, or boxes over the faces of the clip's track (and its version). */
async function pictureFor(ctx: RenderContext, campaignId: Types.ObjectId, choice: SubmissionProtection): Promise<{ picture: PictureProtection; trackVersion: number }> {
  if (choice.card) return { picture: await cardPicture(ctx.deps, campaignId, ctx.inputs.workDir), trackVersion: 0 };
  if (!choice.face) return { picture: { kind: 'none' }, trackVersion: 0 };
  const track = await faceTrackFor(ctx);
  const plan = drawPlan(track.masks, { ...ctx.master, durationSeconds: ctx.duration, margin: track.settings.margin });
  const scriptPath = join(ctx.inputs.workDir, 'masks.cmd');
  await writeFile(scriptPath, plan.script, 'utf8');
  return { picture: { kind: 'faces', scriptPath, slots: plan.slots, style: track.style }, trackVersion: track.version };
}

/**
 * The clip's face track: the stored one (a moderator may have edited it), or a new one from the detector on the
 * master's frames, stored before the masking pass so a retry does not detect again.
 */
async function faceTrackFor({ deps, submissionId, inputs, master, duration, limits, log, signal }: RenderContext): Promise<FaceTrack> {
  const stored = await deps.db.faceTracks.findById(submissionId).lean<FaceTrack>();
  if (stored) return stored;
  const detector = await createDetectorPool(deps.config.worker.faceThreads);
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
 * (server/services/protection.service.ts), and — `part: 'master'` — by processing once the protected preview is
 * stored (worker/handlers/process-submission.handler.ts): load → return unless the clip is still in review with its
 * clean master, and the job's track version is the latest (a newer save has its own job) → draw the protected
 * outputs from the clean master (the disguised sound is taken from the clip's earlier protected render, so no factor
 * is needed) → store under a folder of this render's own → swap the records with a compare-and-set on the state
 * and on the version last drawn (an older render never replaces a newer one) → remove what they replaced. Safe to
 * run twice; a failure is retried.
 */
export async function protectClip(deps: WorkerDeps, job: QueueJob<'protect-clip'>): Promise<void> {
  const { submissionId, trackVersion } = job.payload;
  const parts: ProtectParts = job.payload.part === 'master' ? 'master' : 'all';
  const log = deps.logger.child({ submissionId, jobId: job.id, step: 'protect', parts });
  const submission = await deps.db.submissions.findById(submissionId).lean<Submission>();
  const master = submission?.outputs.master;
  if (!submission || submission.status !== 'in_review' || !master || !isProtected(submission.protection) || !submission.media?.video) {
    return log.info({ status: submission?.status ?? null, master: Boolean(master) }, 'not rendered: the clip is not in review with its clean master');
  }
  const track = await deps.db.faceTracks.findById(submission._id).select({ version: 1 }).lean<Pick<FaceTrack, 'version'>>();
  const drawn = submission.protectedRender?.trackVersion ?? -1;
  if ((track && track.version > trackVersion) || drawn > trackVersion) return log.info({ trackVersion, latest: Math.max(track?.version ?? 0, drawn) }, 'superseded: a newer save is rendered instead');
  if (parts === 'master' && submission.outputs.protectedMaster && drawn === trackVersion) return log.info('the protected master of this version is already made');

  const workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
  const limits = { ...deps.limits, groupDir: workDir };
  try {
    const masterPath = join(workDir, 'master.mp4');
    await fetchOriginal(deps.storage, master, masterPath);
    const disguisedSoundPath = submission.protection!.voice ? await fetchDisguisedSound(deps, submission, workDir) : null;
    const cues = await contributorCues(deps.storage, submission);
    const captionsAssPath = cues && parts !== 'master' ? join(workDir, 'captions.ass') : null;
    if (cues && captionsAssPath) await writeFile(captionsAssPath, toAss(cues, previewSize(submission.media.video)), 'utf8');
    const outDir = join(workDir, 'out');
    await mkdir(outDir);
    const made = await makeProtectedOutputs(
      deps,
      { _id: submission._id, campaignId: submission.campaignId, protection: submission.protection! },
      { masterPath, disguisedSoundPath, parts, media: submission.media, captionsAssPath, workDir, outDir, maxDurationSeconds: deps.config.media.maxDurationSeconds },
      limits,
      log,
      { signal: deps.shutdown, onProgress: (f) => void job.reportProgress(Math.round(f * 95)).catch(() => undefined) },
    );
    if (made.trackVersion > trackVersion) log.info({ trackVersion, drawn: made.trackVersion }, 'drawn with a newer save of the masks');
    const renderId = randomBytes(8).toString('hex');
    const stored = await storeOutputs(deps.storage, submissionId, renderId, made.files as Partial<Record<OutputName, string>>);
    const set: Record<string, unknown> = Object.fromEntries(Object.entries(stored).map(([name, object]) => [`outputs.${name}`, object]));
    set.protectedRender = { trackVersion: made.trackVersion, at: new Date() };
    const swapped = await deps.db.submissions.updateOne(
      {
        _id: submission._id,
        status: 'in_review',
        'outputs.master.key': master.key,
        // Not over a render of a newer save (two workers may draw two saves at once).
        $or: [{ protectedRender: null }, { 'protectedRender.trackVersion': { $lte: made.trackVersion } }],
      },
      { $set: set },
    );
    if (swapped.modifiedCount !== 1) {
      await Promise.all(Object.values(stored).map((object) => deps.storage.remove(object.key)));
      return log.info('the clip left review, or a newer save was drawn, while rendering: this render is dropped');
    }
    const replaced = Object.keys(stored).map((name) => submission.outputs[name]).filter((object): object is StoredObject => Boolean(object));
    await Promise.all(replaced.map((object) => deps.storage.remove(object.key)));
    if (parts === 'master') return log.info({ trackVersion: made.trackVersion }, 'protected master made');
    // Rendered the latest save: nothing waits any more (a newer save keeps renderPending for its own job).
    await deps.db.faceTracks.updateOne({ _id: submission._id, version: { $lte: made.trackVersion } }, { $set: { renderedVersion: made.trackVersion, renderPending: false } });
    await redrawCaptionPreviews(deps, submission._id);
    log.info({ trackVersion: made.trackVersion }, 'protected outputs rendered again');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The clip's already disguised sound: its protected master's, or its protected preview's (processing draws the
 * preview first). Null when nothing protected was drawn yet (protection switched on later): a factor is drawn.
 */
async function fetchDisguisedSound(deps: WorkerDeps, submission: Submission, workDir: string): Promise<string | null> {
  const source = submission.outputs.protectedMaster ?? (submission.protectedRender ? submission.outputs.preview : undefined);
  if (!source) return null;
  const path = join(workDir, 'disguised-sound.mp4');
  await fetchOriginal(deps.storage, source, path);
  return path;
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
