import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { cleanImage } from '../../shared/images/clean-image';
import { reportPhotoKey } from '../../shared/storage/keys';
import { AppError } from '../../shared/errors';
import type { Campaign } from '../../shared/models/campaign.model';
import type { ReportReviewEntry } from '../../shared/reports/report-review';
import { applyTally, type GalleryPhoto } from '../../shared/reports/report-tally';
import { consentScope } from '../../shared/submissions/consent-scopes';
import { PHOTO_CHECKS, type Report, type ReportPhoto } from '../../shared/reports/report.model';
import type { Database } from '../../shared/db';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import type { Logger } from '../../shared/logger';
import { withReportLock } from '../../shared/reports/report-lock';
import { appendAudit } from './audit.service';
import { campaignScope, reasonText, type Moderator } from './review.service';
import { maySeeCampaign } from './staff.service';
import { moveReport, talliedAs, withdrawReportById } from './report.service';

/**
 * Moderating action reports (issue 18), beside the clips and with their rules: a moderator claims a report,
 * answers the checklist for every photo (faces, location, badges, plates, documents), may leave photos out,
 * then approves (counted at once in the tallies) or rejects with one of the campaign's reasons. A report with a
 * photo where something is "present" needs two moderators, as a sensitive clip does. Every step is audited.
 */

export type ReportReviewDeps = { db: Database; storage: ObjectStorage; logger: Logger; now(): Date; claimSeconds: number };

export const reportNotFound = () => new AppError('report_not_found', 404, 'There is no such report, or it is not in one of your campaigns.');
const notInReview = (status: string) => new AppError('report_state_conflict', 409, `This report is "${status}" now and cannot be reviewed. Reload to see it as it is.`, { details: { status } });
const claimedByOther = (entry: ReportReviewEntry) => new AppError('claimed_by_other', 409, 'Another moderator is reviewing this report.', { details: { email: entry.claimedEmail ?? '', until: entry.claimedUntil?.toISOString() ?? '' } });

export async function loadReportInScope(db: Database, me: Moderator, id: string): Promise<{ report: Report; campaign: Campaign }> {
  if (!/^[0-9a-f]{24}$/.test(id)) throw reportNotFound();
  const report = await db.reports.findById(id).lean<Report>();
  // A report still being sent is its sender's alone.
  if (!report || report.status === 'receiving') throw reportNotFound();
  const campaign = await db.campaigns.findById(report.campaignId).lean<Campaign>();
  if (!campaign || !maySeeCampaign(me, campaign.slug)) throw reportNotFound();
  return { report, campaign };
}

/** The reports waiting, oldest first, within the moderator's campaigns (a small collection: sorted here). */
export async function listReportQueue(db: Database, me: Moderator, limit = 50): Promise<ReportReviewEntry[]> {
  const scope = await campaignScope(db, me);
  const entries = await db.reportReview.find(scope ? { campaignId: { $in: scope } } : {}).lean<ReportReviewEntry[]>();
  return entries.sort((a, b) => a.enteredAt.getTime() - b.enteredAt.getTime() || (a._id.toHexString() < b._id.toHexString() ? -1 : 1)).slice(0, limit);
}

export async function countReportQueue(db: Database, me: Moderator): Promise<number> {
  const scope = await campaignScope(db, me);
  return db.reportReview.countDocuments(scope ? { campaignId: { $in: scope } } : {});
}

export async function openReportReview(deps: ReportReviewDeps, me: Moderator, id: string) {
  const { report, campaign } = await loadReportInScope(deps.db, me, id);
  const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
  return { report, campaign, entry };
}

const heldByOther = (entry: ReportReviewEntry | null, me: Moderator, now: Date) => entry?.claimedBy && entry.claimedBy !== me.id && entry.claimedUntil && entry.claimedUntil > now;

/** Claims the report (or renews the claim), refused while someone else holds it (under the report's lock: exported below). */
async function claimReportLocked(deps: ReportReviewDeps, me: Moderator, id: string): Promise<void> {
  const { report } = await loadReportInScope(deps.db, me, id);
  const now = deps.now();
  const until = new Date(now.getTime() + deps.claimSeconds * 1000);
  const before = await deps.db.reportReview
    .findOneAndUpdate({ _id: report._id, $or: [{ claimedBy: null }, { claimedBy: me.id }, { claimedUntil: { $lte: now } }] }, { $set: { claimedBy: me.id, claimedEmail: me.email, claimedUntil: until } }, { returnDocument: 'before' })
    .lean<ReportReviewEntry>();
  if (!before) {
    const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
    if (!entry) throw notInReview(report.status);
    throw claimedByOther(entry);
  }
  if (before.claimedBy !== me.id || !before.claimedUntil || before.claimedUntil <= now) {
    await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'report_claimed', target: { kind: 'report', id }, details: { until: until.toISOString() } }, now);
  }
}

