import type { AuditEvent } from './audit.service';
import { appendAudit } from './audit.service';
import { withdrawFrom } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import type { ServerDeps } from '../deps';

/**
 * A withdrawal, by a moderator or by the contributor with their status token (the caller has checked
 * who may): the clip is `withdrawn` at once — so it leaves the gallery and the feeds, and no link is
 * minted for it any more —, the audit log records it, and the takedown job deletes its release objects
 * and master (worker/handlers/takedown-submission.handler.ts). Should the enqueue fail, the reconciler
 * queues the takedown of every withdrawn clip not yet taken down. Withdrawing twice changes nothing.
 */
export async function withdrawSubmission(
  deps: Pick<ServerDeps, 'db' | 'queue' | 'now' | 'logger'>,
  id: string,
  options: { actor: AuditEvent['actor']; by: 'moderator' | 'contributor'; reason?: string },
): Promise<Submission> {
  const { submission: withdrawn, from } = await withdrawFrom(deps.db.submissions, id, { by: options.actor.id ?? options.by, reason: options.reason });
  // Audited by the request that withdrew it (a second withdrawal, even one racing this, changes nothing).
  if (from !== null) {
    await appendAudit(deps.db, { actor: options.actor, action: 'withdraw', target: { kind: 'submission', id }, details: { from, by: options.by } }, deps.now());
  }
  await deps.queue.enqueue('takedown-submission', { submissionId: id }, { replace: true }).catch((error: unknown) => {
    deps.logger.warn({ err: error, submissionId: id }, 'takedown not queued: the reconciler will queue it');
  });
  return withdrawn;
}
