import { Types } from 'mongoose';
import type { Database } from '../../shared/db';
import { AppError } from '../../shared/errors';
import type { Campaign } from '../../shared/models/campaign.model';
import type { StaffRole } from '../../shared/models/staff-user.model';
import type { Logger } from '../../shared/logger';
import type { JobQueue } from '../../shared/queue/queue';
import { approve, reject } from '../../shared/submissions/moderation';
import type { RetentionDays } from '../../shared/config';
import type { ReviewSnapshot } from '../../shared/submissions/submission.model';
import { claimOf, claimReview, releaseReview, type ReviewClaim } from '../../shared/submissions/review-claims';
import type { ReviewEntry } from '../../shared/submissions/review-queue';
import type { Submission } from '../../shared/submissions/submission.model';
import { appendAudit } from './audit.service';
import { withdrawSubmission } from './withdrawal.service';
import { maySeeCampaign } from './staff.service';
import { isProtected } from '../../shared/protection/protection';
import { protectionPending } from '../../shared/protection/approval';

/**
 * The moderators' decisions: claim, approve (after the safety checklist; a sensitive clip needs two
 * moderators), reject with a campaign's reason template, and the bulk versions. Every action is audited.
 */

/** The safety checklist, ticked before approval: each item is answered "none seen" or "present". */
export const CHECKLIST = ['faces', 'location', 'uniforms', 'badges', 'plates', 'documents', 'protection'] as const;
export type ChecklistItem = (typeof CHECKLIST)[number];
export type ChecklistAnswer = 'clear' | 'present';
export type Checklist = Record<ChecklistItem, ChecklistAnswer>;

export interface Moderator {
  id: string;
  email: string;
  role: StaffRole;
  /** Campaign slugs the person is limited to (empty: all; admins see all). */
  campaigns: string[];
}

/**
 * `queue`: where an approval enqueues the clip's release (the reconciler also queues a release that was lost),
 * delayed by `releaseHoldSeconds` (RELEASE_HOLD_SECONDS; absent: 0), and where an undo removes it from.
 * `retention`: when a rejected clip's media go (a rejection can be undone until shortly before).
 */
export type ReviewDeps = { db: Database; now(): Date; claimSeconds: number; queue?: Pick<JobQueue, 'enqueue'> & Partial<Pick<JobQueue, 'cancel'>>; releaseHoldSeconds?: number; retention?: RetentionDays };

/** What a moderator's withdrawal needs besides: the queue for the takedown and a logger for a lost enqueue. */
type WithdrawDeps = ReviewDeps & { queue: JobQueue; logger: Logger };

export const notFound = () => new AppError('submission_not_found', 404, 'There is no such clip, or it is not in one of your campaigns.');

/** The ids of the campaigns a moderator may review (null: all). */
export async function campaignScope(db: Database, me: Moderator): Promise<Types.ObjectId[] | null> {
  if (me.role === 'admin' || me.campaigns.length === 0) return null;
  const found = await db.campaigns.find({ slug: { $in: me.campaigns } }).select({ _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
  return found.map((c) => c._id);
}

export async function loadInScope(db: Database, me: Moderator, id: string): Promise<{ submission: Submission; campaign: Campaign }> {
  if (!/^[0-9a-f]{24}$/.test(id)) throw notFound();
  const submission = await db.submissions.findById(id).lean<Submission>();
  if (!submission) throw notFound();
  const campaign = await db.campaigns.findById(submission.campaignId).lean<Campaign>();
  if (!campaign) throw notFound();
  if (!maySeeCampaign(me, campaign.slug)) throw notFound();
  return { submission, campaign };
}

export interface ReviewView {
  submission: Submission;
  campaign: Campaign;
  entry: ReviewEntry | null;
  claim: ReviewClaim | null;
}

/** What the review page shows: the clip, its campaign (consent texts, reasons), its queue entry and claim. */
export async function openReview(deps: ReviewDeps, me: Moderator, id: string): Promise<ReviewView> {
  const { submission, campaign } = await loadInScope(deps.db, me, id);
  const entry = await deps.db.reviewQueue.findById(submission._id).lean<ReviewEntry>();
  return { submission, campaign, entry, claim: entry ? await claimOf(deps.db.connection, id, deps.now()) : null };
}

const claimedByOther = (claim: ReviewClaim) =>
  // The address goes in the details (the page shows it to staff), never in the message, which is logged.
  new AppError('claimed_by_other', 409, 'Another moderator is reviewing this clip.', { details: { email: claim.email, until: claim.expiresAt.toISOString() } });
const notInReview = (status: string) =>
  new AppError('submission_state_conflict', 409, `This clip is "${status}" now and cannot be reviewed. Reload to see it as it is.`, { details: { status } });

/** Claims a clip for the moderator (or renews their claim); refused while someone else holds it. */
export async function claimClip(deps: ReviewDeps, me: Moderator, id: string): Promise<ReviewClaim> {
  const { submission } = await loadInScope(deps.db, me, id);
  const now = deps.now();
  const result = await claimReview(deps.db.connection, id, me, now, deps.claimSeconds);
  if (result.kind === 'gone') throw notInReview(submission.status);
  if (result.kind === 'held') throw claimedByOther(result.claim);
  if (!result.renewed) {
    await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'claim', target: { kind: 'submission', id }, details: { until: result.claim.expiresAt.toISOString() } }, now);
  }
  return result.claim;
}

