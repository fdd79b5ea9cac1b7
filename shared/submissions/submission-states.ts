/**
 * Every state a submission can be in, and every transition between them: the one table.
 * Code moves a submission only through `transition()` in transition.ts, which applies a compare-and-set
 * update (`{ _id, status: from }`, plus the lease while processing), so a duplicate or late job loses
 * cleanly. The named operations callers use are in processing.ts and moderation.ts.
 *
 *   received ──processing_started──▶ processing ──processing_succeeded──▶ in_review ──approved──▶ approved
 *      ▲                                 │   │                               │                     │
 *      └──────────requeued───────────────┘   ├──media_rejected──▶ rejected ◀─┘ moderator_rejected  │
 *      └──────────requeued─── failed ◀───────┘ processing_failed                                   │
 *                                                        released ◀──release_finished── releasing ◀┘ release_started
 *   any state but withdrawn ──withdrawn──▶ withdrawn
 *   approved ──approval_undone──▶ in_review    rejected ──rejection_undone──▶ in_review   (a moderator's undo)
 *
 * Undo: while an approved clip waits out its hold (RELEASE_HOLD_SECONDS, the delayed release job), the
 * moderator who approved it may take the approval back; once `release_started` has happened, nothing can
 * (both are transitions from `approved`, so of an undo and a release start racing only one wins). A
 * moderator's rejection may be taken back while its media are not yet due for deletion (retention.ts).
 * All of it is wired up: the worker (processing), the moderators' pages (approve, reject), the release job
 * (releasing → released) and withdrawal with its takedown job.
 */

export const SUBMISSION_STATES = [
  'received',
  'processing',
  'in_review',
  'approved',
  'releasing',
  'released',
  'rejected',
  'failed',
  'withdrawn',
] as const;

export type SubmissionState = (typeof SUBMISSION_STATES)[number];

/**
 * `leased`: while a submission is `processing`, one worker holds it under a lease (shared/submissions/
 * lease.ts). A leased transition out of `processing` is applied only for the lease's holder, or by anyone
 * once the lease has expired (a dead worker's clip). `processing_started` from `processing` is such a
 * take-over: possible only after the previous holder's lease expired. Withdrawal is not leased: it wins
 * over a worker, whose own settle then finds the clip gone.
 */
export const TRANSITIONS = {
  processing_started: { from: ['received', 'processing'], to: 'processing', leased: true },
  processing_succeeded: { from: ['processing'], to: 'in_review', leased: true },
  media_rejected: { from: ['processing'], to: 'rejected', leased: true },
  processing_failed: { from: ['processing'], to: 'failed', leased: true },
  requeued: { from: ['processing', 'failed', 'received'], to: 'received', leased: true },
  approved: { from: ['in_review'], to: 'approved', leased: false },
  moderator_rejected: { from: ['in_review'], to: 'rejected', leased: false },
  release_started: { from: ['approved'], to: 'releasing', leased: false },
  approval_undone: { from: ['approved'], to: 'in_review', leased: false },
  rejection_undone: { from: ['rejected'], to: 'in_review', leased: false },
  release_finished: { from: ['releasing'], to: 'released', leased: false },
  withdrawn: {
    from: ['received', 'processing', 'in_review', 'approved', 'releasing', 'released', 'rejected', 'failed'],
    to: 'withdrawn',
    leased: false,
  },
} as const satisfies Record<string, { from: readonly SubmissionState[]; to: SubmissionState; leased: boolean }>;

export type TransitionName = keyof typeof TRANSITIONS;

/** The transitions that take a moderator's decision back (the clip returns to review where it was). */
export const UNDO_TRANSITIONS: readonly TransitionName[] = ['approval_undone', 'rejection_undone'];

/** What a contributor sees on the status endpoint for each state: short, plain, translatable later. */
export const STATE_DESCRIPTIONS: Record<SubmissionState, string> = {
  received: 'Your clip has arrived safely and is waiting to be processed.',
  processing: 'Your clip is being prepared for review.',
  in_review: 'Your clip is ready and waiting for a campaign moderator.',
  approved: 'Your clip was approved and will be shared by the campaign.',
  releasing: 'Your clip is being prepared for social media.',
  released: 'Your clip is available to the campaign’s social media teams.',
  rejected: 'Your clip could not be accepted. See the reason given.',
  failed: 'Something went wrong on our side while preparing your clip. The campaign team has been told.',
  withdrawn: 'Your clip was withdrawn and is no longer shared.',
};

/** States in which the worker still owes the submission some work (used by the reconciler). */
export const PENDING_PROCESSING_STATES: readonly SubmissionState[] = ['received', 'processing'];

export function transitionSources(name: TransitionName): readonly SubmissionState[] {
  return TRANSITIONS[name].from;
}

export function transitionTarget(name: TransitionName): SubmissionState {
  return TRANSITIONS[name].to;
}

export function canTransition(name: TransitionName, from: SubmissionState): boolean {
  return (TRANSITIONS[name].from as readonly SubmissionState[]).includes(from);
}

/** Whether this transition, taken from this state, needs the processing lease (held, or expired). */
export function isLeased(name: TransitionName, from: SubmissionState): boolean {
  return from === 'processing' && TRANSITIONS[name].leased;
}
