import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { isDuplicateKey, type AppError } from './errors';

/**
 * A lock held by one change at a time: an insert of the key into a lock collection (refused atomically by MongoDB and
 * FerretDB alike, where a compare-and-set is not), removed when the change is done; one left by a process that died
 * is taken over once stale. Used by campaigns (server/services/campaign-lock.ts) and reports (shared/reports/report-lock.ts).
 */
export interface LockOptions {
  collection: string;
  staleMs: number;
  waitMs: number;
  pollMs: number;
  /** Waits between tries get a random extra of up to one `pollMs` (many waiters on one key do not try in step). */
  jitter: boolean;
  /** The error when the lock was not free within `waitMs`. */
  busy(): AppError;
}

interface Lock {
  _id: string;
  at: Date;
}

export async function withDocumentLock<T>(connection: Connection, key: string, options: LockOptions, change: () => Promise<T>): Promise<T> {
  const locks = connection.db!.collection<Lock>(options.collection);
  const lock: Lock = { _id: key, at: new Date() };
  const giveUpAt = Date.now() + options.waitMs;
  for (;;) {
    try {
      lock.at = new Date();
      await locks.insertOne(lock);
      break;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const held = await locks.findOne({ _id: key });
    if (held && Date.now() - held.at.getTime() > options.staleMs) await locks.deleteOne({ _id: key, at: held.at });
    else if (Date.now() > giveUpAt) throw options.busy();
    else await sleep(options.pollMs + (options.jitter ? Math.random() * options.pollMs : 0));
  }
  try {
    return await change();
  } finally {
    await locks.deleteOne({ _id: key, at: lock.at });
  }
}
