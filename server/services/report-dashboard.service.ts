import { AppError } from '../../shared/errors';
import type { Database } from '../../shared/db';
import type { Campaign } from '../../shared/models/campaign.model';
import { actionKindLabel, actionKindsOf } from '../../shared/reports/action-kinds';
import { positive, readTally, rebuildTallies, type GalleryPhoto, type ReportTally } from '../../shared/reports/report-tally';
import { appendAudit } from './audit.service';
import type { Report } from '../../shared/reports/report.model';
import { consentScope } from '../../shared/submissions/consent-scopes';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { findCampaign } from './campaign.service';
import { maySeeCampaign } from './staff.service';
import type { Moderator } from './review.service';

/**
 * What the press office reads about a campaign's actions (issue 18): the tallies per day of action and for the
 * whole campaign, read by `_id` only (shared/reports/report-tally.ts) — one small document per day, whatever the
 * number of reports — the approved photos kept with them, and exports (which do read the reports: a file, not a
 * page). The public summary reads the same tallies and shows numbers and photos whose consent allows the web.
 */

export const HOURS = [...Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')), 'unknown'];

export interface DayTally {
  day: string;
  actions: number;
  countries: number;
}

export interface Dashboard {
  campaign: Campaign;
  /** `all` or one of the days of action. */
  selected: string;
  days: DayTally[];
  tally: ReportTally;
  kinds: Array<[string, number]>;
  countries: Array<[string, number]>;
  hours: Array<[string, number]>;
  waiting: number;
}

export async function campaignForStaff(db: Database, me: Moderator, slug: string): Promise<Campaign> {
  const campaign = await findCampaign(db, slug);
  // Another campaign's staff learn nothing, not even that it exists.
  if (!maySeeCampaign(me, campaign.slug)) throw new AppError('campaign_not_found', 404, `There is no campaign "${slug}".`);
  return campaign;
}

export async function reportDashboard(db: Database, campaign: Campaign, day: string | undefined, options: { waiting?: boolean } = {}): Promise<Dashboard> {
  const id = campaign._id.toHexString();
  const daysOf = campaign.actionDays ?? [];
  const selected = day && daysOf.includes(day) ? day : 'all';
  const tallies = await Promise.all([...daysOf, 'all'].map((d) => readTally(db.connection, id, d)));
  const byDay = new Map([...daysOf, 'all'].map((d, i) => [d, tallies[i]!]));
  const tally = byDay.get(selected)!;
  const waiting = options.waiting === false ? 0 : await db.reportReview.countDocuments({ campaignId: campaign._id });
  return {
    campaign,
    selected,
    days: daysOf.map((d) => ({ day: d, actions: byDay.get(d)!.actions, countries: positive(byDay.get(d)!.countries).length })),
    tally,
    kinds: positive(tally.kinds),
    countries: positive(tally.countries),
    hours: HOURS.map((h) => [h, Object.hasOwn(tally.hours, h) ? tally.hours[h]! : 0] as [string, number]).filter(([h, n]) => n > 0 || h !== 'unknown'),
    waiting,
  };
}

/** The photos of a tally the public may see: approved, consent granting the web. */
export const publicPhotos = (tally: ReportTally): GalleryPhoto[] => tally.gallery.filter((g) => g.uses.includes('web'));

/**
 * An approved photo to hand out: the report approved, the photo kept, and (for the public page) its consent
 * granting the web. Read by `_id`.
 */
export async function approvedPhoto(deps: { db: Database; storage: ObjectStorage }, campaign: Campaign, reportId: string, photoId: string, audience: 'staff' | 'public') {
  const gone = () => new AppError('not_found', 404, 'There is nothing at this address.');
  if (!/^[0-9a-f]{24}$/.test(reportId) || !/^[0-9a-f]{16}$/.test(photoId)) throw gone();
  const report = await deps.db.reports.findById(reportId).lean<Report>();
  if (!report || report.status !== 'approved' || !report.campaignId.equals(campaign._id)) throw gone();
  const photo = report.photos.find((p) => p.id === photoId && !p.excluded);
  if (!photo) throw gone();
  if (audience === 'public' && !consentScope(campaign, report.consent).uses.includes('web')) throw gone();
  return { report, photo, n: report.photos.indexOf(photo) + 1 };
}

/** A cell of a CSV file: quoted, and never read by a spreadsheet as a formula (=, +, -, @, tab, CR at its start). */
export function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export const EXPORT_COLUMNS = ['id', 'date', 'start_time', 'kind', 'kind_name', 'country', 'city', 'participants', 'credit', 'partners', 'text', 'photos', 'uses', 'approved_at'] as const;

/** Every approved report of the campaign, as the export shows it (organisations only where consent allows naming them). */
export async function approvedReports(db: Database, campaign: Campaign) {
  const reports = await db.reports.find({ campaignId: campaign._id, status: 'approved' }).lean<Report[]>();
  reports.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : (a.decidedAt?.getTime() ?? 0) - (b.decidedAt?.getTime() ?? 0)));
  const kinds = actionKindsOf(campaign);
  return reports.map((r) => {
    const scope = consentScope(campaign, r.consent);
    return {
      id: r._id.toHexString(),
      date: r.date,
      start_time: r.startTime,
      kind: r.kind,
      kind_name: actionKindLabel(kinds, r.kind, 'en'),
      country: r.country,
      city: r.city,
      participants: r.participants,
      credit: scope.credit ? r.organisation : null,
      partners: scope.credit ? r.partners : null,
      text: r.text,
      photos: r.photos.filter((p) => !p.excluded).map((p) => ({ id: p.id, width: p.width, height: p.height, path: `/staff/reports/${campaign.slug}/photos/${r._id.toHexString()}/${p.id}` })),
      uses: scope.uses,
      approved_at: r.decidedAt,
    };
  });
}

