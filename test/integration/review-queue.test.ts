import { Types } from 'mongoose';
import { approve, reject, withdraw } from '../../shared/submissions/moderation';
import { claim, initialProcessing, settle } from '../../shared/submissions/processing';
import { claimOf, claimReview } from '../../shared/submissions/review-claims';
import { decodeCursor, listReviewQueue, reconcileReviewQueue, type QueueFilter, type ReviewEntry } from '../../shared/submissions/review-queue';
import type { Submission } from '../../shared/submissions/submission.model';
import { reconcile } from '../../worker/reconciler';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** The moderators' queue (shared/submissions/review-queue.ts) on the real database: kept in step, repaired, paged. */
describe('the review queue', () => {
  let app: TestApp;
  const db = () => app.services.db;
  const MEDIA = { container: 'mov', durationSeconds: 12, sizeBytes: 10, video: null, audio: null, streams: { total: 1, video: 1, audio: 0, subtitle: 0, data: 0, attachment: 0 } };
  const campaignA = new Types.ObjectId();
  const campaignB = new Types.ObjectId();
  const queuedIds = async () => (await db().reviewQueue.find({}).lean<ReviewEntry[]>()).map((e) => e._id.toHexString()).sort();

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  /** A clip moved into review by the worker's own operations, at a chosen time. */
  async function inReview(fields: Partial<Submission> = {}, at = new Date()): Promise<string> {
    const id = new Types.ObjectId();
    await db().submissions.create({
      _id: id, campaignId: campaignA, status: 'received', statusTokenHash: 'f'.repeat(64), organisation: 'Union', country: 'BY', language: 'be', title: 't',
      message: '', contactEmail: null, consent: { version: 1, language: 'be', statements: ['record'], givenAt: at },
      original: { key: `originals/${id.toHexString()}/video`, bytes: 1, sha256: 'a'.repeat(64), contentType: 'video/mp4' },
      subtitles: null, media: null, outputs: {}, processing: initialProcessing(), rejection: null, history: [], ...fields,
    });
    const claimed = await claim(db().submissions, id.toHexString(), { by: 'test', leaseSeconds: 30, now: at });
    if (claimed.kind !== 'claimed') throw new Error('not claimed');
    expect(await settle(db().submissions, id.toHexString(), claimed.lease.id, { kind: 'done', media: MEDIA, outputs: {} }, { by: 'test', now: at })).toBe(true);
    return id.toHexString();
  }

  test('when clips enter review, then they are queued with what the page shows; when approved, rejected or withdrawn, then they leave', async () => {
    const [a, b, c, d] = [await inReview({ protectionRequested: true }), await inReview(), await inReview(), await inReview()];
    expect(await queuedIds()).toEqual([a, b, c, d].sort());
    const entry = (await db().reviewQueue.findById(a).lean<ReviewEntry>())!;
    expect(entry).toMatchObject({ campaignId: campaignA, language: 'be', country: 'BY', durationSeconds: 12, protectionRequested: true, sensitive: true, approvals: [] });
    expect(JSON.stringify(entry)).not.toMatch(/statusTokenHash|contactEmail/);

    await approve(db().submissions, a, { by: 'm' });
    await reject(db().submissions, b, { by: 'm', reason: 'no' });
    await withdraw(db().submissions, c, { by: 'contributor' });
    expect(await queuedIds()).toEqual([d]);
    await withdraw(db().submissions, d, { by: 'contributor' });
    expect(await queuedIds()).toEqual([]);
  });

  test('when the queue has drifted (an entry lost, a stray one left), then the reconciler rebuilds it from the submissions', async () => {
    const kept = await inReview();
    const lost = await inReview({}, new Date(Date.now() - 3_600_000));
    await db().reviewQueue.deleteOne({ _id: lost });
    const stray = new Types.ObjectId();
    await db().reviewQueue.collection.insertOne({ ...(await db().reviewQueue.findById(kept).lean())!, _id: stray });
    await db().connection.db!.collection('review_claims').insertOne({ _id: `${stray.toHexString()}:0` as never, submissionId: stray.toHexString(), n: 0, by: 'x', email: 'x', at: new Date(), expiresAt: new Date() });

    expect(await reconcile({ ...app.deps, queue: app.services.queue })).toBe(0);
    expect(await queuedIds()).toEqual([kept, lost].sort());
    // The rebuilt entry keeps the time the clip entered review.
    expect((await db().reviewQueue.findById(lost).lean<ReviewEntry>())!.enteredAt.getTime()).toBeLessThan(Date.now() - 3_000_000);
    expect(await db().connection.db!.collection('review_claims').countDocuments({})).toBe(0);
    expect(await reconcileReviewQueue(db().submissions)).toEqual({ added: 0, removed: 0 });
    await withdraw(db().submissions, kept, { by: 't' });
    await withdraw(db().submissions, lost, { by: 't' });
  });

  test('when the queue is read with every combination of filters, then it gives exactly the matching clips, oldest in review first, a page at a time', async () => {
    const now = Date.now();
    const made: { id: string; campaignId: Types.ObjectId; language: string; country: string; organisation: string; at: number }[] = [];
    for (let i = 0; i < 24; i += 1) {
      const fields = { campaignId: i % 2 ? campaignA : campaignB, language: ['be', 'ru', 'uk'][i % 3]!, country: ['BY', 'UA'][Math.floor(i / 2) % 2]!, organisation: `Union ${i % 4}` };
      // Entered review out of order, some at the same moment (the id breaks the tie).
      const at = now - ((i * 7) % 24) * 600_000 - (i % 5 === 0 ? 0 : 1);
      made.push({ id: await inReview(fields, new Date(at)), ...fields, at });
    }
    const filters: QueueFilter[] = [];
    for (const campaignIds of [null, [campaignA], [campaignA, campaignB]])
      for (const language of [undefined, 'ru'])
        for (const country of [undefined, 'UA'])
          for (const organisation of [undefined, 'Union 1'])
            for (const minWaitMinutes of [undefined, 60]) filters.push({ campaignIds, language, country, organisation, minWaitMinutes });

    for (const filter of filters) {
      const expected = made
        .filter((m) => !filter.campaignIds || filter.campaignIds.some((c) => c.equals(m.campaignId)))
        .filter((m) => (!filter.language || m.language === filter.language) && (!filter.country || m.country === filter.country))
        .filter((m) => (!filter.organisation || m.organisation === filter.organisation) && (!filter.minWaitMinutes || m.at <= now - filter.minWaitMinutes * 60_000))
        .sort((x, y) => x.at - y.at || x.id.localeCompare(y.id))
        .map((m) => m.id);
      const seen: string[] = [];
      let after = null;
      for (let pages = 0; pages < 30; pages += 1) {
        const page = await listReviewQueue(db().reviewQueue, filter, { limit: 5, after, now: new Date(now) });
        seen.push(...page.entries.map((e) => e._id.toHexString()));
        if (!page.next) break;
        after = decodeCursor(page.next);
      }
      expect([JSON.stringify(filter), seen]).toEqual([JSON.stringify(filter), expected]);
    }
  });

  test('when ten moderators claim one clip at the same moment, then exactly one gets it, also once it has expired; a clip out of review cannot be claimed', async () => {
    const id = await inReview();
    const now = new Date();
    const race = async (at: Date) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => claimReview(db().connection, id, { id: `m${i}`, email: `m${i}@example.org` }, at, 60)));
    const first = await race(now);
    expect(first.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    const holder = first.find((r) => r.kind === 'claimed')!;
    expect(first.filter((r) => r.kind === 'held').every((r) => r.kind === 'held' && r.claim.by === (holder as { claim: { by: string } }).claim.by)).toBe(true);

    const afterExpiry = await race(new Date(now.getTime() + 61_000));
    expect(afterExpiry.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    const winner = afterExpiry.find((r) => r.kind === 'claimed') as { claim: { by: string } };
    expect((await claimOf(db().connection, id, new Date(now.getTime() + 62_000)))!.by).toBe(winner.claim.by);

    await withdraw(db().submissions, id, { by: 't' });
    expect(await claimOf(db().connection, id, now)).toBeNull();
    expect((await claimReview(db().connection, id, { id: 'late', email: 'late@example.org' }, now, 60)).kind).toBe('gone');
  });

  test('when a cursor is not one the queue made, then it is refused', () => {
    for (const bad of ['', 'x', Buffer.from('1.zz').toString('base64url'), Buffer.from('{"$gt":1}').toString('base64url')]) expect(decodeCursor(bad)).toBeNull();
  });
});
