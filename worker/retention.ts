import { originalsPrefix } from '../shared/storage/keys';
import { decidedWithOriginal, markOriginalDeleted, originalDueAt } from '../shared/submissions/retention';
import type { WorkerDeps } from './deps';

/**
 * The retention job: deletes the raw originals (video and uploaded subtitle file) that are due
 * (shared/submissions/retention.ts), then records it on the clip. Run on the reconciler's interval by
 * every worker; safe to run twice at once (a removal of a removed object is a no-op, the record is a
 * compare-and-set). `now` is injected so a test can move the clock. Returns how many originals went.
 */
export async function deleteDueOriginals(deps: Pick<WorkerDeps, 'db' | 'storage' | 'logger' | 'config'>, now: Date = new Date()): Promise<number> {
  let deleted = 0;
  for await (const candidate of decidedWithOriginal(deps.db.submissions)) {
    const due = originalDueAt(candidate, deps.config.retention);
    if (!due || due.getTime() > now.getTime()) continue;
    const id = candidate._id.toHexString();
    const keys = await deps.storage.list(originalsPrefix(id));
    await Promise.all(keys.map((key) => deps.storage.remove(key)));
    if (await markOriginalDeleted(deps.db.submissions, candidate._id, now)) deleted += 1;
  }
  if (deleted > 0) deps.logger.info({ deleted }, 'retention: raw originals deleted');
  return deleted;
}
