import type { Database } from '../../shared/db';
import { withDocumentLock } from '../../shared/document-lock';
import { AppError } from '../../shared/errors';

/**
 * One change to a campaign at a time. Admins' changes read the campaign, check, then write: a field update
 * checks the languages against the current consent, a revocation rewrites the union links, a consent version
 * is numbered one past the last. Two at once could overtake each other; and FerretDB 1.x applies any update
 * as a read and then a write of the whole document (shared/submissions/transition.ts), so there two changes
 * to one campaign at once — a consent version and a revocation, two revocations — lose one of them (measured:
 * 15 of 15 tries). The lock is an insert of `<slug>` into `campaign_locks` (refused atomically by MongoDB and
 * FerretDB alike), removed when the change is done; one left by a process that died is taken over once stale.
 */

const LOCKS = 'campaign_locks';
export const LOCK_STALE_MS = 30_000;
const WAIT_MS = 5_000;
const POLL_MS = 15;

export async function withCampaignLock<T>(db: Database, slug: string, change: () => Promise<T>): Promise<T> {
  return withDocumentLock(db.connection, slug, { collection: LOCKS, staleMs: LOCK_STALE_MS, waitMs: WAIT_MS, pollMs: POLL_MS, jitter: false, busy: () => new AppError('campaign_busy', 409, 'Someone else was changing this campaign at the same time. Please reload and try again.') }, change);
}
