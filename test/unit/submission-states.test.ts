import { canTransition, STATE_DESCRIPTIONS, SUBMISSION_STATES, TRANSITIONS } from '../../shared/domain/submission-states';

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
});
