import { AppError } from '../../shared/errors';
import type { Database } from '../../shared/db';
import type { JobQueue } from '../../shared/queue/queue';
import type { FaceMask, FaceTrack } from '../../shared/protection/face-track';
import type { MaskStyle } from '../../shared/protection/protection';
import { maskBoxAt, maskId } from '../../shared/protection/mask-plan';
import type { Submission } from '../../shared/submissions/submission.model';
import { appendAudit } from './audit.service';
import { openReview, type Moderator } from './review.service';

/**
 * Moderators and a protected clip's face masks (shared/protection/): the review page shows the protected preview
 * with the masks outlined; a moderator adds a box over a time range, changes or removes one, and saves — a new
 * version of the track, rendered again by the worker (protect-clip) — or switches face protection on for a clip
 * whose contributor did not ask. Every save and switch is audited.
 */

type Deps = { db: Database; now(): Date; claimSeconds: number; queue: Pick<JobQueue, 'enqueue'> };

/** A moderator's box: one rectangle (fractions of the frame) held from `start` to `end` seconds. */
export interface ModeratorBox {
  id?: string;
  start: number;
  end: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export const MAX_MASKS = 300;

export interface FacesView {
  submission: Submission;
  track: FaceTrack | null;
  /** Every mask's covering box each SAMPLE_SECONDS (what the page outlines over the playing preview). */
  samples: Array<{ id: string; source: FaceMask['source']; boxes: Array<[number, number, number, number, number] | null> }>;
  sampleSeconds: number;
  /** The protected preview still shows an older version of the masks. */
  rendering: boolean;
}

export const SAMPLE_SECONDS = 0.1;

export async function openFaces(deps: Deps, me: Moderator, id: string): Promise<FacesView> {
  const { submission } = await openReview(deps, me, id);
  const track = await deps.db.faceTracks.findById(submission._id).lean<FaceTrack>();
  const duration = submission.media?.durationSeconds ?? 0;
  const steps = Math.ceil(duration / SAMPLE_SECONDS) + 1;
  const samples = (track?.masks ?? []).map((mask) => ({
    id: mask.id,
    source: mask.source,
    boxes: Array.from({ length: steps }, (_, i) => {
      const t = i * SAMPLE_SECONDS;
      const box = maskBoxAt(mask, t, track!.settings.margin);
      return box ? ([round(t), round(box.x), round(box.y), round(box.w), round(box.h)] as [number, number, number, number, number]) : null;
    }),
  }));
  return { submission, track, samples, sampleSeconds: SAMPLE_SECONDS, rendering: Boolean(track && track.renderedVersion < track.version) };
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

function checkEditable(submission: Submission): void {
  if (submission.status !== 'in_review') throw new AppError('submission_state_conflict', 409, `This clip is "${submission.status}" now: its masks can no longer be changed.`, { details: { status: submission.status } });
  if (!submission.outputs.master) throw new AppError('protection_unavailable', 409, 'This clip\'s clean master is gone: its masks can no longer be drawn again.');
}

/**
 * Saves the masks: the detector's masks named in `keep` stay as they are, the others are removed; `boxes` are the
 * moderators' masks (new, or changed ones under their id). Refused when someone saved since `version` was read.
 */
export async function saveFaceMasks(deps: Deps, me: Moderator, id: string, input: { version: number; keep: string[]; boxes: ModeratorBox[]; style?: MaskStyle }): Promise<FaceTrack> {
  const { submission } = await openReview(deps, me, id);
  checkEditable(submission);
  if (!submission.protection?.face) throw new AppError('protection_off', 409, 'Face protection is not on for this clip: switch it on first.');
  const track = await deps.db.faceTracks.findById(submission._id).lean<FaceTrack>();
  if (!track) throw new AppError('faces_not_ready', 409, 'The faces of this clip are still being found. Try again in a minute.');
  if (track.version !== input.version) throw new AppError('faces_changed', 409, 'Someone saved the masks of this clip since you opened them. Reload to see theirs, then make your change again.', { details: { version: track.version } });
  const duration = track.durationSeconds;
  const errors: string[] = [];
  input.boxes.forEach((box, i) => {
    const row = i + 1;
    if (!(box.start >= 0 && box.end > box.start)) errors.push(`Box ${row}: the end must come after the start.`);
    if (box.start > duration + 0.5) errors.push(`Box ${row}: it starts after the clip's end.`);
    if (!(box.w > 0 && box.h > 0 && box.x >= 0 && box.y >= 0 && box.x + box.w <= 1.0001 && box.y + box.h <= 1.0001)) errors.push(`Box ${row}: it must lie inside the picture.`);
  });
  if (errors.length > 0) throw new AppError('faces_invalid', 400, errors.join(' '), { details: { errors } });
  const keep = new Set(input.keep);
  const detector = track.masks.filter((mask) => mask.source === 'detector' && keep.has(mask.id));
  const moderator: FaceMask[] = input.boxes.map((box) => {
    const held = { x: box.x, y: box.y, w: Math.min(box.w, 1 - box.x), h: Math.min(box.h, 1 - box.y) };
    const end = Math.min(box.end, duration);
    return { id: box.id && /^[0-9a-f]{12}$/.test(box.id) ? box.id : maskId(), source: 'moderator', start: box.start, end, keys: [{ t: box.start, box: held }, { t: end, box: held }] };
  });
  const masks = [...detector, ...moderator];
  if (masks.length > MAX_MASKS) throw new AppError('faces_invalid', 400, `At most ${MAX_MASKS} masks.`);
  const version = track.version + 1;
  const saved = await deps.db.faceTracks.findOneAndUpdate({ _id: track._id, version: track.version }, { $set: { masks, version, style: input.style ?? track.style, editedBy: me.id, renderPending: true } }, { new: true }).lean<FaceTrack>();
  if (!saved) throw new AppError('faces_changed', 409, 'Someone saved the masks of this clip at the same moment. Reload to see theirs, then make your change again.');
  await deps.queue.enqueue('protect-clip', { submissionId: id, trackVersion: version });
  await appendAudit(
    deps.db,
    {
      actor: { id: me.id, email: me.email },
      action: 'faces_edited',
      target: { kind: 'submission', id },
      details: { version, style: input.style ?? track.style, removed: track.masks.filter((m) => m.source === 'detector' && !keep.has(m.id)).length, moderatorBoxes: moderator.length, detectorMasks: detector.length },
    },
    deps.now(),
  );
  return saved;
}

/**
 * A moderator switches face protection on for a clip in review (its contributor did not ask, but a face is
 * there that must not be): the clip becomes sensitive (two approvals), its faces are found and covered by the
 * worker, and the protected preview replaces the plain one.
 */
export async function enableFaceProtection(deps: Deps, me: Moderator, id: string): Promise<void> {
  const { submission } = await openReview(deps, me, id);
  checkEditable(submission);
  if (submission.protection?.face || submission.protection?.card) return;
  const now = deps.now();
  const protection = { face: true, voice: submission.protection?.voice ?? false, card: false, by: submission.protection?.by ?? 'moderator', at: now };
  const updated = await deps.db.submissions.updateOne({ _id: submission._id, status: 'in_review' }, { $set: { protection, protectionRequested: true } });
  if (updated.modifiedCount !== 1) throw new AppError('submission_state_conflict', 409, 'This clip left review meanwhile.');
  await deps.db.reviewQueue.updateOne({ _id: submission._id }, { $set: { sensitive: true, protectionRequested: true } });
  await deps.queue.enqueue('protect-clip', { submissionId: id, trackVersion: 0 });
  await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'protection_enabled', target: { kind: 'submission', id }, details: { face: true } }, now);
}

