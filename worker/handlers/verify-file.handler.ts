import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Campaign } from '../../shared/models/campaign.model';
import { findMatches, type Match } from '../../shared/provenance/fingerprint-index';
import type { Range } from '../../shared/provenance/align';
import { VERIFY_ANSWER_SECONDS, type VerifyCheck } from '../../shared/provenance/verify-check';
import type { ContentMatchAnswer, TimelineSegment, VerifyAnswer, VerifyFailure } from '../../shared/provenance/verify-answer';
import type { QueueJob } from '../../shared/queue/queue';
import { verifyUploadKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { signingOf, type WorkerDeps } from '../deps';
import { fingerprintFile } from '../steps/fingerprint.step';
import { probe } from '../steps/probe.step';
import { readProvenance, type ProvenanceReading } from '../steps/provenance.step';
import { MediaRejection } from '../steps/rejections';
import { makeJobDir, workRoot } from '../work-dirs';

/** What cannot be checked whatever the retries: the page says why. */
class VerifyInputError extends Error {
  constructor(readonly failure: VerifyFailure) {
    super(failure);
  }
}

/**
 * verify-file: load the check → return unless waiting (or checking: a retry) → read the file the server stored
 * under the check's id → its signature (C2PA, this deployment's root) → for a
 * video, its content against the index of releases → store the answer for an hour. Nothing of the file is kept:
 * its folder goes in `finally`, its object once the check is settled (the sweep removes any a dead job left).
 */
export async function verifyFile(deps: WorkerDeps, job: QueueJob<'verify-file'>): Promise<void> {
  const { checkId } = job.payload;
  const log = deps.logger.child({ jobId: job.id, step: 'verify' });
  const check = await deps.db.verifyChecks.findOneAndUpdate({ _id: checkId, status: { $in: ['waiting', 'checking'] } }, { $set: { status: 'checking' } }, { new: true }).lean<VerifyCheck>();
  if (!check) {
    log.info('no waiting check (answered, or expired): nothing to do');
    return;
  }
  const workDir = await makeJobDir(workRoot(deps.config.worker.workDir));
  const key = verifyUploadKey(checkId);
  // The file's object goes once the check is settled (answered, or failed for good); a retry reads it again.
  let settled = false;
  try {
    const path = join(workDir, check.contentType === 'image/jpeg' ? 'file.jpg' : 'file.mp4');
    await pipeline(await deps.storage.download(key), createWriteStream(path));
    const answer = await answerFor(deps, path, workDir, check.contentType === 'image/jpeg');
    await deps.db.verifyChecks.updateOne({ _id: checkId }, { $set: { status: 'done', answer, expiresAt: new Date(Date.now() + VERIFY_ANSWER_SECONDS * 1000) } });
    settled = true;
    log.info({ verdict: answer.verdict }, 'file checked');
  } catch (error) {
    const failure: VerifyFailure | null = error instanceof VerifyInputError ? error.failure : error instanceof MediaRejection ? (error.code === 'too_long' ? 'too_long' : 'damaged') : null;
    if (failure === null && job.attempt < job.maxAttempts) {
      log.warn({ err: error }, 'check failed: the queue will retry');
      throw error;
    }
    if (failure === null) log.error({ err: error }, 'check failed');
    await deps.db.verifyChecks.updateOne({ _id: checkId }, { $set: { status: 'failed', failure: failure ?? 'internal' } });
    settled = true;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    // Left behind only when this throws for a retry (or the object store is down: the sweep removes it then).
    if (settled) await deps.storage.remove(key).catch((error: unknown) => log.warn({ err: error }, 'could not remove the checked file: the sweep will'));
  }
}

async function answerFor(deps: WorkerDeps, path: string, workDir: string, photo: boolean): Promise<VerifyAnswer> {
  const reading = await readProvenance(path, signingOf(deps).trustAnchorPem);
  const signed = await signedAnswer(deps, reading, photo);
  if (signed && signed.verdict !== 'signed_changed') return signed;
  if (photo) return signed ?? { verdict: 'no_match', signer: null, campaign: null, published: null, photo: true, match: null };
  // No valid signature of ours, or one over a changed file: the content says what it came from, and where it changed.
  const info = await probe(path, deps.limits);
  if (!info.video && !info.audio) throw new VerifyInputError('not_media');
  if ((info.durationSeconds ?? 0) > deps.config.verify.maxSeconds) throw new VerifyInputError('too_long');
  const fingerprint = await fingerprintFile(path, { hasVideo: Boolean(info.video), hasAudio: Boolean(info.audio), durationSeconds: info.durationSeconds }, workDir, deps.limits, deps.shutdown);
  const found = await releasedMatch(deps, await findMatches(deps.db, fingerprint));
  if (signed) return { ...signed, match: found ? found.match : null };
  if (!found) return { verdict: 'no_match', signer: null, campaign: null, published: null, photo: false, match: null };
  return { verdict: 'matches', signer: null, campaign: found.campaign, published: found.published, photo: false, match: found.match };
}

/** The answer a signature gives on its own (null: no valid signature, so the content decides). */
async function signedAnswer(deps: WorkerDeps, reading: ProvenanceReading, photo: boolean): Promise<VerifyAnswer | null> {
  if (reading.kind === 'none' || reading.kind === 'invalid') return null;
  const signer = reading.signer.organisation;
  if (!reading.trusted) return reading.kind === 'intact' ? { verdict: 'signed_other', signer, campaign: null, published: null, photo, match: null } : null;
  const claimed = reading.release ?? {};
  const campaign = typeof claimed.campaign === 'string' ? claimed.campaign : null;
  const published = typeof claimed.published === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(claimed.published) ? claimed.published : null;
  if (reading.kind === 'changed') return { verdict: 'signed_changed', signer, campaign, published, photo, match: null };
  // Signed here and intact: still vouched for only while the release stands (a withdrawal revokes it).
  const releaseId = typeof claimed.releaseId === 'string' && /^[a-f0-9]{24}$/.test(claimed.releaseId) ? claimed.releaseId : null;
  const release = releaseId ? await deps.db.submissions.findById(releaseId).select({ status: 1 }).lean<Pick<Submission, 'status'>>() : null;
  if (release?.status !== 'released') return { verdict: 'signed_revoked', signer, campaign: null, published: null, photo, match: null };
  return { verdict: 'signed', signer, campaign, published, photo, match: null };
}

/** The best match among releases still released (the index drops withdrawn ones at takedown; this re-checks). */
async function releasedMatch(deps: WorkerDeps, matches: Match[]): Promise<{ campaign: string; published: string; match: ContentMatchAnswer } | null> {
  for (const match of matches) {
    const release = await deps.db.submissions.findById(match.releaseId).select({ status: 1, campaignId: 1 }).lean<Pick<Submission, 'status' | 'campaignId'>>();
    if (release?.status !== 'released') continue;
    const campaign = await deps.db.campaigns.findById(release.campaignId).select({ name: 1 }).lean<Pick<Campaign, 'name'>>();
    if (!campaign) continue;
    return { campaign: campaign.name, published: match.releasedAt.toISOString().slice(0, 10), match: contentAnswer(match) };
  }
  return null;
}

const round = (seconds: number) => Math.round(seconds * 10) / 10;

/** One track's stretches of the release, in order: kept, cut, changed (replaced picture, other sound). */
function segments(kept: Range[], cut: Range[], changed: Range[]): TimelineSegment[] {
  const all: TimelineSegment[] = [
    ...kept.map((r) => ({ from: round(r.start), to: round(r.end), kind: 'kept' as const })),
    ...cut.map((r) => ({ from: round(r.start), to: round(r.end), kind: 'cut' as const })),
    ...changed.map((r) => ({ from: round(r.start), to: round(r.end), kind: 'changed' as const })),
  ];
  return all.filter((s) => s.to > s.from).sort((a, b) => a.from - b.from);
}

export function contentAnswer(match: Match): ContentMatchAnswer {
  const picture = match.picture ? segments(match.picture.kept, match.picture.cut, match.picture.replaced) : null;
  // Sound the copy replaced while keeping the picture is re-voicing: changed, not kept.
  const sound = match.sound ? segments(subtract(match.sound.kept, match.revoiced), match.sound.cut, [...match.sound.replaced, ...match.revoiced]) : null;
  const foreign = (match.picture ?? match.sound)?.foreign ?? [];
  const last = (ranges: Range[] | undefined) => Math.max(0, ...(ranges ?? []).map((r) => r.end));
  const track = match.picture ?? match.sound;
  return {
    releaseSeconds: round(Math.max(last(track?.kept), last(track?.cut), last(track?.replaced))),
    copySeconds: round(Math.max(last(track?.segments.map((s) => s.copy)), last(foreign))),
    picture,
    sound,
    foreign: foreign.map((r) => ({ from: round(r.start), to: round(r.end) })),
  };
}

/** `ranges` without the parts `minus` covers. */
function subtract(ranges: Range[], minus: Range[]): Range[] {
  let left = ranges;
  for (const cut of minus) {
    left = left.flatMap((r) => {
      if (cut.end <= r.start || cut.start >= r.end) return [r];
      const parts: Range[] = [];
      if (cut.start > r.start) parts.push({ start: r.start, end: cut.start });
      if (cut.end < r.end) parts.push({ start: cut.end, end: r.end });
      return parts;
    });
  }
  return left;
}
