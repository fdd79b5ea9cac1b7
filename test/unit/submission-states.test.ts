import { leaseCondition, leaseExpired, newLease } from '../../shared/submissions/lease';
import { canTransition, isLeased, STATE_DESCRIPTIONS, SUBMISSION_STATES, TRANSITIONS, type SubmissionState, type TransitionName } from '../../shared/submissions/submission-states';
import { IllegalTransitionError, transitionUpdate } from '../../shared/submissions/transition';

const ID = '65f0c0ffee0123456789abcd';
const NOW = new Date('2026-01-01T12:00:00Z');
const LEASE = '0123456789abcdef';

describe('the submission state table', () => {
  test('every transition goes between known states, and every state has a description for contributors', () => {
    for (const { from, to } of Object.values(TRANSITIONS)) {
      expect(SUBMISSION_STATES).toContain(to);
      for (const state of from) expect(SUBMISSION_STATES).toContain(state);
    }
    expect(Object.keys(STATE_DESCRIPTIONS).sort()).toEqual([...SUBMISSION_STATES].sort());
  });

  test('every state can be reached from received, and nothing leaves withdrawn', () => {
    const reached = new Set<string>(['received']);
    let grew = true;
    while (grew) {
      grew = false;
      for (const { from, to } of Object.values(TRANSITIONS)) {
        if (!reached.has(to) && from.some((state) => reached.has(state))) {
          reached.add(to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...SUBMISSION_STATES].sort());
    expect(Object.values(TRANSITIONS).some(({ from }) => (from as readonly string[]).includes('withdrawn'))).toBe(false);
  });

  test('when a clip is in review, then processing cannot finish it again (a late job loses)', () => {
    expect(canTransition('processing_succeeded', 'in_review')).toBe(false);
    expect(canTransition('media_rejected', 'in_review')).toBe(false);
    expect(canTransition('processing_succeeded', 'processing')).toBe(true);
  });

  test('when a decision is undone, then only an approval not yet released or a rejection goes back to review, and the release start and the undo compete for the same state', () => {
    expect(TRANSITIONS.approval_undone).toEqual({ from: ['approved'], to: 'in_review', leased: false });
    expect(TRANSITIONS.rejection_undone).toEqual({ from: ['rejected'], to: 'in_review', leased: false });
    // Both leave `approved`: a compare-and-set on it lets one of them happen, never both.
    expect(TRANSITIONS.release_started.from).toEqual(TRANSITIONS.approval_undone.from);
    // Nothing once released (or being released) comes back to review.
    for (const name of Object.keys(TRANSITIONS) as TransitionName[]) {
      if (TRANSITIONS[name].to !== 'in_review') continue;
      expect([name, canTransition(name, 'releasing'), canTransition(name, 'released'), canTransition(name, 'withdrawn')]).toEqual([name, false, false, false]);
    }
  });

  test('when a transition is not in the table, then no update is even built', () => {
    for (const name of Object.keys(TRANSITIONS) as TransitionName[]) {
      for (const from of SUBMISSION_STATES) {
        if (canTransition(name, from)) continue;
        expect(() => transitionUpdate(ID, { name, from, by: 'test', now: NOW })).toThrow(IllegalTransitionError);
      }
    }
  });
});

describe('the processing lease', () => {
  const all = (Object.keys(TRANSITIONS) as TransitionName[]).flatMap((name) => (TRANSITIONS[name].from as readonly SubmissionState[]).map((from) => [name, from] as const));

  test('a lease with no expiry left, or none at all, is expired; one with time left is not', () => {
    expect(leaseExpired(null, NOW)).toBe(true);
    expect(leaseExpired(undefined, NOW)).toBe(true);
    expect(leaseExpired({ id: LEASE, expiresAt: NOW }, NOW)).toBe(true);
    expect(leaseExpired({ id: LEASE, expiresAt: new Date(NOW.getTime() + 1) }, NOW)).toBe(false);
    const lease = newLease(NOW, 30);
    expect(lease.id).toMatch(/^[a-f0-9]{16}$/);
    expect(lease.expiresAt.getTime() - NOW.getTime()).toBe(30_000);
    expect(newLease(NOW, 30).id).not.toBe(lease.id);
  });

  test.each(all)('%s from %s: the compare-and-set names the state, and the lease exactly when it is a leased move out of processing', (name, from) => {
    const leased = from === 'processing' && TRANSITIONS[name].leased;
    expect(isLeased(name, from)).toBe(leased);
    const byHolder = transitionUpdate(ID, { name, from, by: 'test', now: NOW, lease: LEASE });
    const byAnyone = transitionUpdate(ID, { name, from, by: 'test', now: NOW, lease: null });
    expect(byHolder.filter).toEqual({ _id: ID, status: from, ...(leased ? { 'processing.lease.id': LEASE } : {}) });
    // Without the lease id, only an expired (or missing) lease lets the move through.
    expect(byAnyone.filter).toEqual({ _id: ID, status: from, ...(leased ? leaseCondition(null, NOW) : {}) });
  });

  test('when a worker stalled past its lease, then claiming it again needs the lease expired, and the new claim gets a new lease', () => {
    expect(canTransition('processing_started', 'processing')).toBe(true);
    const { filter, update, lease } = transitionUpdate(ID, { name: 'processing_started', from: 'processing', by: 'worker', now: NOW, leaseSeconds: 20 });
    expect(filter).toEqual({ _id: ID, status: 'processing', $or: [{ 'processing.lease': null }, { 'processing.lease.expiresAt': { $lte: NOW } }] });
    expect(lease).toEqual({ id: expect.stringMatching(/^[a-f0-9]{16}$/), expiresAt: new Date(NOW.getTime() + 20_000) });
    expect(update).toMatchObject({ $set: { status: 'processing', 'processing.lease': lease }, $push: { history: { transition: 'processing_started', lease: lease!.id } } });
  });

  test.each(all.filter(([name]) => TRANSITIONS[name].to !== 'processing'))('%s from %s drops the lease', (name, from) => {
    const { update, lease } = transitionUpdate(ID, { name, from, by: 'test', now: NOW, lease: LEASE });
    expect(lease).toBeNull();
    expect((update.$set as Record<string, unknown>)['processing.lease']).toBeNull();
  });

  test('when the holder settles, then the history says under which lease; typed changes become the update', () => {
    const { update } = transitionUpdate(ID, {
      name: 'processing_succeeded',
      from: 'processing',
      by: 'worker',
      now: NOW,
      lease: LEASE,
      changes: { outputs: {}, processing: { progress: 100, finishedAt: NOW } },
    });
    expect(update).toEqual({
      $set: { status: 'in_review', 'processing.lease': null, outputs: {}, 'processing.progress': 100, 'processing.finishedAt': NOW },
      $push: { history: { transition: 'processing_succeeded', from: 'processing', to: 'in_review', at: NOW, by: 'worker', lease: LEASE } },
    });
  });

  test('withdrawal wins over a worker: it never waits for the lease', () => {
    expect(isLeased('withdrawn', 'processing')).toBe(false);
    expect(transitionUpdate(ID, { name: 'withdrawn', from: 'processing', by: 'campaign', now: NOW }).filter).toEqual({ _id: ID, status: 'processing' });
  });
});