/** A decision may be taken by whoever holds the clip's claim, or by anyone when no one holds it. */
async function checkNotHeldByOther(deps: ReviewDeps, me: Moderator, id: string): Promise<void> {
  const claim = await claimOf(deps.db.connection, id, deps.now());
  if (claim && claim.by !== me.id) throw claimedByOther(claim);
}

export type ApproveOutcome = { kind: 'approved' } | { kind: 'vote'; approvals: number; needed: number };

/** Which checklist answers make a clip sensitive (any "present"), and whether all were given. */
export function checklistSensitive(checklist: Partial<Record<string, string>>): { complete: boolean; sensitive: boolean; present: ChecklistItem[] } {
  const present = CHECKLIST.filter((item) => checklist[item] === 'present');
  return { complete: CHECKLIST.every((item) => checklist[item] === 'clear' || checklist[item] === 'present'), sensitive: present.length > 0, present };
}

/**
 * Approves a clip after the checklist. A sensitive clip (the contributor asked for protection, or an
 * answer is "present", now or by an earlier moderator) needs two distinct moderators: the first approval
 * is recorded as a vote and the clip goes back to the queue; the second moves it to `approved`.
 */
export async function approveClip(deps: ReviewDeps, me: Moderator, id: string, checklist: Checklist | null, confirm: { protectedChecked?: boolean } = {}): Promise<ApproveOutcome> {
  const { submission, campaign } = await loadInScope(deps.db, me, id);
  const entry = await deps.db.reviewQueue.findById(submission._id).lean<ReviewEntry>();
  if (!entry || submission.status !== 'in_review') throw notInReview(submission.status);
  await checkNotHeldByOther(deps, me, id);
  // A protected clip: only once its protected version shows the latest masks, and each approver says they watched it.
  const protectedClip = isProtected(submission.protection);
  if (protectedClip) {
    const pending = await protectionPending(deps.db, submission);
    if (pending) throw pending;
    if (!confirm.protectedChecked) throw new AppError('protection_unconfirmed', 400, 'Watch the protected preview to the end, then confirm that no face is recognisable in any frame and the voice cannot be recognised.');
  }
  if (!checklist && campaign.checklistRequired !== false) {
    throw new AppError('checklist_required', 400, 'Tick the safety checklist before approving this clip.');
  }
  const answers = checklist ? checklistSensitive(checklist) : { complete: true, sensitive: false, present: [] };
  if (!answers.complete) throw new AppError('checklist_incomplete', 400, 'Answer every item of the safety checklist before approving.');
  const sensitive = entry.sensitive || submission.protectionRequested === true || answers.sensitive;
  if (!checklist && sensitive) throw new AppError('checklist_required', 400, 'This clip is sensitive: tick the safety checklist before approving it.');
  const now = deps.now();
  const audit = (details: Record<string, string | number | boolean | string[]>) =>
    appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'approve', target: { kind: 'submission', id }, details: { sensitive, present: answers.present, ...(protectedClip ? { protectedChecked: true } : {}), ...details } }, now);

  if (sensitive) {
    if (!entry.sensitive) await deps.db.reviewQueue.updateOne({ _id: entry._id }, { $set: { sensitive: true } });
    const voters = new Set(entry.approvals.map((v) => v.by));
    if (voters.has(me.id)) throw new AppError('already_approved', 409, 'You have approved this clip already; it needs a second moderator.');
    if (voters.size === 0) {
      await deps.db.reviewQueue.updateOne({ _id: entry._id }, { $push: { approvals: { by: me.id, email: me.email, at: now } } });
      // Two first approvals at once: the later reader sees both and approves.
      const after = await deps.db.reviewQueue.findById(entry._id).lean<ReviewEntry>();
      if (!after || new Set(after.approvals.map((v) => v.by)).size < 2) {
        await releaseReview(deps.db.connection, id, me.id);
        await audit({ approvals: 1, needed: 2 });
        return { kind: 'vote', approvals: 1, needed: 2 };
      }
    }
  }
  // What the queue knew (its entry goes with the approval): an undo puts the clip back with it, less this approval.
  const voted = entry.approvals.some((v) => v.by === me.id) ? entry.approvals : [...entry.approvals, { by: me.id, email: me.email, at: now }];
  const review: ReviewSnapshot = { sensitive, approvals: sensitive ? voted : [] };
  try {
    await approve(deps.db.submissions, id, { by: me.id, review, holdSeconds: deps.releaseHoldSeconds ?? 0, ...(deps.queue ? { queue: deps.queue } : {}) });
  } catch (error) {
    // A second approval racing this one got there first: the clip is approved, which is what both wanted.
    const now2 = await deps.db.submissions.findById(id).select({ status: 1 }).lean();
    if (!(sensitive && now2?.status === 'approved')) throw error;
    return { kind: 'approved' };
  }
  await audit(sensitive ? { approvals: 2, needed: 2 } : {});
  return { kind: 'approved' };
}

