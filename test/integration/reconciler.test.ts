import { claim, MAX_CLAIMS } from '../../shared/submissions/processing';
import type { Submission } from '../../shared/submissions/submission.model';
import { reconcile, RECONCILE, requeueAfterRedisLoss } from '../../worker/reconciler';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { submitFile, workerDeps } from '../helpers/worker-env';
import Redis from 'ioredis';
import { Types } from 'mongoose';
import { protectJobId } from '../../shared/queue/queue';
import { enableFaceProtection, saveFaceMasks } from '../../server/services/protection.service';
import type { Moderator } from '../../server/services/review.service';
import { clipInReview } from '../helpers/review-fixtures';

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
    expect(await claim(app.services.db.submissions, abandoned, { by: 'test', leaseSeconds: 60 })).toMatchObject({ kind: 'claimed' });
    await loseTheQueue();
    const deps = workerDeps(app);

    expect(await reconcile(deps, new Date())).toBe(0); // too recent (the lease is live): a worker may be about to take them
    const later = new Date(Date.now() + 60_000 + RECONCILE.receivedGraceMs + RECONCILE.expiredLeaseGraceMs);
    expect(await reconcile(deps, later)).toBe(2);

    expect(await app.services.queue.jobState(waiting)).toBe('waiting');
    expect(await app.services.queue.jobState(abandoned)).toBe('waiting');
    const handedBack = (await app.services.db.submissions.findById(abandoned).lean<Submission>())!;
    expect(handedBack.status).toBe('received');
    expect(handedBack.history.at(-1)).toMatchObject({ transition: 'requeued', by: 'reconciler' });

    expect(await reconcile(deps, later)).toBe(0); // the jobs exist now: nothing to do twice
  });

  test('when Redis loses the queue, then its mark is gone too, and every waiting clip (one received a moment ago too) is queued again at once, once', async () => {
    const deps = workerDeps(app);
    await app.services.queue.markRedis();
    expect(await app.services.queue.markRedis()).toBe(false); // kept: nothing lost
    const clips = [await submitFile(app, await FIXTURES.noAudio!()), await submitFile(app, await FIXTURES.noAudio!())];
    await loseTheQueue();
    for (const id of clips) expect(await app.services.queue.jobState(id)).toBeNull();

    expect(await app.services.queue.markRedis()).toBe(true); // the mark was gone: Redis lost its data
    expect(await app.services.queue.markRedis()).toBe(false); // and is back
    expect(await reconcile(deps, new Date())).toBe(0); // a regular round leaves clips this recent alone
    expect(await requeueAfterRedisLoss(deps)).toBeGreaterThanOrEqual(clips.length);
    for (const id of clips) expect(await app.services.queue.jobState(id)).toBe('waiting');
    expect(await requeueAfterRedisLoss(deps)).toBe(0); // their jobs exist now
  });

  test('when a clip has stopped its worker in every attempt, then it is failed instead of queued forever', async () => {
    const doomed = await submitFile(app, await FIXTURES.noAudio!());
    expect(await claim(app.services.db.submissions, doomed, { by: 'test', leaseSeconds: 60 })).toMatchObject({ kind: 'claimed' });
    // As if each earlier claim had ended with its worker killed.
    await app.services.db.submissions.updateOne({ _id: doomed }, { $set: { 'processing.attempts': MAX_CLAIMS } });
    await loseTheQueue();
    await reconcile(workerDeps(app), new Date(Date.now() + 60_000 + RECONCILE.expiredLeaseGraceMs + 1_000));
    const failed = (await app.services.db.submissions.findById(doomed).lean<Submission>())!;
    expect(failed.status).toBe('failed');
    expect(failed.history.at(-1)).toMatchObject({ transition: 'processing_failed', by: 'reconciler' });
  });

  test('when moderators saved a protected clip\'s masks and the render job was lost, then it is queued again, once', async () => {
    const { id } = await clipInReview(app, { protection: true });
    const moderator: Moderator = { id: new Types.ObjectId().toHexString(), email: 'ana@example.org', role: 'moderator', campaigns: [] };
    await saveFaceMasks({ db: app.services.db, now: () => new Date(), claimSeconds: 900, queue: app.services.queue }, moderator, id, { version: 1, keep: [], boxes: [{ start: 0, end: 1, x: 0.1, y: 0.1, w: 0.2, h: 0.2 }] });
    await loseTheQueue();
    const deps = workerDeps(app);
    const later = new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000);
    // (The clips of the tests above lost their jobs again too: they are queued again as well.)
    expect(await reconcile(deps, later)).toBeGreaterThanOrEqual(1);
    expect(await app.services.queue.jobState(protectJobId(id, 2))).toBe('waiting');
    expect(await reconcile(deps, later)).toBe(0);
  });

  test('when a moderator switched face protection on and its first protected render was lost, then it is queued again, once', async () => {
    const { id } = await clipInReview(app);
    // An unprotected clip has its master (the fixture's preview stands in for it).
    const clip = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    await app.services.db.submissions.updateOne({ _id: clip._id }, { $set: { 'outputs.master': clip.outputs.preview } });
    const moderator: Moderator = { id: new Types.ObjectId().toHexString(), email: 'ben@example.org', role: 'moderator', campaigns: [] };
    await enableFaceProtection({ db: app.services.db, now: () => new Date(), claimSeconds: 900, queue: app.services.queue }, moderator, id);
    await loseTheQueue();
    const deps = workerDeps(app);
    const later = new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000);
    expect(await reconcile(deps, later)).toBeGreaterThanOrEqual(1);
    expect(await app.services.queue.jobState(protectJobId(id, 0))).toBe('waiting');
    expect(await reconcile(deps, later)).toBe(0);
  });

  test.each([
    ['hide my face', { face: true, voice: false, card: false }, 1],
    ['disguise my voice', { face: false, voice: true, card: false }, 0],
    ['the card', { face: false, voice: true, card: true }, 0],
  ])('when processing drew a protected clip\'s preview (%s) and the job for its protected master was lost, then a render is queued again, once', async (_name, choice, version) => {
    const { id } = await clipInReview(app);
    const clip = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    // As processing leaves it: the clean master, the protected preview drawn at the track's version, no protected master.
    await app.services.db.submissions.updateOne(
      { _id: clip._id },
      { $set: { 'outputs.master': clip.outputs.preview, protection: { ...choice, by: 'contributor', at: new Date() }, protectedRender: { trackVersion: version, at: new Date() } } },
    );
    await loseTheQueue();
    const deps = workerDeps(app);
    const later = new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000);
    expect(await reconcile(deps, later)).toBeGreaterThanOrEqual(1);
    expect(await app.services.queue.jobState(protectJobId(id, version))).toBe('waiting');
    expect(await reconcile(deps, later)).toBe(0);
  });
});
