import type { Connection } from 'mongoose';
import { withDocumentLock } from '../document-lock';
import { AppError } from '../errors';

/**
 * One change at a time to an action report, or to a campaign's tallies. FerretDB 1.24 applies an update as a
 * read and then a write (README: The pipeline's states; FerretDB issue #3040): measured here, 40 concurrent
 * `$inc` of one counter left it at 3, and of 20 compare-and-sets racing on one document 9–16 succeeded. An
 * insert of an existing `_id` is refused atomically, so the lock is an insert of `<key>` into `report_locks`,
 * removed when the change is done; one left by a process that died is taken over once stale (as
 * server/services/campaign-lock.ts does for campaigns). Keys: `report:<id>` (its state, photos, review entry),
 * `tally:<campaign id>` (its tallies; always taken inside a report's lock, never the other way round).
 */

export const REPORT_LOCKS = 'report_locks';
const STALE_MS = 30_000;
const WAIT_MS = 10_000;
const POLL_MS = 10;

export async function withReportLock<T>(connection: Connection, key: string, change: () => Promise<T>): Promise<T> {
  return withDocumentLock(connection, key, { collection: REPORT_LOCKS, staleMs: STALE_MS, waitMs: WAIT_MS, pollMs: POLL_MS, jitter: true, busy: () => new AppError('report_busy', 409, 'The report is changing right now. Please try again.') }, change);
}
