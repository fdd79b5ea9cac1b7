import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { AppError, isDuplicateKey } from '../errors';

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

interface Lock {
  _id: string;
  at: Date;
}

export async function withReportLock<T>(connection: Connection, key: string, change: () => Promise<T>): Promise<T> {
  const locks = connection.db!.collection<Lock>(REPORT_LOCKS);
  const lock: Lock = { _id: key, at: new Date() };
  const giveUpAt = Date.now() + WAIT_MS;
  for (;;) {
    try {
      lock.at = new Date();
      await locks.insertOne(lock);
      break;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const held = await locks.findOne({ _id: key });
    if (held && Date.now() - held.at.getTime() > STALE_MS) await locks.deleteOne({ _id: key, at: held.at });
    else if (Date.now() > giveUpAt) throw new AppError('report_busy', 409, 'The report is changing right now. Please try again.');
    else await sleep(POLL_MS + Math.random() * POLL_MS);
  }
  try {
    return await change();
  } finally {
    await locks.deleteOne({ _id: key, at: lock.at });
  }
}