/** Leaves a photo out (or puts it back) while the report is in review, under the report's lock. */
export async function setPhotoExcluded(deps: ReportReviewDeps, me: Moderator, id: string, photoId: string, excluded: boolean): Promise<void> {
  await withReportLock(deps.db.connection, `report:${id}`, async () => {
    const { report } = await loadReportInScope(deps.db, me, id);
    if (report.status !== 'in_review') throw notInReview(report.status);
    const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
    if (heldByOther(entry, me, deps.now())) throw claimedByOther(entry!);
    if (!report.photos.some((p) => p.id === photoId)) throw new AppError('photo_not_found', 404, 'The report has no such photo.');
    const photos = report.photos.map((p) => (p.id === photoId ? { ...p, excluded } : p));
    await deps.db.reports.updateOne({ _id: report._id, status: 'in_review' }, { $set: { photos }, $inc: { photosRev: 1 } });
    await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: excluded ? 'report_photo_excluded' : 'report_photo_included', target: { kind: 'report', id }, details: { photo: photoId } }, deps.now());
  });
}

export type PhotoChecklist = Record<string, Record<string, 'clear' | 'present'>>;

/** The checklist's answers for every photo still in: complete or not, and the items found "present". */
export function photoChecklist(photos: ReportPhoto[], answers: Record<string, unknown>): { complete: boolean; present: string[] } {
  let complete = true;
  const present: string[] = [];
  for (const photo of photos.filter((p) => !p.excluded)) {
    for (const check of PHOTO_CHECKS) {
      const key = `${photo.id}-${check}`;
      const answer = Object.hasOwn(answers, key) ? answers[key] : undefined;
      if (answer === 'present') present.push(check);
      else if (answer !== 'clear') complete = false;
    }
  }
  return { complete, present: [...new Set(present)].sort() };
}

async function removeObjects(deps: ReportReviewDeps, photos: ReportPhoto[], reportId: string): Promise<void> {
  await Promise.all(photos.map((p) => deps.storage.remove(p.key).catch((error: unknown) => deps.logger.error({ err: error, reportId }, 'could not remove a report photo'))));
}

export type ReportApproveOutcome = { kind: 'approved' } | { kind: 'vote'; approvals: number; needed: number };

/**
 * Approves a report after the photo checklist. One "present" answer makes it sensitive: the first approval is
 * a vote, the second moderator's approves. The move `in_review → approved` is a compare-and-set that records
 * what it counts (`talliedAs`); only its winner adds to the tallies, so two approvals at once count once.
 * The photos left out are deleted.
 */
