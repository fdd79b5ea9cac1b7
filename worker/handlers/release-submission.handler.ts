import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Campaign, CampaignRelease } from '../../shared/models/campaign.model';
import type { QueueJob } from '../../shared/queue/queue';
import { consentScope } from '../../shared/submissions/consent-scopes';
import { queueWebhooks } from '../../shared/distribution/webhooks';
import { releaseKey, releasePrefix } from '../../shared/storage/keys';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { finishRelease, recordReleaseError, startRelease } from '../../shared/submissions/release';
import type { StoredObject, Submission } from '../../shared/submissions/submission.model';
import { signingOf, type WorkerDeps } from '../deps';
import { fetchOriginal } from '../steps/fetch-original.step';
import { masterFromOriginal } from '../steps/master-from-original.step';
import { CAPTION_SAFE_AREAS, posterName, RELEASE_SHAPES, renderName, renderRelease, shapeSize, type ReleasePlan, type ReleaseShape } from '../steps/release.step';
import { storeFile } from '../steps/store-outputs.step';
import { masterSize, posterTime, previewFps } from '../steps/transcode.step';
import { parseSubtitles, toAss, toSrt, toWebVtt, type Cue } from '../../shared/subtitles/subtitles';
import { approvedAt, CAPTION_LANGUAGE, contributorCues, latestCaptionVersions } from '../../shared/captions/caption-versions';
import { makeJobDir, workRoot } from '../work-dirs';
import { isProtected } from '../../shared/protection/protection';
import { removeUnprotected } from '../retention';
import { signFile } from '../steps/provenance.step';
import { releaseManifest } from '../../shared/provenance/release-manifest';
import { indexRelease, removeFromIndex } from '../../shared/provenance/fingerprint-index';
import { fingerprintFile } from '../steps/fingerprint.step';

/** What no retry can mend: the job records it and stops. */
export class ReleaseInputError extends Error {}

/**
 * release-submission: load → return unless approved or releasing → `release_started` → render every
 * shape and caption language from the master in one ffmpeg run → store each file under its fixed key
 * (a re-run overwrites) → `release_finished` only once every output is stored. A failure records its
 * reason and is rethrown, so the queue retries with backoff — unless retrying cannot help (ReleaseInputError:
 * no master and no original any more, say): then the clip stays `releasing` with the reason, for an operator.
 * A clip approved before masters were made gets its master made again from the original (while kept). A clip withdrawn meanwhile is left alone,
 * and what this run stored is removed.
 */