/** The text of a campaign's reason in a language (the contributor's), falling back to the campaign's first language. */
export function reasonText(campaign: Campaign, templateId: string, languages: string[]): string | null {
  const reason = campaign.rejectionReasons?.find((r) => r.id === templateId);
  if (!reason) return null;
  for (const language of [...languages, ...campaign.languages]) {
    const text = reason.texts.find((t) => t.language === language);
    if (text) return text.text;
  }
  return reason.texts[0]?.text ?? null;
}

/**
 * Rejects a clip with one of the campaign's reasons, in the contributor's language (the clip's language,
 * else the language they agreed to the consent in), plus an optional note from the moderator.
 */
export async function rejectClip(deps: ReviewDeps, me: Moderator, id: string, input: { template: string; note: string }): Promise<void> {
  const { submission, campaign } = await loadInScope(deps.db, me, id);
  if (submission.status !== 'in_review') throw notInReview(submission.status);
  await checkNotHeldByOther(deps, me, id);
  const template = input.template ? reasonText(campaign, input.template, [submission.language, submission.consent.language]) : null;
  if (input.template && !template) throw new AppError('reason_unknown', 400, `The campaign has no rejection reason "${input.template}".`, { details: { template: input.template } });
  const note = input.note.trim();
  if (!template && !note) throw new AppError('reason_required', 400, 'Pick a reason or write one: the contributor will read it.');
  const reason = [template, note].filter(Boolean).join('\n\n');
  const entry = await deps.db.reviewQueue.findById(submission._id).lean<ReviewEntry>();
  const review: ReviewSnapshot = { sensitive: entry?.sensitive ?? false, approvals: entry?.approvals ?? [] };
  await reject(deps.db.submissions, id, { by: me.id, reason, review, ...(input.template ? { template: input.template } : {}) });
  await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'reject', target: { kind: 'submission', id }, details: { template: input.template || null, note: note.length > 0 } }, deps.now());
}

export interface BulkResult {
  done: string[];
  skipped: { id: string; code: string }[];
}

/**
 * Approves or rejects several clips at once. Bulk approval is only for clips that need no checklist (their
 * campaign does not ask for it, and they are not sensitive); anything else is skipped with its reason.
 */
export async function bulkDecide(deps: ReviewDeps, me: Moderator, ids: string[], decision: { action: 'approve' } | { action: 'reject'; template: string; note: string }): Promise<BulkResult> {
  const result: BulkResult = { done: [], skipped: [] };
  for (const id of ids) {
    try {
      if (decision.action === 'approve') {
        const outcome = await approveClip(deps, me, id, null);
        if (outcome.kind !== 'approved') throw new AppError('checklist_required', 400, 'needs the checklist');
      } else await rejectClip(deps, me, id, decision);
      result.done.push(id);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string') throw error;
      result.skipped.push({ id, code });
    }
  }
  return result;
}

export const WITHDRAW_REASON_MAX = 2000;

/**
 * A moderator (or admin) withdraws a clip of their campaigns, in any state but withdrawn — typically a
 * released one the union or the contributor asked to take down. The confirmation and the reason are
 * required; the reason is kept in the clip's history. The withdrawal service does the rest (audit with the
 * moderator as actor, the takedown job: release objects, master, webhooks).
 */
export async function withdrawClip(deps: WithdrawDeps, me: Moderator, id: string, input: { confirm: boolean; reason: string }): Promise<Submission> {
  const { submission } = await loadInScope(deps.db, me, id);
  if (submission.status === 'withdrawn') return submission;
  if (!input.confirm) throw new AppError('withdraw_unconfirmed', 400, 'Tick the box to confirm the withdrawal: it cannot be undone.');
  const reason = input.reason.trim();
  if (!reason) throw new AppError('withdraw_reason_required', 400, 'Say why the clip is withdrawn: it is kept in the clip\'s history.');
  if (reason.length > WITHDRAW_REASON_MAX) throw new AppError('reason_too_long', 400, `The reason is longer than ${WITHDRAW_REASON_MAX} characters.`);
  return withdrawSubmission({ db: deps.db, queue: deps.queue, now: deps.now, logger: deps.logger }, id, { actor: { id: me.id, email: me.email }, by: 'moderator', reason });
}
