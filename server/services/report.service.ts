import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Database } from '../../shared/db';
import { AppError, databaseUnavailable, isDatabaseUnavailable, isDuplicateKey } from '../../shared/errors';
import { cleanImage, ImageError } from '../../shared/images/clean-image';
import type { Campaign } from '../../shared/models/campaign.model';
import { ACTION_KIND_ID, actionKindsOf } from '../../shared/reports/action-kinds';
import { canMove, isCounted, REPORT_STATE_DESCRIPTIONS, REPORT_TRANSITIONS, type ReportState, type ReportTransition } from '../../shared/reports/report-states';
import { applyTally } from '../../shared/reports/report-tally';
import { withReportLock } from '../../shared/reports/report-lock';
import { PARTICIPANT_RANGES, REPORT_PHOTOS_MAX, type Report, type ReportPhoto, type TalliedAs } from '../../shared/reports/report.model';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { reportPhotoKey, reportPrefix } from '../../shared/storage/keys';
import { cleanString } from '../../shared/text/hostile-text';
import type { Logger } from '../../shared/logger';
import { appendAudit } from './audit.service';
import { findOpenCampaign, findUnionLink, type Actor } from './campaign.service';
import { checkConsent, hashStatusToken } from './submission.service';

/**
 * Action reports (issue 18), for the contributors' API and pages: a report's fields first (one small JSON
 * request), then each photo in a request of its own (a bad connection sends one photo again, never the
 * whole report), then "submit". Every photo is cleaned (shared/images/clean-image.ts: decoded, turned
 * upright, encoded again without metadata) before it is stored: the original is held in memory only.
 * Staff decisions and the tallies are in report-review.service.ts.
 */

export type ReportDeps = { db: Database; storage: ObjectStorage; logger: Logger; now(): Date };

/** A photo's caps: a phone's photo is 2–8 MB at 12–50 MP. */
export const REPORT_PHOTO_MAX_BYTES = 25 * 1024 * 1024;
export const REPORT_PHOTO_MAX_PIXELS = 60_000_000;

const HEX64 = /^[a-f0-9]{64}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export const reportInputSchema = z
  .object({
    campaign: z.string().min(1).max(64),
    link: z.string().min(10).max(100).optional(),
    language: z.string().regex(/^[a-z]{2,3}$/),
    kind: z.string().regex(ACTION_KIND_ID),
    date: z.string(),
    startTime: z.string().regex(TIME).nullable().optional(),
    city: cleanString(1, 100).refine((s) => !/[\n\r]/.test(s), 'one line'),
    country: z.string().regex(/^[A-Za-z]{2}$/, 'the two-letter code, e.g. BY').transform((s) => s.toUpperCase()).optional(),
    participants: z.enum(PARTICIPANT_RANGES),
    organisation: cleanString(0, 200).optional(),
    partners: cleanString(0, 500).optional(),
    text: cleanString(0, 2000).optional(),
    consent: z.object({ version: z.number().int().positive(), language: z.string().max(10), statements: z.array(z.string().max(64)).max(30) }).strict(),
    photos: z.number().int().min(0).max(REPORT_PHOTOS_MAX),
    /** SHA-256 (hex) of a status token the page made itself: the token never travels, and a resent form makes no second report. */
    statusTokenHash: z.string().regex(HEX64).optional(),
    /** Honeypot: people never see it. */
    website: z.string().max(200).optional(),
  })
  .strict();

export type ReportInput = z.input<typeof reportInputSchema>;

function invalid(error: z.ZodError): AppError {
  const fields = [...new Set(error.issues.map((issue) => String(issue.path[0] ?? '')))];
  return new AppError('invalid_report', 400, `Please check these fields: ${fields.join(', ')}.`, { details: { fields, issues: error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) } });
}

/** A report's id is derived from its status token's hash: the same form sent twice finds the same report. */
export function reportIdFor(statusTokenHash: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`action-report:${statusTokenHash}`).digest('hex').slice(0, 24));
}