export function toCsv(rows: Awaited<ReturnType<typeof approvedReports>>, origin: string): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      EXPORT_COLUMNS.map((column) => {
        if (column === 'photos') return csvCell(row.photos.map((p) => `${origin}${p.path}`).join(' '));
        if (column === 'uses') return csvCell(row.uses.join(' '));
        if (column === 'approved_at') return csvCell(row.approved_at ? row.approved_at.toISOString() : null);
        return csvCell(row[column]);
      }).join(','),
    );
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

/**
 * Recounts a campaign's tallies from its approved reports (`npm run cli -- reports rebuild-tallies <campaign>`):
 * the repair for a process that died between a report's move and its tally change. Audited.
 */
export async function rebuildReportTallies(db: Database, slug: string, now: Date, actor: { id: string | null; email: string | null }): Promise<{ reports: number }> {
  const campaign = await findCampaign(db, slug);
  const reports = await db.reports.find({ campaignId: campaign._id, status: 'approved' }).lean<Report[]>();
  const counted = reports.filter((r) => r.talliedAs);
  const gallery: GalleryPhoto[] = counted
    .sort((a, b) => (b.decidedAt?.getTime() ?? 0) - (a.decidedAt?.getTime() ?? 0))
    .flatMap((r) => {
      const scope = consentScope(campaign, r.consent);
      return r.photos.filter((p) => !p.excluded).map((p) => ({ reportId: r._id.toHexString(), photoId: p.id, width: p.width, height: p.height, date: r.date, kind: r.kind, country: r.country, credit: scope.credit ? r.organisation : null, uses: scope.uses, approvedAt: r.decidedAt ?? now }));
    });
  const days = [...new Set([...(campaign.actionDays ?? []), ...counted.map((r) => r.date)])];
  await rebuildTallies(db.connection, campaign._id.toHexString(), counted.map((r) => r.talliedAs!), days, now, gallery);
  await appendAudit(db, { actor, action: 'report_tallies_rebuilt', target: { kind: 'campaign', id: campaign.slug }, details: { reports: counted.length } }, now);
  return { reports: counted.length };
}