export async function releaseSubmission(deps: WorkerDeps, job: QueueJob<'release-submission'>): Promise<void> {
  const { submissionId } = job.payload;
  const log = deps.logger.child({ submissionId, jobId: job.id, attempt: job.attempt, step: 'release' });
  // Re-checked here, in the database: the move to `releasing` is a compare-and-set from `approved`, so an undo
  // (approval_undone) at the same instant and this start cannot both happen; a clip still within its hold waits.
  const submission = await startRelease(deps.db.submissions, submissionId, { by: 'worker', holdSeconds: deps.config.review.releaseHoldSeconds });
  if (!submission) {
    // A withdrawn clip: an earlier attempt may have stored part of its set after the takedown ran (it
    // failed while storing, so it never reached the check below); this retry removes it.
    const now = await deps.db.submissions.findById(submissionId).select({ status: 1 }).lean<Pick<Submission, 'status'>>();
    const removed = !now || now.status === 'withdrawn' ? await removeRelease(deps.storage, submissionId) : 0;
    if (now?.status === 'approved') log.info('approved, but its hold has not ended: the reconciler queues its release again');
    else log.info({ removed, status: now?.status ?? null }, 'not approved (undone, withdrawn, or released already): nothing to release');
    return;
  }
  if (isProtected(submission.protection) && submission.outputs.protectedMaster && deps.config.retention.protectedDays === 0 && !submission.originalDeletedAt) {
    // Approved: nothing unprotected of a protected clip is needed any more (PROTECTED_UNMASKED_RETENTION_DAYS=0).
    await removeUnprotected(deps, submissionId, new Date());
  }
  const workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
  try {
    const campaign = await deps.db.campaigns.findById(submission.campaignId).select({ name: 1, consentVersions: 1, release: 1 }).lean<Pick<Campaign, 'name' | 'consentVersions' | 'release'>>();
    if (!campaign) throw new ReleaseInputError('the clip\'s campaign is gone');
    // Where it may go: the consent its contributor gave, read against the campaign's statements.
    const scope = consentScope(campaign, submission.consent);
    const { outputs, languages } = await renderAndStore(deps, submission, workDir, job, campaign, scope.credit);
    const released = await finishRelease(deps.db.submissions, submission, { outputs, languages, ...scope }, { by: 'worker' });
    if (!released) {
      // Withdrawn while rendering: nothing of it may stay (its files, and its place in the verification index).
      await removeRelease(deps.storage, submissionId);
      await removeFromIndex(deps.db, submissionId);
      log.info('withdrawn while rendering: release removed');
      return;
    }
    await queueWebhooks(deps, released, 'release', new Date());
    log.info({ outputs: Object.keys(outputs).length }, 'released');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await recordReleaseError(deps.db.submissions, submissionId, message).catch(() => undefined);
    if (error instanceof ReleaseInputError) {
      // The same every time (no master and no original, say): no retry; the clip stays `releasing` with the reason.
      log.error({ err: error }, 'release impossible: an operator must act (release.lastError)');
      return;
    }
    log.warn({ err: error }, 'release failed: the queue will retry');
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Every release object of a clip (withdrawal, a release overtaken by one). Returns how many went. */
export async function removeRelease(storage: ObjectStorage, submissionId: string): Promise<number> {
  const keys = await storage.list(releasePrefix(submissionId));
  await Promise.all(keys.map((key) => storage.remove(key)));
  return keys.length;
}

interface CaptionTrack {
  language: string;
  cues: Cue[];
}

/**
 * The caption languages of a clip: the latest version of each language the moderators saved
 * (shared/captions/caption-versions.ts), and the contributor's own subtitles (stored as clean SRT at
 * processing) for their language when nobody edited it. Stored cues are parsed again on the way (the
 * same validation and markup stripping as an upload).
 */
export async function captionTracks(deps: Pick<WorkerDeps, 'db' | 'storage'>, submission: Pick<Submission, '_id' | 'outputs' | 'language' | 'history'>): Promise<CaptionTrack[]> {
  const tracks: CaptionTrack[] = [];
  // Only versions saved by the approval: an edit racing it is not released unseen.
  const versions = await latestCaptionVersions(deps.db.captionVersions, submission._id, approvedAt(submission) ?? undefined);
  const own = submission.language.toLowerCase();
  const cues = versions.some((v) => v.language === own) ? null : await contributorCues(deps.storage, submission);
  if (cues) {
    if (!CAPTION_LANGUAGE.test(own)) throw new ReleaseInputError(`caption language "${submission.language}" is not a language code`);
    tracks.push({ language: own, cues });
  }
  for (const version of versions) {
    if (!CAPTION_LANGUAGE.test(version.language)) throw new ReleaseInputError(`caption language "${version.language}" is not a language code`);
    tracks.push({ language: version.language, cues: parseSubtitles(toSrt(version.cues)) });
  }
  return tracks;
}

const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  jpg: 'image/jpeg',
  srt: 'application/x-subrip; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
};

async function renderAndStore(
  deps: WorkerDeps,
  submission: Submission,
  workDir: string,
  job: QueueJob<'release-submission'>,
  campaign: Pick<Campaign, 'name' | 'release'>,
  credit: boolean,
): Promise<{ outputs: Record<string, StoredObject>; languages: string[] }> {
  const id = submission._id.toHexString();
  const branding: CampaignRelease | null = campaign.release ?? null;
  const limits = { ...deps.limits, groupDir: workDir };
  let masterPath = join(workDir, 'master.mp4');
  let media = submission.media;
  if (isProtected(submission.protection)) {
    // A protected clip is released from its protected master only: never from anything unprotected.
    if (!submission.outputs.protectedMaster) throw new ReleaseInputError('the clip is protected but has no protected master: it cannot be released until it is processed again');
    await fetchOriginal(deps.storage, submission.outputs.protectedMaster, masterPath);
  } else if (submission.outputs.master) await fetchOriginal(deps.storage, submission.outputs.master, masterPath);
  else {
    // Approved before masters were made: the master is made again from the original while it is kept.
    if (submission.originalDeletedAt) throw new ReleaseInputError('the clip has no master (it was processed before masters were made) and its original has been deleted: it cannot be released');
    ({ masterPath, media } = await masterFromOriginal(deps, submission, workDir, limits));
  }
  const video = media?.video;
  if (!media || !video) throw new ReleaseInputError('the clip has no video description: it cannot be released');

  const master = masterSize(video);
  const outDir = join(workDir, 'out');
  await mkdir(outDir);
  // Captions (captionTracks: the latest version per language, parsed again), written out as this code's own ASS per shape (each shape's frame and safe area), SRT and WebVTT.
  const sidecars: Record<string, string> = {};
  const captions: ReleasePlan['captions'] = [];
  for (const track of await captionTracks(deps, submission)) {
    const { cues } = track;
    const assPaths = {} as Record<ReleaseShape, string>;
    for (const shape of RELEASE_SHAPES) {
      assPaths[shape] = join(workDir, `captions-${track.language}-${shape}.ass`);
      await writeFile(assPaths[shape], toAss(cues, shapeSize(shape, master), CAPTION_SAFE_AREAS[shape]), 'utf8');
    }
    captions.push({ language: track.language, assPaths });
    for (const [format, text] of [['srt', toSrt(cues)], ['vtt', toWebVtt(cues)]] as const) {
      sidecars[`captions-${track.language}-${format}`] = join(outDir, `captions-${track.language}.${format}`);
      await writeFile(sidecars[`captions-${track.language}-${format}`]!, text, 'utf8');
    }
  }

  // The campaign's watermark and end card, when it has them (campaign.release), downloaded under names of our own.
  const brandingFile = async (key: string | null | undefined, name: string) => {
    if (!key) return null;
    const path = join(workDir, name);
    await writeFile(path, await buffer(await deps.storage.download(key)));
    return path;
  };
  const watermarkPath = await brandingFile(branding?.watermarkKey, 'watermark.png');
  const endCardPath = await brandingFile(branding?.endCardKey, 'end-card.png');
  const endCard = endCardPath && branding ? { path: endCardPath, seconds: branding.endCardSeconds } : null;

  const renders = await renderRelease(
    { masterPath, outDir, master, fps: previewFps(video), posterTime: posterTime(media), captions, watermarkPath, endCard },
    limits,
    {
      durationSeconds: (media.durationSeconds ?? 0) + (endCard?.seconds ?? 0) || null,
      signal: deps.shutdown,
      onProgress: (fraction) => void job.reportProgress(Math.round(fraction * 95)).catch(() => undefined),
    },
  );

  // Every output is checked before any is recorded: `released` means the whole set.
  const files = { ...renders, ...sidecars };
  for (const [name, path] of Object.entries(files)) {
    const made = await stat(path).then((s) => s.size > 0, () => false);
    if (!made) throw new Error(`the release render ${name} was not made`);
  }
  // Every render and poster carries the campaign's C2PA manifest (what was done, never who filmed it).
  const protection = isProtected(submission.protection) ? submission.protection! : null;
  const common = {
    campaign: campaign.name,
    releaseId: id,
    language: submission.language,
    published: new Date().toISOString().slice(0, 10),
    watermark: Boolean(watermarkPath),
    endCard: Boolean(endCard),
    faceMasking: Boolean(protection?.face && !protection.card),
    voiceDisguised: Boolean(protection?.voice),
    pictureReplaced: Boolean(protection?.card),
    // A protected contributor's organisation is never named, whatever the consent says: it could point to them.
    creditedOrganisation: credit && !protection && submission.organisation ? submission.organisation : null,
  };
  for (const [name, file] of Object.entries(signedRenders(renders, captions.map((c) => c.language)))) {
    await signFile(renders[name]!, releaseManifest({ ...common, ...file, fileName: basename(renders[name]!) }), signingOf(deps));
  }
  // The content fingerprint of the plain `source` render, filed in the verification index (a copy without its
  // signature is still recognised by what it shows and sounds like). Its two windows also find copies of the square
  // and vertical renders, which show the same picture inside a fill (align.ts, geometry `framed`). Before `released`:
  // a retry files it again, idempotently.
  const fingerprintDir = join(workDir, 'fingerprint');
  await mkdir(fingerprintDir);
  const source = await fingerprintFile(renders[renderName('source', null)]!, { hasVideo: true, hasAudio: Boolean(media.audio), durationSeconds: (media.durationSeconds ?? 0) + (endCard?.seconds ?? 0) || null }, fingerprintDir, limits, deps.shutdown);
  await indexRelease(deps.db, { releaseId: id, campaignId: submission.campaignId.toHexString(), releasedAt: new Date(), renders: { source } });

  const entries = await Promise.all(
    Object.entries(files).map(async ([name, path]) => {
      const file = path.slice(outDir.length + 1);
      return [name, await storeFile(deps.storage, releaseKey(id, file), path, CONTENT_TYPES[file.split('.').pop()!]!)] as const;
    }),
  );
  return { outputs: Object.fromEntries(entries), languages: captions.map((c) => c.language) };
}

/** Which render each output name is: its shape, burned-in caption language, video or poster (for its manifest). */
export function signedRenders(renders: Record<string, string>, languages: string[]): Record<string, { shape: string; captionLanguage: string | null; kind: 'video' | 'poster' }> {
  const described: Record<string, { shape: string; captionLanguage: string | null; kind: 'video' | 'poster' }> = {};
  for (const shape of RELEASE_SHAPES) {
    for (const language of [null, ...languages]) described[renderName(shape, language)] = { shape, captionLanguage: language, kind: 'video' };
    described[posterName(shape)] = { shape, captionLanguage: null, kind: 'poster' };
  }
  const unknown = Object.keys(renders).filter((name) => !described[name]);
  if (unknown.length > 0) throw new Error(`release outputs with no manifest description: ${unknown.join(', ')}`);
  return Object.fromEntries(Object.keys(renders).map((name) => [name, described[name]!]));
}