function dbError(error: unknown): never {
  throw isDatabaseUnavailable(error) ? databaseUnavailable(error) : error;
}

/** Checks the report against its campaign: kind offered, date a day of action, consent, union link. */
export function checkReport(campaign: Campaign, input: z.output<typeof reportInputSchema>): { organisation: string; country: string; linkId: string | null } {
  if (!actionKindsOf(campaign).some((k) => k.id === input.kind)) {
    throw new AppError('unknown_action_kind', 400, 'This kind of action is not one the campaign lists. Please reload the page.', { details: { kinds: actionKindsOf(campaign).map((k) => k.id) } });
  }
  const days = campaign.actionDays ?? [];
  if (days.length === 0) throw new AppError('no_action_days', 409, 'The campaign has not announced its days of action yet, so no report can be sent.');
  if (!days.includes(input.date)) throw new AppError('not_an_action_day', 400, `The date must be one of the campaign's days of action: ${days.join(', ')}.`, { details: { days } });
  checkConsent(campaign, input.consent);
  if (input.link) {
    const link = findUnionLink(campaign, input.link);
    return { organisation: link.organisation, country: link.country.toUpperCase(), linkId: link.id };
  }
  const missing = [...(input.organisation ? [] : ['organisation']), ...(input.country ? [] : ['country'])];
  if (missing.length) throw new AppError('invalid_report', 400, `Please check these fields: ${missing.join(', ')}.`, { details: { fields: missing } });
  return { organisation: input.organisation!, country: input.country!, linkId: null };
}

export async function createReport(deps: ReportDeps, body: unknown): Promise<{ id: string; statusToken: string | null; status: ReportState }> {
  const parsed = reportInputSchema.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error);
  const input = parsed.data;
  if (input.website) throw new AppError('rejected', 400, 'The report could not be accepted.');
  const campaign = await findOpenCampaign(deps.db, input.campaign, deps.now());
  const who = checkReport(campaign, input);
  const statusToken = input.statusTokenHash ? null : randomBytes(32).toString('base64url');
  const statusTokenHash = input.statusTokenHash ?? hashStatusToken(statusToken!);
  const now = deps.now();
  const doc: Omit<Report, 'createdAt' | 'updatedAt'> = {
    _id: reportIdFor(statusTokenHash),
    campaignId: campaign._id,
    status: 'receiving',
    statusTokenHash,
    linkId: who.linkId,
    language: input.language,
    kind: input.kind,
    date: input.date,
    startTime: input.startTime ?? null,
    city: input.city,
    country: who.country,
    participants: input.participants,
    organisation: who.organisation,
    partners: input.partners ?? '',
    text: input.text ?? '',
    consent: { ...input.consent, givenAt: now },
    photosExpected: input.photos,
    photos: [],
    photosRev: 0,
    rejection: null,
    talliedAs: null,
    decidedAt: null,
    personalDataClearedAt: null,
    history: [],
  };
  try {
    await deps.db.reports.create(doc);
  } catch (error) {
    if (!isDuplicateKey(error)) dbError(error);
    // The same form again (its answer was lost): the report the first one made.
    const existing = await deps.db.reports.findById(doc._id, { status: 1 }).lean<Pick<Report, 'status'>>();
    return { id: doc._id.toHexString(), statusToken, status: existing?.status ?? 'receiving' };
  }
  return { id: doc._id.toHexString(), statusToken, status: 'receiving' };
}

function notFound(): AppError {
  return new AppError('report_not_found', 404, 'No report matches this id and status token.');
}

