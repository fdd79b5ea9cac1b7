import type { Connection } from 'mongoose';
import type { TalliedAs } from './report.model';
import { withReportLock } from './report-lock';

/**
 * The live tally of approved action reports (issue 18): one small document per campaign and day of action,
 * and one for the whole campaign, keyed by `_id` (`<campaign id>:<YYYY-MM-DD>`, `<campaign id>:all`). The
 * dashboard reads these by `_id` only (FerretDB filters well by `_id` and sorts nothing), so its cost does not
 * grow with the reports. Changed only by the request that moved a report into or out of `approved` (under the
 * report's lock, report.service.ts), and only under the campaign's tally lock: concurrent approvals and
 * withdrawals add up exactly, on FerretDB too.
 * `rebuildTallies` recounts a campaign from its reports (the CLI, or after a crash between the move and `$inc`).
 */

export const REPORT_TALLIES = 'report_tallies';

export interface ReportTally {
  _id: string;
  actions: number;
  photos: number;
  kinds: Record<string, number>;
  /** ISO country code → actions; a country with 0 left in it is not counted as a country. */
  countries: Record<string, number>;
  /** Hour the action began (`00`–`23`, or `unknown`) → actions. */
  hours: Record<string, number>;
  /** The latest approved photos (newest first, at most GALLERY_MAX): the gallery reads them by `_id` too. */
  gallery: GalleryPhoto[];
  updatedAt?: Date;
}

/** An approved photo as the galleries show it: where it is, and what its sender's consent allows. */
export interface GalleryPhoto {
  reportId: string;
  photoId: string;
  width: number;
  height: number;
  date: string;
  kind: string;
  country: string;
  /** The organisation, when its consent lets the campaign name it; else null. */
  credit: string | null;
  /** The uses its consent grants (shared/submissions/consent-scopes.ts): the public page shows `web` ones only. */
  uses: string[];
  approvedAt: Date;
}

export const GALLERY_MAX = 60;

export const tallyId = (campaignId: string, date: string | 'all') => `${campaignId}:${date}`;

const SAFE_KEY = /^[A-Za-z0-9_]{1,40}$/;

function safe(key: string): string {
  // Field names from stored, validated values only: never a dot, a `$` or `__proto__`-like surprise.
  if (!SAFE_KEY.test(key) || key === '__proto__') throw new Error(`not a tally key: ${key}`);
  return key;
}

/** What one report adds (sign 1) or takes back (sign -1), by field path. Pure: unit-tested. */
export function tallyIncrement(what: TalliedAs, sign: 1 | -1): Record<string, number> {
  return {
    actions: sign,
    photos: sign * what.photos,
    [`kinds.${safe(what.kind)}`]: sign,
    [`countries.${safe(what.country)}`]: sign,
    [`hours.${safe(what.hour)}`]: sign,
  };
}

/**
 * Counts a report (sign 1) or takes it back (sign -1), in the day's and the campaign's tallies, under the
 * campaign's tally lock: FerretDB 1.24 loses concurrent `$inc`s (measured: 40 at once left 3), so every writer
 * reads, adds and writes back while it holds the lock (an insert of a unique `_id`, atomic on both databases).
 */
export async function applyTally(connection: Connection, campaignId: string, what: TalliedAs, sign: 1 | -1, now: Date, photos: { reportId: string; add: GalleryPhoto[] } | null = null): Promise<void> {
  const tallies = connection.db!.collection<ReportTally>(REPORT_TALLIES);
  await withReportLock(connection, `tally:${campaignId}`, async () => {
    for (const id of [tallyId(campaignId, what.date), tallyId(campaignId, 'all')]) {
      const tally = { ...EMPTY(id), ...((await tallies.findOne({ _id: id })) ?? {}) };
      for (const [path, n] of Object.entries(tallyIncrement(what, sign))) {
        const [field, key] = path.split('.') as [keyof ReportTally, string | undefined];
        if (key === undefined) (tally as unknown as Record<string, number>)[field] = ((tally as unknown as Record<string, number>)[field] ?? 0) + n;
        else {
          const counts = tally[field] as Record<string, number>;
          counts[key] = (Object.hasOwn(counts, key) ? counts[key]! : 0) + n;
        }
      }
      if (photos) {
        // Counted: its photos lead the gallery; taken back: they leave it.
        const others = (tally.gallery ?? []).filter((g) => g.reportId !== photos.reportId);
        tally.gallery = (sign === 1 ? [...photos.add, ...others] : others).slice(0, GALLERY_MAX);
      }
      await tallies.replaceOne({ _id: id }, { ...tally, updatedAt: now }, { upsert: true });
    }
  });
}

const EMPTY = (id: string): ReportTally => ({ _id: id, actions: 0, photos: 0, kinds: {}, countries: {}, hours: {}, gallery: [] });

/** One tally by `_id` (an empty one when nothing was counted yet). */
export async function readTally(connection: Connection, campaignId: string, date: string | 'all'): Promise<ReportTally> {
  const id = tallyId(campaignId, date);
  const found = await connection.db!.collection<ReportTally>(REPORT_TALLIES).findOne({ _id: id });
  return { ...EMPTY(id), ...(found ?? {}) };
}

/** Entries with a count above 0, largest first (then by key). */
export function positive(counts: Record<string, number>): Array<[string, number]> {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/**
 * Rewrites a campaign's tallies from its approved reports (a scan: for repairs, never for a page), under the
 * campaign's tally lock; `gallery`: their photos, newest first (each day's and the campaign's latest GALLERY_MAX).
 */
export async function rebuildTallies(connection: Connection, campaignId: string, counted: TalliedAs[], days: string[], now: Date, gallery: GalleryPhoto[] = []): Promise<void> {
  const byId = new Map<string, ReportTally>();
  const get = (id: string) => byId.get(id) ?? byId.set(id, EMPTY(id)).get(id)!;
  for (const day of days) get(tallyId(campaignId, day));
  get(tallyId(campaignId, 'all'));
  for (const what of counted) {
    for (const tally of [get(tallyId(campaignId, what.date)), get(tallyId(campaignId, 'all'))]) {
      tally.actions += 1;
      tally.photos += what.photos;
      tally.kinds[safe(what.kind)] = (tally.kinds[what.kind] ?? 0) + 1;
      tally.countries[safe(what.country)] = (tally.countries[what.country] ?? 0) + 1;
      tally.hours[safe(what.hour)] = (tally.hours[what.hour] ?? 0) + 1;
    }
  }
  for (const photo of gallery) {
    for (const tally of [get(tallyId(campaignId, photo.date)), get(tallyId(campaignId, 'all'))]) if (tally.gallery.length < GALLERY_MAX) tally.gallery.push(photo);
  }
  const tallies = connection.db!.collection<ReportTally>(REPORT_TALLIES);
  await withReportLock(connection, `tally:${campaignId}`, async () => {
    for (const tally of byId.values()) await tallies.replaceOne({ _id: tally._id }, { ...tally, updatedAt: now }, { upsert: true });
  });
}
