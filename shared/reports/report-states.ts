/**
 * An action report's states and every move between them, in one table (issue 18). A move is applied with a
 * compare-and-set update on the state it starts from (report.service.ts), so two moderators deciding at once,
 * or a decision racing a withdrawal, end with exactly one winner; only the winner touches the tallies.
 *
 *   receiving ──submit──▶ in_review ──approve──▶ approved
 *       │                     │ └────reject───▶ rejected
 *       └──────────── withdraw (from any state but withdrawn) ──────────▶ withdrawn
 *
 * `receiving`: the report's fields are stored, its photos arrive one request each; nobody but its sender sees it.
 * Only `approved` reports are counted (report-tally.ts).
 */
export const REPORT_STATES = ['receiving', 'in_review', 'approved', 'rejected', 'withdrawn'] as const;
export type ReportState = (typeof REPORT_STATES)[number];

export const REPORT_TRANSITIONS = {
  submit: { from: ['receiving'], to: 'in_review' },
  approve: { from: ['in_review'], to: 'approved' },
  reject: { from: ['in_review'], to: 'rejected' },
  withdraw: { from: ['receiving', 'in_review', 'approved', 'rejected'], to: 'withdrawn' },
} as const satisfies Record<string, { from: readonly ReportState[]; to: ReportState }>;

export type ReportTransition = keyof typeof REPORT_TRANSITIONS;

export function canMove(name: ReportTransition, from: ReportState): boolean {
  return (REPORT_TRANSITIONS[name].from as readonly ReportState[]).includes(from);
}

/** What a state means, in English (the API's `description`; the pages say it in their language). */
export const REPORT_STATE_DESCRIPTIONS: Record<ReportState, string> = {
  receiving: 'The report is being sent: its photos are still arriving.',
  in_review: 'The report has arrived and waits for the campaign team to check it.',
  approved: 'The report was checked and is counted; its approved photos may be shown.',
  rejected: 'The campaign team did not accept the report.',
  withdrawn: 'The report was withdrawn: it is not counted and its photos are deleted.',
};

/** Whether the tallies count a report in this state. */
export const isCounted = (state: ReportState): boolean => state === 'approved';