/** The report whose status token this is; the same answer, in constant time, for an unknown id and a wrong token. */
export async function findOwnReport(deps: Pick<ReportDeps, 'db'>, id: string, statusToken: string): Promise<Report> {
  if (!/^[a-f0-9]{24}$/.test(id)) throw notFound();
  const report = await deps.db.reports.findById(id).lean<Report>().catch(dbError);
  const expected = Buffer.from(report?.statusTokenHash ?? '0'.repeat(64), 'hex');
  const given = Buffer.from(hashStatusToken(statusToken), 'hex');
  if (!report || !timingSafeEqual(expected, given)) throw notFound();
  return report;
}

/** An image refusal, in the API's words (the page says it in its language by the code). */
function photoRefusal(error: ImageError): AppError {
  switch (error.reason) {
    case 'heic':
      return new AppError('photo_heic', 415, 'HEIC/HEIF photos (the iPhone\'s default) cannot be read here. Please send it as JPEG: on the iPhone, Settings → Camera → Formats → Most Compatible, or share the photo as JPEG.');
    case 'too_big':
      return new AppError('photo_too_large', 413, `The photo is too large: at most ${REPORT_PHOTO_MAX_BYTES / 1024 / 1024} MB.`, { details: { maxBytes: REPORT_PHOTO_MAX_BYTES } });
    case 'too_many_pixels':
      return new AppError('photo_too_large', 413, 'The photo has too many pixels.', { details: { maxPixels: REPORT_PHOTO_MAX_PIXELS } });
    case 'empty':
      return new AppError('photo_missing', 400, 'No photo was sent.');
    case 'damaged':
      return new AppError('photo_damaged', 400, 'The photo is damaged or cut short. Please send it again.');
    case 'unsupported_type':
    case 'not_an_image':
      return new AppError('photo_unsupported_type', 415, 'Photos must be JPEG, PNG or WebP.');
  }
}

export function reportPhotoView(reportId: string, photo: ReportPhoto) {
  return { id: photo.id, slot: photo.slot, contentType: photo.contentType, bytes: photo.bytes, width: photo.width, height: photo.height, excluded: photo.excluded };
}

/**
 * One photo of a report still `receiving`, for its place on the form (`slot`): cleaned, stored under a new
 * key, recorded under the report's lock (shared/reports/report-lock.ts: two requests for one report never
 * lose each other's photo); a photo already at that place is replaced (its object removed). The original bytes are never stored.
 */
export async function addReportPhoto(deps: ReportDeps, id: string, statusToken: string, slot: number, bytes: Buffer) {
  let report = await findOwnReport(deps, id, statusToken);
  if (!Number.isInteger(slot) || slot < 0 || slot >= REPORT_PHOTOS_MAX) throw new AppError('invalid_photo_slot', 400, `A report has at most ${REPORT_PHOTOS_MAX} photos (places 0–${REPORT_PHOTOS_MAX - 1}).`);
  if (report.status !== 'receiving') throw new AppError('report_sent', 409, 'This report has already been sent: photos can no longer be added.');
  let cleaned;
  try {
    cleaned = await cleanImage(bytes, { kind: 'photo', maxBytes: REPORT_PHOTO_MAX_BYTES, maxPixels: REPORT_PHOTO_MAX_PIXELS });
  } catch (error) {
    if (error instanceof ImageError) throw photoRefusal(error);
    throw error;
  }
  const photoId = randomBytes(8).toString('hex');
  const photo: ReportPhoto = {
    id: photoId,
    slot,
    key: reportPhotoKey(id, photoId),
    contentType: cleaned.contentType,
    bytes: cleaned.body.length,
    width: cleaned.width,
    height: cleaned.height,
    sha256: createHash('sha256').update(cleaned.body).digest('hex'),
    excluded: false,
  };
  await deps.storage.upload(photo.key, cleaned.body, photo.contentType);
  const replaced = await withReportLock(deps.db.connection, `report:${id}`, async () => {
    report = await findOwnReport(deps, id, statusToken);
    if (report.status !== 'receiving') return null;
    const photos = [...report.photos.filter((p) => p.slot !== slot), photo].sort((a, b) => a.slot - b.slot);
    await deps.db.reports.updateOne({ _id: report._id, status: 'receiving' }, { $set: { photos }, $inc: { photosRev: 1 } }).catch(dbError);
    return report.photos.filter((p) => p.slot === slot);
  });
  if (!replaced) {
    await deps.storage.remove(photo.key).catch(() => undefined);
    throw new AppError('report_sent', 409, 'This report has already been sent: photos can no longer be added.');
  }
  await Promise.all(replaced.map((p) => deps.storage.remove(p.key).catch(() => undefined)));
  return reportPhotoView(id, photo);
}

