import { originalDueAt } from '../../shared/submissions/retention';
import type { HistoryEntry, Submission } from '../../shared/submissions/submission.model';

const days = { approvedDays: 30, declinedDays: 7, protectedDays: 0 };
const at = (iso: string) => new Date(iso);
const entry = (transition: HistoryEntry['transition'], when: string): HistoryEntry => ({ transition, from: 'in_review', to: 'approved', at: at(when), by: 'x' });
const base = [entry('processing_started', '2026-01-01T00:00:00Z'), entry('processing_succeeded', '2026-01-01T00:01:00Z')];

describe('originalDueAt', () => {
  test.each([
    ['approved', [entry('approved', '2026-01-02T00:00:00Z')], '2026-02-01T00:00:00.000Z'],
    ['released', [entry('approved', '2026-01-02T00:00:00Z'), entry('release_started', '2026-01-02T00:00:01Z'), entry('release_finished', '2026-01-02T00:05:00Z')], '2026-02-01T00:00:00.000Z'],
    ['rejected', [entry('moderator_rejected', '2026-01-02T00:00:00Z')], '2026-01-09T00:00:00.000Z'],
    ['rejected', [entry('media_rejected', '2026-01-01T00:01:00Z')], '2026-01-08T00:01:00.000Z'],
    // Withdrawn after approval: the withdrawal is the latest decision, and the shorter period applies from it.
    ['withdrawn', [entry('approved', '2026-01-02T00:00:00Z'), entry('withdrawn', '2026-01-05T00:00:00Z')], '2026-01-12T00:00:00.000Z'],
  ] as const)('when a clip is %s, then its original is due on the right day', (status, decisions, due) => {
    const submission = { status, history: [...base, ...decisions] } as Pick<Submission, 'status' | 'history'>;
    expect(originalDueAt(submission, days)?.toISOString()).toBe(due);
  });

  test.each([
    ['approved', [entry('approved', '2026-01-02T00:00:00Z')], 0, '2026-01-02T00:00:00.000Z'],
    ['released', [entry('approved', '2026-01-02T00:00:00Z'), entry('release_finished', '2026-01-02T00:05:00Z')], 2, '2026-01-04T00:00:00.000Z'],
    // Rejected or withdrawn: the declined period, as for any clip (its media go with it).
    ['rejected', [entry('moderator_rejected', '2026-01-02T00:00:00Z')], 0, '2026-01-09T00:00:00.000Z'],
  ] as const)('when a protected clip is %s, then its unprotected original is due after the protected period', (status, decisions, protectedDays, due) => {
    const protection = { face: true, voice: false, card: false, by: 'contributor' as const, at: new Date() };
    expect(originalDueAt({ status, history: [...base, ...decisions], protection }, { ...days, protectedDays })?.toISOString()).toBe(due);
  });

  test.each(['received', 'processing', 'in_review', 'failed'] as const)('when a clip is %s (not decided), then its original is never due', (status) => {
    expect(originalDueAt({ status, history: base }, days)).toBeNull();
  });
});
