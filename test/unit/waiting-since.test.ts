import { jobOptions, waitingSince } from '../../shared/queue/queue';

/** The oldest waiting job's age (solidarity_oldest_waiting_job_age_seconds) counts from when the job could be taken. */
describe('waitingSince', () => {
  const created = 1_000_000;

  test('when a new job waits, then it has waited since it was added', () => {
    expect(waitingSince({ timestamp: created, opts: jobOptions('process-submission', { submissionId: 'x' }), processedOn: undefined, attemptsMade: 0 })).toBe(created);
  });

  test("when a release waited out its approval's hold, then it has waited since the hold ended", () => {
    expect(waitingSince({ timestamp: created, opts: { ...jobOptions('release-submission', { submissionId: 'x' }), delay: 60_000 }, processedOn: undefined, attemptsMade: 0 })).toBe(created + 60_000);
  });

  test('when a failed job waits for its retry, then it has waited since its backoff ended, not since it was added', () => {
    // process-submission: exponential from 15 s; after 3 attempts bull waits (2^3 - 1) × 15 s.
    const started = created + 3_600_000;
    expect(waitingSince({ timestamp: created, opts: jobOptions('process-submission', { submissionId: 'x' }), processedOn: started, attemptsMade: 3 })).toBe(started + 7 * 15_000);
  });
});