async function approveReportLocked(deps: ReportReviewDeps, me: Moderator, id: string, answers: Record<string, unknown>): Promise<ReportApproveOutcome> {
  const { report, campaign } = await loadReportInScope(deps.db, me, id);
  if (report.status !== 'in_review') throw notInReview(report.status);
  const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
  if (!entry) throw notInReview(report.status);
  const now = deps.now();
  if (heldByOther(entry, me, now)) throw claimedByOther(entry);
  const checklist = photoChecklist(report.photos, answers);
  const kept = report.photos.filter((p) => !p.excluded).length;
  if (!checklist.complete && kept > 0 && campaign.checklistRequired !== false) throw new AppError('checklist_incomplete', 400, 'Answer every item of the checklist for every photo kept before approving.');
  const sensitive = entry.sensitive || checklist.present.length > 0;
  const audit = (details: Record<string, string | number | boolean | string[]>) =>
    appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'report_approved', target: { kind: 'report', id }, details: { sensitive, present: checklist.present, photos: kept, ...details } }, now);
  if (sensitive) {
    const voters = new Set(entry.approvals.map((v) => v.by));
    if (voters.has(me.id)) throw new AppError('already_approved', 409, 'You have approved this report already; it needs a second moderator.');
    if (voters.size === 0) {
      await deps.db.reportReview.updateOne({ _id: entry._id }, { $set: { sensitive: true, claimedBy: null, claimedEmail: null, claimedUntil: null }, $push: { approvals: { by: me.id, email: me.email, at: now } } });
      const after = await deps.db.reportReview.findById(entry._id).lean<ReportReviewEntry>();
      if (!after || new Set(after.approvals.map((v) => v.by)).size < 2) {
        await audit({ approvals: 1, needed: 2 });
        return { kind: 'vote', approvals: 1, needed: 2 };
      }
    }
  }
  const counted = talliedAs(report);
  const before = await moveReport(deps.db, report._id, 'approve', 'in_review', me.id, now, { talliedAs: counted, decidedAt: now, photos: report.photos.filter((p) => !p.excluded) }, undefined);
  if (!before) {
    // Another approval got there first (what both wanted), or a withdrawal: nothing more to do here.
    const current = await deps.db.reports.findById(report._id).select({ status: 1 }).lean<Pick<Report, 'status'>>();
    if (current?.status === 'approved') return { kind: 'approved' };
    throw notInReview(current?.status ?? 'gone');
  }
  // The photos' record changed with the move: a photo arriving or excluded in between lost its compare-and-set.
  await deps.db.reports.updateOne({ _id: report._id }, { $inc: { photosRev: 1 } });
  const scope = consentScope(campaign, report.consent);
  const gallery: GalleryPhoto[] = report.photos
    .filter((p) => !p.excluded)
    .map((p) => ({ reportId: id, photoId: p.id, width: p.width, height: p.height, date: report.date, kind: report.kind, country: report.country, credit: scope.credit ? report.organisation : null, uses: scope.uses, approvedAt: now }));
  await applyTally(deps.db.connection, report.campaignId.toHexString(), counted, 1, now, { reportId: id, add: gallery });
  await deps.db.reportReview.deleteOne({ _id: report._id });
  await removeObjects(deps, report.photos.filter((p) => p.excluded), id);
  await audit(sensitive ? { approvals: 2, needed: 2 } : {});
  return { kind: 'approved' };
}

/** Rejects a report with one of the campaign's reasons (in its sender's language) and an optional note; its photos are deleted. */
async function rejectReportLocked(deps: ReportReviewDeps, me: Moderator, id: string, input: { template: string; note: string }): Promise<void> {
  const { report, campaign } = await loadReportInScope(deps.db, me, id);
  if (report.status !== 'in_review') throw notInReview(report.status);
  const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
  const now = deps.now();
  if (heldByOther(entry, me, now)) throw claimedByOther(entry!);
  const template = input.template ? reasonText(campaign, input.template, [report.language, report.consent.language]) : null;
  if (input.template && !template) throw new AppError('reason_unknown', 400, `The campaign has no rejection reason "${input.template}".`, { details: { template: input.template } });
  const note = input.note.trim();
  if (!template && !note) throw new AppError('reason_required', 400, 'Pick a reason or write one: the union will read it.');
  const reason = [template, note].filter(Boolean).join('\n\n');
  const before = await moveReport(deps.db, report._id, 'reject', 'in_review', me.id, now, { rejection: { code: input.template || 'other', reason }, decidedAt: now, photos: [] }, input.template || 'note');
  if (!before) throw notInReview((await deps.db.reports.findById(report._id).select({ status: 1 }).lean<Pick<Report, 'status'>>())?.status ?? 'gone');
  await deps.db.reports.updateOne({ _id: report._id }, { $inc: { photosRev: 1 } });
  await deps.db.reportReview.deleteOne({ _id: report._id });
  await removeObjects(deps, before.photos, id);
  await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'report_rejected', target: { kind: 'report', id }, details: { template: input.template || null, note: note.length > 0 } }, now);
}

/** A photo of a report a moderator may see (any photo while in review; only kept ones after approval). */
export async function reportPhotoForStaff(deps: ReportReviewDeps, me: Moderator, id: string, photoId: string): Promise<ReportPhoto> {
  const { report } = await loadReportInScope(deps.db, me, id);
  const photo = report.photos.find((p) => p.id === photoId);
  if (!photo) throw new AppError('photo_not_found', 404, 'The report has no such photo.');
  return photo;
}


/** claimReport, under the report's lock (shared/reports/report-lock.ts). */
export async function claimReport(deps: ReportReviewDeps, me: Moderator, id: string): Promise<void> {
  return withReportLock(deps.db.connection, `report:${id}`, () => claimReportLocked(deps, me, id));
}

/** approveReport, under the report's lock (shared/reports/report-lock.ts). */
export async function approveReport(deps: ReportReviewDeps, me: Moderator, id: string, answers: Record<string, unknown>): Promise<ReportApproveOutcome> {
  return withReportLock(deps.db.connection, `report:${id}`, () => approveReportLocked(deps, me, id, answers));
}