/** What the hour of the timeline is for a report. */
const hourOf = (report: Pick<Report, 'startTime'>) => (report.startTime ? report.startTime.slice(0, 2) : 'unknown');

export function talliedAs(report: Report): TalliedAs {
  return { date: report.date, kind: report.kind, country: report.country, hour: hourOf(report), photos: report.photos.filter((p) => !p.excluded).length };
}

/**
 * Moves a report from the state it is in (the one table: shared/reports/report-states.ts), with the state in
 * the update's filter. Callers hold the report's lock (shared/reports/report-lock.ts): on FerretDB a
 * compare-and-set alone lets two racing moves both succeed. Returns the report as it was before the move,
 * or null when it was not in `from`.
 */
export async function moveReport(db: Database, id: Types.ObjectId, name: ReportTransition, from: ReportState, by: string, now: Date, set: Record<string, unknown> = {}, reason?: string): Promise<Report | null> {
  if (!canMove(name, from)) return null;
  const to = REPORT_TRANSITIONS[name].to;
  const entry = { transition: name, from, to, at: now, by, ...(reason ? { reason } : {}) };
  return db.reports
    .findOneAndUpdate({ _id: id, status: from }, { $set: { ...set, status: to }, $push: { history: entry } }, { returnDocument: 'before' })
    .lean<Report>()
    .catch(dbError);
}

/** The contributor sends the report: it enters review (twice changes nothing). */
export async function submitReport(deps: ReportDeps, id: string, statusToken: string) {
  const report = await findOwnReport(deps, id, statusToken);
  if (report.status === 'receiving') await withReportLock(deps.db.connection, `report:${id}`, async () => {
    const now = deps.now();
    const moved = await moveReport(deps.db, report._id, 'submit', 'receiving', 'contributor', now, { photosExpected: report.photos.length });
    if (moved) {
      await deps.db.reportReview
        .create({ _id: report._id, campaignId: report.campaignId, kind: report.kind, date: report.date, country: report.country, organisation: report.organisation, photos: report.photos.length, enteredAt: now, claimedBy: null, claimedEmail: null, claimedUntil: null, sensitive: false, approvals: [] })
        .catch((error: unknown) => {
          if (!isDuplicateKey(error)) dbError(error);
        });
    }
  });
  return reportStatus(await findOwnReport(deps, id, statusToken));
}

export async function getReportStatus(deps: ReportDeps, id: string, statusToken: string) {
  return reportStatus(await findOwnReport(deps, id, statusToken));
}

export function reportStatus(report: Report) {
  return {
    id: report._id.toHexString(),
    status: report.status,
    description: REPORT_STATE_DESCRIPTIONS[report.status],
    kind: report.kind,
    date: report.date,
    country: report.country,
    photos: report.photos.length,
    photosExpected: report.photosExpected,
    photoSlots: report.photos.map((p) => p.slot),
    rejection: report.rejection,
    receivedAt: report.createdAt,
    updatedAt: report.updatedAt,
  };
}

/**
 * Takes a report out of everything (its sender's withdrawal, or a staff member's at its sender's request):
 * moved to `withdrawn` from whatever state it is in, under the report's lock (a decision racing it waits);
 * the tallies give back what it counted; its photos' objects are removed and its words cleared (the record
 * keeps its date, kind and country, for the audit). Withdrawing twice changes nothing.
 */
