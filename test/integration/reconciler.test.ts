import { transition } from '../../shared/domain/transition';
import type { Submission } from '../../shared/models/submission.model';
import { reconcile, RECONCILE } from '../../worker/reconciler';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { submitFile, workerDeps } from '../helpers/worker-env';
import Redis from 'ioredis';

/** The database is the source of truth: what the queue lost is queued again. */
describe('the reconciler', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  /** Redis lost everything (restored from an old backup, flushed): the jobs are gone, the documents remain. */
  async function loseTheQueue(): Promise<void> {
    const redis = new Redis(app.config.redis.url);
    const keys = await redis.keys(`${app.config.redis.queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }

  test('when received submissions and a processing one whose worker died have no job, then they are queued again; fresh ones are left alone', async () => {
    const waiting = await submitFile(app, await FIXTURES.noAudio!());
    const abandoned = await submitFile(app, await FIXTURES.noAudio!());
    await transition(app.services.db.submissions, abandoned, 'processing_started', 'received', { by: 'test', set: { 'processing.heartbeatAt': new Date() } });
    await loseTheQueue();
    const deps = workerDeps(app);

    expect(await reconcile(deps, new Date())).toBe(0); // too recent: a worker may be about to take them
    const later = new Date(Date.now() + RECONCILE.staleHeartbeatMs + 60_000);
    expect(await reconcile(deps, later)).toBe(2);

    expect(await app.services.queue.jobState(waiting)).toBe('waiting');
    expect(await app.services.queue.jobState(abandoned)).toBe('waiting');
    const handedBack = (await app.services.db.submissions.findById(abandoned).lean<Submission>())!;
    expect(handedBack.status).toBe('received');
    expect(handedBack.history.at(-1)).toMatchObject({ transition: 'requeued', by: 'reconciler' });

    expect(await reconcile(deps, later)).toBe(0); // the jobs exist now: nothing to do twice
  });

  test('when a clip has stopped its worker in every attempt, then it is failed instead of queued forever', async () => {
    const doomed = await submitFile(app, await FIXTURES.noAudio!());
    await transition(app.services.db.submissions, doomed, 'processing_started', 'received', {
      by: 'test',
      set: { 'processing.heartbeatAt': new Date(), 'processing.attempts': RECONCILE.maxAttempts },
    });
    await loseTheQueue();
    await reconcile(workerDeps(app), new Date(Date.now() + RECONCILE.staleHeartbeatMs + 60_000));
    const failed = (await app.services.db.submissions.findById(doomed).lean<Submission>())!;
    expect(failed.status).toBe('failed');
    expect(failed.history.at(-1)).toMatchObject({ transition: 'processing_failed', by: 'reconciler' });
  });
});