/** rejectReport, under the report's lock (shared/reports/report-lock.ts). */
export async function rejectReport(deps: ReportReviewDeps, me: Moderator, id: string, input: { template: string; note: string }): Promise<void> {
  return withReportLock(deps.db.connection, `report:${id}`, () => rejectReportLocked(deps, me, id, input));
}

/**
 * A moderator withdraws a report at its union's request (a lost status link, a change of mind by phone): the
 * same as the union's own withdrawal (report.service.ts: out of the tallies, photos deleted, words cleared),
 * from any state, with a confirmation and a reason for the audit.
 */
export async function withdrawReportByStaff(deps: ReportReviewDeps, me: Moderator, id: string, input: { confirm: boolean; reason: string }): Promise<void> {
  const { report } = await loadReportInScope(deps.db, me, id);
  if (!input.confirm) throw new AppError('withdraw_unconfirmed', 400, 'Tick the box to confirm the withdrawal: it cannot be undone.');
  if (!input.reason.trim()) throw new AppError('withdraw_reason_required', 400, 'Say why the report is withdrawn (for the audit log).');
  if (report.status === 'withdrawn') return;
  await withdrawReportById(deps, report._id, { id: me.id, email: me.email }, 'staff', input.reason.trim());
}

/** A box to paint over, in percent of the photo's width and height (what the review page's form asks). */
export interface MaskBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Paints a solid black box over part of a photo while the report is in review (a face, a badge, a plate): a
 * moderate blur leaves faces guessable (RECIPES), a solid box does not. The picture is decoded, painted, and
 * cleaned again (shared/images/clean-image.ts), stored under a new photo id and key (the old object is removed),
 * under the report's lock. The checklist for that photo is asked again (its answers were for the old picture).
 */
export async function maskReportPhoto(deps: ReportReviewDeps, me: Moderator, id: string, photoId: string, box: MaskBox): Promise<void> {
  await withReportLock(deps.db.connection, `report:${id}`, async () => {
    const { report } = await loadReportInScope(deps.db, me, id);
    if (report.status !== 'in_review') throw notInReview(report.status);
    const entry = await deps.db.reportReview.findById(report._id).lean<ReportReviewEntry>();
    if (heldByOther(entry, me, deps.now())) throw claimedByOther(entry!);
    const photo = report.photos.find((p) => p.id === photoId);
    if (!photo) throw new AppError('photo_not_found', 404, 'The report has no such photo.');
    const left = Math.floor((box.x / 100) * photo.width);
    const top = Math.floor((box.y / 100) * photo.height);
    const width = Math.min(photo.width - left, Math.ceil((box.w / 100) * photo.width));
    const height = Math.min(photo.height - top, Math.ceil((box.h / 100) * photo.height));
    if (width < 1 || height < 1) throw new AppError('mask_empty', 400, 'The box is outside the photo or has no size.');
    const chunks: Buffer[] = [];
    for await (const chunk of await deps.storage.download(photo.key)) chunks.push(chunk as Buffer);
    const painted = await sharp(Buffer.concat(chunks))
      .composite([{ input: { create: { width, height, channels: 3, background: '#000000' } }, left, top }])
      .png()
      .toBuffer();
    const cleaned = await cleanImage(painted, { kind: 'photo', maxBytes: 200 * 1024 * 1024, maxPixels: photo.width * photo.height });
    const newId = randomBytes(8).toString('hex');
    const masked: ReportPhoto = { ...photo, id: newId, key: reportPhotoKey(id, newId), contentType: cleaned.contentType, bytes: cleaned.body.length, width: cleaned.width, height: cleaned.height, sha256: createHash('sha256').update(cleaned.body).digest('hex') };
    await deps.storage.upload(masked.key, cleaned.body, masked.contentType);
    await deps.db.reports.updateOne({ _id: report._id, status: 'in_review' }, { $set: { photos: report.photos.map((p) => (p.id === photoId ? masked : p)) }, $inc: { photosRev: 1 } });
    await deps.storage.remove(photo.key).catch((error: unknown) => deps.logger.error({ err: error, reportId: id }, 'could not remove a photo replaced by its masked version'));
    await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'report_photo_masked', target: { kind: 'report', id }, details: { photo: photoId, masked: newId, box: [box.x, box.y, box.w, box.h].map(String) } }, deps.now());
  });
}