export async function withdrawReportById(deps: ReportDeps, id: Types.ObjectId, actor: Actor, by: 'contributor' | 'staff', reason?: string): Promise<Report> {
  await withReportLock(deps.db.connection, `report:${id.toHexString()}`, async () => {
    const current = await deps.db.reports.findById(id).lean<Report>().catch(dbError);
    if (!current) throw notFound();
    if (current.status === 'withdrawn') return;
    const now = deps.now();
    const before = await moveReport(deps.db, id, 'withdraw', current.status, by === 'contributor' ? 'contributor' : (actor.id ?? 'staff'), now, {
      city: '',
      organisation: '',
      partners: '',
      text: '',
      personalDataClearedAt: now,
      talliedAs: null,
    }, reason);
    if (!before) throw new AppError('report_busy', 409, 'The report is changing right now. Please try again.');
    if (isCounted(before.status) && before.talliedAs) await applyTally(deps.db.connection, before.campaignId.toHexString(), before.talliedAs, -1, now, { reportId: id.toHexString(), add: [] });
    await deps.db.reportReview.deleteOne({ _id: id }).catch(dbError);
    const keys = await deps.storage.list(reportPrefix(id.toHexString())).catch(() => [] as string[]);
    await Promise.all(keys.map((key) => deps.storage.remove(key).catch((error: unknown) => deps.logger.error({ err: error, reportId: id.toHexString() }, 'could not remove a photo of a withdrawn report'))));
    // The photos' records go with their objects (sizes and hashes are of no use to anyone any more).
    await deps.db.reports.updateOne({ _id: id, status: 'withdrawn' }, { $set: { photos: [] }, $inc: { photosRev: 1 } }).catch(dbError);
    await appendAudit(deps.db, { actor, action: 'report_withdrawn', target: { kind: 'report', id: id.toHexString() }, details: { from: before.status, by, ...(reason ? { reason } : {}) } }, now);
  });
  return (await deps.db.reports.findById(id).lean<Report>())!;
}

export async function withdrawReport(deps: ReportDeps, id: string, statusToken: string) {
  const report = await findOwnReport(deps, id, statusToken);
  return reportStatus(await withdrawReportById(deps, report._id, { id: null, email: null }, 'contributor'));
}

/** How long a report may stay `receiving` (its sender never pressed "send", or the connection never came back). */
export const RECEIVING_EXPIRY_MS = 24 * 3600_000;

/**
 * Removes reports left `receiving` for longer than RECEIVING_EXPIRY_MS: their photos and their record (nobody but
 * their sender ever saw them; nothing was counted). Under each report's lock, so a photo arriving at that moment
 * or a late "submit" either finishes first or finds the report gone. Every server process runs it hourly (main.ts);
 * removing twice is harmless. Reads the reports by state: cheap while few are left half-sent.
 */
export async function sweepAbandonedReports(deps: ReportDeps): Promise<number> {
  const before = new Date(deps.now().getTime() - RECEIVING_EXPIRY_MS);
  const stale = await deps.db.reports.find({ status: 'receiving' }).select({ _id: 1, createdAt: 1 }).lean<Array<Pick<Report, '_id' | 'createdAt'>>>();
  let removed = 0;
  for (const { _id } of stale.filter((r) => r.createdAt < before)) {
    const id = _id.toHexString();
    await withReportLock(deps.db.connection, `report:${id}`, async () => {
      const current = await deps.db.reports.findById(_id).select({ status: 1, createdAt: 1 }).lean<Pick<Report, 'status' | 'createdAt'>>();
      if (current?.status !== 'receiving' || current.createdAt >= before) return;
      const keys = await deps.storage.list(reportPrefix(id));
      await Promise.all(keys.map((key) => deps.storage.remove(key)));
      await deps.db.reports.deleteOne({ _id, status: 'receiving' });
      removed += 1;
    });
  }
  return removed;
}
