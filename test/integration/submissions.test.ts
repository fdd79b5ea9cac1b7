import { Types } from 'mongoose';
import { approve, listForReview, reject, withdraw } from '../../shared/submissions/moderation';
import { claim, heartbeat, MAX_CLAIMS, reportProgress, requeue, settle } from '../../shared/submissions/processing';
import type { Submission } from '../../shared/submissions/submission.model';
import { TRANSITION_SLOTS } from '../../shared/submissions/transition';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { submitFile } from '../helpers/worker-env';

/** The lifecycle module (shared/submissions) against the real database: leases, settling, moderation. */
describe('the submission lifecycle', () => {
  let app: TestApp;
  const submissions = () => app.services.db.submissions;
  const later = (seconds: number) => new Date(Date.now() + seconds * 1000);
  const load = async (id: string) => (await submissions().findById(id).lean<Submission>())!;
  const MEDIA = { container: 'mov', durationSeconds: 2, sizeBytes: 10, video: null, audio: null, streams: { total: 1, video: 1, audio: 0, subtitle: 0, data: 0, attachment: 0 } };

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  async function claimed(id: string, now?: Date) {
    const result = await claim(submissions(), id, { by: 'test', leaseSeconds: 30, now });
    if (result.kind !== 'claimed') throw new Error(`not claimed: ${result.kind}`);
    return result.lease.id;
  }

  /** A clip in review, moved there by the worker's operations (no worker needed for moderation tests). */
  async function inReview(): Promise<string> {
    const id = await submitFile(app, Buffer.from('not really a video'));
    const lease = await claimed(id);
    expect(await settle(submissions(), id, lease, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'test' })).toBe(true);
    return id;
  }

  describe('processing under a lease', () => {
    test('when a clip is claimed, then no one else can claim it until the lease expires; then the old holder is refused everything', async () => {
      const id = await submitFile(app, Buffer.from('x'));
      const first = await claimed(id);
      expect(await claim(submissions(), id, { by: 'test', leaseSeconds: 30 })).toMatchObject({ kind: 'held' });
      // The holder renews its lease; progress is recorded.
      expect(await heartbeat(submissions(), id, first, { leaseSeconds: 30 })).toBe(true);
      expect(await reportProgress(submissions(), id, first, 40)).toBe(true);
      expect((await load(id)).processing).toMatchObject({ progress: 40, attempts: 1, lease: { id: first } });

      // The first worker stalls: 31 s later its lease has expired, and a second worker takes over.
      const second = await claimed(id, later(31));
      expect(second).not.toBe(first);
      expect((await load(id)).processing).toMatchObject({ attempts: 2, progress: 0, lease: { id: second } });

      // The first wakes up: its heartbeat, progress and settle are all refused, and change nothing.
      expect(await heartbeat(submissions(), id, first, { leaseSeconds: 30 })).toBe(false);
      expect(await reportProgress(submissions(), id, first, 90)).toBe(false);
      expect(await settle(submissions(), id, first, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'test' })).toBe(false);
      expect(await settle(submissions(), id, first, { kind: 'failed', error: 'x' }, { by: 'test' })).toBe(false);
      expect(await settle(submissions(), id, first, { kind: 'handed-back' }, { by: 'test' })).toBe(false);
      expect((await load(id)).status).toBe('processing');

      expect(await settle(submissions(), id, second, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'test' })).toBe(true);
      const done = await load(id);
      expect(done).toMatchObject({ status: 'in_review', processing: { progress: 100, lease: null } });
      expect(done.history.map((h) => [h.transition, h.lease])).toEqual([
        ['processing_started', first],
        ['processing_started', second],
        ['processing_succeeded', second],
      ]);
      expect(await claim(submissions(), id, { by: 'test', leaseSeconds: 30 })).toEqual({ kind: 'nothing', status: 'in_review' });
    });

    test('when three workers claim a received clip at once, then exactly one gets it (also on FerretDB, whose updates are not atomic)', async () => {
      for (let round = 0; round < 5; round += 1) {
        const id = await submitFile(app, Buffer.from('x'));
        const results = await Promise.all([1, 2, 3].map(() => claim(submissions(), id, { by: 'test', leaseSeconds: 30 })));
        expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
        expect(results.filter((r) => r.kind === 'held')).toHaveLength(2);
        expect((await load(id)).history).toHaveLength(1);
      }
    });

    test('when a process died between taking its transition slot and updating, then the slot is freed once stale; a fresh one makes the move lose', async () => {
      const id = await submitFile(app, Buffer.from('x'));
      const slots = submissions().db.collection(TRANSITION_SLOTS);
      await slots.insertOne({ _id: `${id}:0` as never, submissionId: id, transition: 'processing_started', at: new Date() });
      expect(await claim(submissions(), id, { by: 'test', leaseSeconds: 30 })).toMatchObject({ kind: 'nothing' });
      expect((await load(id)).status).toBe('received');
      await slots.updateOne({ _id: `${id}:0` as never }, { $set: { at: new Date(Date.now() - 60_000) } });
      expect(await claim(submissions(), id, { by: 'test', leaseSeconds: 30 })).toMatchObject({ kind: 'claimed' });
    });

    test('when a transient failure is recorded, then the lease is let go so the retry claims at once', async () => {
      const id = await submitFile(app, Buffer.from('x'));
      const lease = await claimed(id);
      expect(await settle(submissions(), id, lease, { kind: 'retry', error: 'S3 was down' }, { by: 'test' })).toBe(true);
      expect((await load(id)).processing.lastError).toBe('S3 was down');
      expect(await claim(submissions(), id, { by: 'test', leaseSeconds: 30 })).toMatchObject({ kind: 'claimed' });
    });

    test('when a clip has been claimed MAX_CLAIMS times and its worker died again, then the next claim fails it instead', async () => {
      const id = await submitFile(app, Buffer.from('x'));
      for (let i = 0; i < MAX_CLAIMS; i += 1) await claimed(id, later(31 * i));
      expect(await claim(submissions(), id, { by: 'worker', leaseSeconds: 30, now: later(31 * MAX_CLAIMS) })).toEqual({ kind: 'exhausted' });
      const failed = await load(id);
      expect(failed.status).toBe('failed');
      expect(failed.history.at(-1)).toMatchObject({ transition: 'processing_failed', reason: expect.stringContaining(`${MAX_CLAIMS} attempts`) });
    });

    test('when an operator requeues, then a failed or abandoned clip goes back to received; a clip a live worker holds, or one in review, does not', async () => {
      const busy = await submitFile(app, Buffer.from('x'));
      await claimed(busy);
      await expect(requeue(submissions(), busy, { by: 'operator', reason: 'stuck?' })).rejects.toMatchObject({ code: 'submission_busy', status: 409 });
      expect(await requeue(submissions(), busy, { by: 'operator', reason: 'stuck', now: later(31) })).toMatchObject({ status: 'received' });

      const failed = await submitFile(app, Buffer.from('x'));
      await settle(submissions(), failed, await claimed(failed), { kind: 'failed', error: 'x' }, { by: 'test' });
      expect(await requeue(submissions(), failed, { by: 'operator', reason: 'try again' })).toMatchObject({ status: 'received' });
      expect((await load(failed)).history.at(-1)).toMatchObject({ transition: 'requeued', by: 'operator', reason: 'try again' });

      await expect(requeue(submissions(), await inReview(), { by: 'operator', reason: 'x' })).rejects.toMatchObject({ code: 'submission_state', status: 409 });
      await expect(requeue(submissions(), new Types.ObjectId().toHexString(), { by: 'operator', reason: 'x' })).rejects.toMatchObject({ status: 404 });
    });
  });

  describe('moderation', () => {
    test('when a moderator approves a clip in review, then it is approved, by them; approving it again is a conflict', async () => {
      const id = await inReview();
      expect(await approve(submissions(), id, { by: 'moderator-1' })).toMatchObject({ status: 'approved' });
      expect((await load(id)).history.at(-1)).toMatchObject({ transition: 'approved', from: 'in_review', to: 'approved', by: 'moderator-1' });
      await expect(approve(submissions(), id, { by: 'moderator-2' })).rejects.toMatchObject({ code: 'submission_state_conflict', status: 409, details: { status: 'approved' } });
    });

    test('when a moderator rejects with a reason, then the contributor sees it; without one, nothing changes', async () => {
      const id = await inReview();
      await expect(reject(submissions(), id, { by: 'moderator-1', reason: '   ' })).rejects.toMatchObject({ code: 'reason_required', status: 400 });
      await expect(reject(submissions(), id, { by: 'moderator-1', reason: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 'reason_too_long' });
      expect((await load(id)).status).toBe('in_review');
      const rejected = await reject(submissions(), id, { by: 'moderator-1', reason: ' The union name is missing. ' });
      expect(rejected).toMatchObject({ status: 'rejected', rejection: { code: 'moderator_rejected', reason: 'The union name is missing.' } });
      expect(rejected.history.at(-1)).toMatchObject({ transition: 'moderator_rejected', by: 'moderator-1', reason: 'The union name is missing.' });
    });

    test('when two moderators act on one clip at once, then exactly one wins and the other gets a conflict', async () => {
      for (let round = 0; round < 5; round += 1) {
        const id = await inReview();
        const results = await Promise.allSettled([approve(submissions(), id, { by: 'a' }), reject(submissions(), id, { by: 'b', reason: 'no' })]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'submission_state_conflict' } });
        expect((await load(id)).history.filter((h) => h.transition === 'approved' || h.transition === 'moderator_rejected')).toHaveLength(1);
      }
    });

    test.each([['received'], ['processing'], ['in_review'], ['approved'], ['rejected'], ['failed']])('when a clip that is %s is withdrawn, then it is withdrawn; again, nothing changes', async (state) => {
      const id = await submitFile(app, Buffer.from('x'));
      let lease: string | null = null;
      if (state !== 'received') lease = await claimed(id);
      if (state === 'in_review' || state === 'approved' || state === 'rejected') await settle(submissions(), id, lease!, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'test' });
      if (state === 'failed') await settle(submissions(), id, lease!, { kind: 'failed', error: 'x' }, { by: 'test' });
      if (state === 'approved') await approve(submissions(), id, { by: 'm' });
      if (state === 'rejected') await reject(submissions(), id, { by: 'm', reason: 'no' });
      expect((await load(id)).status).toBe(state);

      expect(await withdraw(submissions(), id, { by: 'contributor', reason: 'changed my mind' })).toMatchObject({ status: 'withdrawn', processing: { lease: null } });
      expect(await withdraw(submissions(), id, { by: 'contributor' })).toMatchObject({ status: 'withdrawn' });
      expect((await load(id)).history.filter((h) => h.transition === 'withdrawn')).toHaveLength(1);
      // A worker that was processing it is refused when it settles.
      if (state === 'processing') expect(await settle(submissions(), id, lease!, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'worker' })).toBe(false);
      await expect(approve(submissions(), id, { by: 'm' })).rejects.toMatchObject({ status: 409 });
    });

    test("when a campaign's review queue is listed, then only its clips in review come, oldest first, a page at a time, with no contact details", async () => {
      const other = await seedDemoCampaign(app.deps, { slug: `other-${Date.now()}` } as never);
      await submissions().updateMany({ status: 'in_review' }, { $set: { status: 'approved' } }); // earlier tests' clips out of the way
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push(await inReview());
      const notYet = await submitFile(app, Buffer.from('x'));
      const approved = await inReview();
      await approve(submissions(), approved, { by: 'm' });
      const elsewhere = await inReview();
      await submissions().updateOne({ _id: elsewhere }, { $set: { campaignId: other._id, contactEmail: 'x@example.org' } });
      await submissions().updateMany({ _id: { $in: ids } }, { $set: { contactEmail: 'someone@example.org' } });

      const campaignId = (await load(ids[0]!)).campaignId;
      const firstPage = await listForReview(submissions(), campaignId, { limit: 3 });
      expect(firstPage.map((s) => s._id.toHexString())).toEqual(ids.slice(0, 3));
      const secondPage = await listForReview(submissions(), campaignId, { limit: 3, after: firstPage.at(-1)! });
      expect(secondPage.map((s) => s._id.toHexString())).toEqual(ids.slice(3));
      expect(JSON.stringify([...firstPage, ...secondPage])).not.toMatch(/contactEmail|statusTokenHash|example\.org/);
      expect([...firstPage, ...secondPage].map((s) => s._id.toHexString())).not.toContain(notYet);
      expect((await listForReview(submissions(), other._id)).map((s) => s._id.toHexString())).toEqual([elsewhere]);
    });
  });
});
