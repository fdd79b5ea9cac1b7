/**
 * Every state a submission can be in, and every transition between them: the one table.
 * Code moves a submission only through `transition()` in transition.ts, which applies
 * a compare-and-set update (`{ _id, status: from }`), so a duplicate or late job loses cleanly.
 *
 *   received ──processing_started──▶ processing ──processing_succeeded──▶ in_review ──approved──▶ approved
 *      ▲                                 │   │                               │                     │
 *      └──────────requeued───────────────┘   ├──media_rejected──▶ rejected ◀─┘ moderator_rejected  │
 *      └──────────requeued─── failed ◀───────┘ processing_failed                                   │
 *                                                        released ◀──release_finished── releasing ◀┘ release_started
 *   any state but withdrawn ──withdrawn──▶ withdrawn
 *
 * Wired up today: received → processing → in_review | rejected | failed, and requeued.
 * The moderation (approve / reject), release and withdrawal transitions are part of the plan and the
 * table, so their shape is fixed now; the routes that fire them come with those features.
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

export const TRANSITIONS = {
  processing_started: { from: ['received', 'processing'], to: 'processing' },
  processing_succeeded: { from: ['processing'], to: 'in_review' },
  media_rejected: { from: ['processing'], to: 'rejected' },
  processing_failed: { from: ['processing'], to: 'failed' },
  requeued: { from: ['processing', 'failed', 'received'], to: 'received' },
  approved: { from: ['in_review'], to: 'approved' },
  moderator_rejected: { from: ['in_review'], to: 'rejected' },
  release_started: { from: ['approved'], to: 'releasing' },
  release_finished: { from: ['releasing'], to: 'released' },
  withdrawn: {
    from: ['received', 'processing', 'in_review', 'approved', 'releasing', 'released', 'rejected', 'failed'],
    to: 'withdrawn',
  },
} as const satisfies Record<string, { from: readonly SubmissionState[]; to: SubmissionState }>;

export type TransitionName = keyof typeof TRANSITIONS;

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
