import { releaseJobId, takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { downloadFilename, mintReleaseLink } from '../../server/services/release-links.service';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { reconcile, RECONCILE } from '../../worker/reconciler';
import { deleteDueOriginals } from '../../worker/retention';
import { FIXTURES } from '../helpers/fixtures';
import { expectNothingLeft } from '../helpers/nothing-left';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const ALL = { campaigns: [] };

const job = <N extends 'release-submission' | 'takedown-submission'>(name: N, submissionId: string): QueueJob<N> => ({
  id: name === 'release-submission' ? releaseJobId(submissionId) : takedownJobId(submissionId),
  name,
  payload: { submissionId },
  attempt: 1,
  maxAttempts: 6,
  reportProgress: async () => undefined,
});

/** Withdrawal takes a released clip down for real; links are minted only for what may be downloaded. */
describe('withdrawal and download links', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const moderator = { id: 'mod-1', email: 'mod@example.org' };

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (id: string) => (await deps.db.submissions.findById(id).lean<Submission>())!;

  async function releasedClip(): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, job('release-submission', id));
    expect((await load(id)).status).toBe('released');
    return id;
  }

  test('when a released clip\'s file is asked for, then a short-lived link saves it under a name that says nothing about the contributor', async () => {
    const id = await releasedClip();
    const link = await mintReleaseLink(app.deps, ALL, id, 'vertical');
    expect(link.filename).toBe(`solidarity-demo-${id}-9x16.mp4`);
    expect(link.expiresInSeconds).toBeLessThanOrEqual(300);
    const response = await fetch(link.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="solidarity-demo-${id}-9x16.mp4"`);
    expect((await response.arrayBuffer()).byteLength).toBe((await load(id)).release!.outputs.vertical!.bytes);
  });

  let oneReleased: Promise<string> | null = null;
  test.each([['original'], ['preview'], ['master'], ['captionedPreview'], ['__proto__'], ['../originals/x']])('when a link to "%s" of a released clip is asked for, then none is minted', async (output) => {
    oneReleased ??= releasedClip();
    const id = await oneReleased;
    await expect(mintReleaseLink(app.deps, ALL, id, output)).rejects.toMatchObject({ status: 404 });
  });

  test('when a clip is approved but not yet released, or not even approved, then no link is minted for it', async () => {
    const inReview = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await expect(mintReleaseLink(app.deps, ALL, inReview, 'source')).rejects.toMatchObject({ code: 'release_not_available' });
    await approve(deps.db.submissions, inReview, { by: 'moderator' });
    await expect(mintReleaseLink(app.deps, ALL, inReview, 'source')).rejects.toMatchObject({ code: 'release_not_available' });
    await expect(mintReleaseLink(app.deps, ALL, 'not-an-id', 'source')).rejects.toMatchObject({ code: 'release_not_available' });
  });

  test('when a moderator withdraws a released clip, then no link is minted at once, it is audited, and the takedown deletes its release objects and master', async () => {
    const id = await releasedClip();
    const before = await load(id);
    const oldLink = await mintReleaseLink(app.deps, ALL, id, 'square');
    const masterKey = before.outputs.master!.key;

    await withdrawSubmission(app.deps, id, { actor: moderator, by: 'moderator', reason: 'asked by the union' });
    expect((await load(id)).status).toBe('withdrawn');
    await expect(mintReleaseLink(app.deps, ALL, id, 'square')).rejects.toMatchObject({ code: 'release_not_available' });
    expect(await deps.queue.jobState(takedownJobId(id))).toBe('waiting');
    const audit = await app.services.db.auditEntries.find({ 'target.id': id }).lean();
    expect(audit.map((e) => [e.action, e.actor.id, e.details.from])).toEqual([['withdraw', 'mod-1', 'released']]);

    await takedownSubmission(deps, job('takedown-submission', id));
    expect(await app.services.storage.list(masterKey)).toEqual([]);
    // Nothing under any prefix, no open multipart upload, no caption version or queue entry, a cleared record.
    await expectNothingLeft(app, id, 'declined');
    expect((await load(id)).takenDownAt).toEqual(expect.any(Date));
    // A link minted before the withdrawal now leads nowhere.
    expect((await fetch(oldLink.url)).status).toBe(404);

    // Withdrawing again changes nothing and is not audited twice.
    await withdrawSubmission(app.deps, id, { actor: moderator, by: 'moderator' });
    expect(await app.services.db.auditEntries.countDocuments({ 'target.id': id })).toBe(1);
  });

  test('when a contributor withdraws a clip while its release is rendering, then the release is removed and the clip stays withdrawn', async () => {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    // The withdrawal lands while the renders are being stored.
    const racing = { ...deps, storage: { ...deps.storage, upload: async (...args: Parameters<typeof deps.storage.upload>) => {
      await deps.storage.upload(...args);
      if ((await load(id)).status !== 'withdrawn') await withdrawSubmission(app.deps, id, { actor: { id: null, email: null }, by: 'contributor' });
    } } };
    await releaseSubmission(racing, job('release-submission', id));
    expect((await load(id)).status).toBe('withdrawn');
    expect(await app.services.storage.list(`releases/${id}/`)).toEqual([]);
    await takedownSubmission(deps, job('takedown-submission', id));
    await expectNothingLeft(app, id, 'declined');
  });

  test('when a withdrawn clip\'s takedown job was lost, then the reconciler queues it again', async () => {
    const id = await releasedClip();
    await deps.db.submissions.updateOne({ _id: id }, { $set: { status: 'withdrawn' } }); // withdrawn without a job
    expect(await deps.queue.jobState(takedownJobId(id))).toBeNull();
    await reconcile(deps, new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000));
    expect(await deps.queue.jobState(takedownJobId(id))).toBe('waiting');
  });

  test.each([
    ['its original still kept', false],
    ['its original deleted long before (released, then withdrawn)', true],
  ])('when a release attempt stored objects after the takedown ran (%s), then the next retention sweep removes them and clears the record; past the declined period it no longer looks', async (_case, originalGone) => {
    const id = await releasedClip();
    if (originalGone) {
      for (const key of await deps.storage.list(`originals/${id}/`)) await deps.storage.remove(key);
      await deps.db.submissions.updateOne({ _id: id }, { $set: { originalDeletedAt: new Date() } });
    }
    await withdrawSubmission(app.deps, id, { actor: moderator, by: 'moderator', reason: 'asked by the union' });
    await takedownSubmission(deps, job('takedown-submission', id));
    const takenDownAt = (await load(id)).takenDownAt!;
    expect(takenDownAt).toEqual(expect.any(Date));
    // The release job's last attempt crashed while storing, after the takedown: nobody will take these away.
    const leftKeys = [`releases/${id}/vertical.mp4`, `outputs/${id}/late/preview.mp4`, `captions/${id}/late/preview.mp4`];
    const leave = async () => {
      for (const key of leftKeys) await deps.storage.upload(key, Buffer.from('left behind'), 'video/mp4');
      await deps.db.submissions.updateOne({ _id: id }, { $set: { 'release.outputs.vertical': { key: leftKeys[0], bytes: 11, sha256: 'x', contentType: 'video/mp4' } } });
    };
    await leave();
    // The reconciler never looks at a clip taken down again.
    await reconcile(deps, new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000));
    expect(await deps.storage.list(`releases/${id}/`)).toEqual([leftKeys[0]]);

    // The sweep, still within the declined period (7 days by default) after the takedown.
    await deleteDueOriginals(deps, new Date(takenDownAt.getTime() + 6 * 24 * 3600 * 1000));
    await expectNothingLeft(app, id, 'declined');

    // The sweep took it down again (takenDownAt moves on: the period counts from there). Past the period the
    // clip is no longer read (the set of clips checked stays bounded).
    const again = (await load(id)).takenDownAt!;
    expect(again.getTime()).toBeGreaterThan(takenDownAt.getTime());
    await leave();
    await deleteDueOriginals(deps, new Date(again.getTime() + 8 * 24 * 3600 * 1000));
    expect(await deps.storage.list(`releases/${id}/`)).toEqual([leftKeys[0]]);
    for (const key of leftKeys) await deps.storage.remove(key);
  });

  test.each([
    ['vertical-be', 'solidarity-demo-ID-9x16-be.mp4'],
    ['square', 'solidarity-demo-ID-1x1.mp4'],
    ['source-pt-br', 'solidarity-demo-ID-original-shape-pt-br.mp4'],
    ['poster-vertical', 'solidarity-demo-ID-9x16-poster.jpg'],
    ['captions-be-vtt', 'solidarity-demo-ID-be.vtt'],
  ])('the file %s is saved as %s', (output, name) => {
    expect(downloadFilename('Demo', 'ID', output)).toBe(name);
  });
});
