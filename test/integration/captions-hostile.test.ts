import { Types } from 'mongoose';
import { addCaptionVersion, recordCaptionPreview, type CaptionVersion } from '../../shared/captions/caption-versions';
import { captionPreviewJobId, releaseJobId, takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { releaseKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../../worker/deps';
import { captionPreview } from '../../worker/handlers/caption-preview.handler';
import { captionTracks, releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { saveCaptionRows } from '../../server/services/captions.service';
import { approve } from '../../shared/submissions/moderation';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { rowsForm } from '../helpers/captions-form';
import { FIXTURES } from '../helpers/fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');
const json = { accept: 'application/json' };

/** The caption editor and its previews against people and input that should not get through. */
describe('captions: access, hostile input, bursts, withdrawal', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let ana: StaffClient;
  let other: StaffClient;
  let social: StaffClient;
  let id: string;
  const clock = testClock();

  const post = (client: StaffClient, path: string, body: string, headers: Record<string, string> = {}) =>
    client.request('POST', path, body, { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  const versions = () => deps.db.captionVersions.find({ submissionId: id }).lean<CaptionVersion[]>();
  const jobOf = (versionId: string): QueueJob<'caption-preview'> => ({ id: captionPreviewJobId(versionId), name: 'caption-preview', payload: { captionVersionId: versionId }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    const { _id, createdAt: _c, updatedAt: _u, ...demo } = (await app.services.db.campaigns.findOne({ slug: 'demo' }).lean())!;
    await app.services.db.campaigns.create({ ...demo, slug: 'another-campaign', name: 'Another' });
    deps = workerDeps(app);
    ana = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
    other = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['another-campaign'] }));
    social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social'));
    id = (await runWorker(deps, await submitFile(app, await FIXTURES.rotated!(), { subtitles: SRT, language: 'be' })))._id.toHexString();
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a moderator of another campaign or a social-team member reaches for a clip\'s captions, then nothing is shown or saved', async () => {
    const version = await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'uk', cues: [{ startMs: 0, endMs: 1000, text: 'Солідарність' }], source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date() });
    const preview = `/staff/review/${id}/captions/${version._id.toHexString()}/preview`;
    await other.get('/staff');
    expect((await other.get(`/staff/review/${id}/captions`, json)).status).toBe(404);
    expect((await other.get(preview, json)).status).toBe(404);
    const save = await post(other, `/staff/review/${id}/captions`, rowsForm(other, 'be', [['00:00:00.000', '00:00:01.000', 'not mine']]), json);
    expect([save.status, JSON.parse(save.html).code]).toEqual([404, 'submission_not_found']);
    await social.get('/staff');
    expect((await social.get(`/staff/review/${id}/captions`, json)).status).toBe(403);
    expect((await post(social, `/staff/review/${id}/captions`, rowsForm(social, 'be', [['00:00:00.000', '00:00:01.000', 'not mine']]), json)).status).toBe(403);
    expect((await versions()).map((v) => v.language)).toEqual(['uk']);
    await deps.db.captionVersions.deleteMany({ submissionId: id });
  });

  test.each([['../be'], ['be\r\nLocation: //evil.example'], ['be&saved=1'], ['be?x=1'], ['BE'], ['be/../../originals']])('when the language is "%s", then the save is refused and nothing is stored or redirected to', async (lang) => {
    await ana.get(`/staff/review/${id}/captions`);
    const answer = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, lang, [['00:00:00.000', '00:00:01.000', 'x']]), json);
    expect([answer.status, JSON.parse(answer.html).code, answer.location]).toEqual([400, 'invalid_body', null]);
    expect(await versions()).toEqual([]);
  });

  test.each([
    ['a text of 5000 characters', ['00:00:00.000', '00:00:01.000', 'x'.repeat(5000)], 'Cue 1: the text is longer than 1,000 characters.'],
    ['a time of 60 characters', [`00:00:00.000${' x'.repeat(24)}`, '00:00:01.000', 'x'], 'Cue 1: the start'],
  ] as Array<[string, [string, string, string], string]>)('when a cue has %s, then the page names it and shows what was typed again', async (_name, row, message) => {
    await ana.get(`/staff/review/${id}/captions`);
    const page = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', [row]));
    expect(page.status).toBe(400);
    expect(page.html).toContain(message);
    for (const typed of row) expect(page.html).toContain(typed);
    expect(await versions()).toEqual([]);
  });

  test('when a moderator saves 20 times in a row, then only the latest version is rendered; its preview streams by range, not under another clip, and a range past its end or a file gone is an error of the client, not of the server', async () => {
    await ana.get(`/staff/review/${id}/captions`);
    for (let n = 1; n <= 20; n += 1) {
      const saved = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', [['00:00:00.200', '00:00:02.800', `save ${n}`]]));
      expect(saved.status).toBe(303);
    }
    const saved = (await versions()).sort((a, b) => a.version - b.version);
    expect(saved.map((v) => v.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1)); // the contributor's, then 20
    // The jobs run in the order they were queued: every superseded one is skipped at its start.
    for (const version of saved.slice(1)) await captionPreview(deps, jobOf(version._id.toHexString()));
    const after = (await versions()).sort((a, b) => a.version - b.version);
    expect(after.filter((v) => v.preview).map((v) => v.version)).toEqual([21]);
    expect(after.slice(1, -1).every((v) => v.previewError?.startsWith('superseded'))).toBe(true);
    expect(await app.services.storage.list(`captions/${id}/`)).toHaveLength(1);

    const latest = after.at(-1)!;
    const path = `/staff/review/${id}/captions/${latest._id.toHexString()}/preview`;
    const part = await ana.get(path, { range: 'bytes=0-99' });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 0-99/${latest.preview!.bytes}`]);
    expect((await ana.get(path, { range: `bytes=${latest.preview!.bytes + 10}-`, ...json })).status).toBe(416);
    // A version of another clip, asked for under this one: not found, though its file exists.
    const foreign = await addCaptionVersion(deps.db.captionVersions, { submissionId: new Types.ObjectId(), language: 'be', cues: [{ startMs: 0, endMs: 1000, text: 'x' }], source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date() });
    await recordCaptionPreview(deps.db.captionVersions, foreign._id, { preview: latest.preview! });
    expect((await ana.get(`/staff/review/${id}/captions/${foreign._id.toHexString()}/preview`, json)).status).toBe(404);
    await deps.db.captionVersions.deleteOne({ _id: foreign._id });
    // The file removed behind the record's back: 404, not a server error.
    const copy = `captions/${id}/${new Types.ObjectId().toHexString()}/preview-captioned.mp4`;
    await app.services.storage.upload(copy, Buffer.from('x'), 'video/mp4');
    const gone = await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'pl', cues: [{ startMs: 0, endMs: 1000, text: 'x' }], source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date() });
    await recordCaptionPreview(deps.db.captionVersions, gone._id, { preview: { key: copy, bytes: 1, sha256: '0'.repeat(64), contentType: 'video/mp4' } });
    await app.services.storage.remove(copy);
    expect((await ana.get(`/staff/review/${id}/captions/${gone._id.toHexString()}/preview`, json)).status).toBe(404);
  });

  test('when a moderator saves again while a version renders, then that render is not stored, and says why', async () => {
    const cue = (text: string) => [{ startMs: 0, endMs: 1000, text }];
    const add = (text: string) => addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'uk', cues: cue(text), source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date() });
    const first = await add('Солідарність');
    const previewKey = (await deps.db.submissions.findById(id).lean<Submission>())!.outputs.preview!.key;
    // The real storage; the next save lands as the job fetches the preview it renders from.
    const real = app.services.storage;
    const storage = { ...real, download: async (key: string) => ((key === previewKey ? await add('Солідарність!') : null), real.download(key)) };
    await captionPreview(workerDeps(app, { storage }), jobOf(first._id.toHexString()));
    const after = (await deps.db.captionVersions.findById(first._id).lean<CaptionVersion>())!;
    expect([after.preview, after.previewError?.startsWith('superseded while rendering')]).toEqual([null, true]);
    expect(await app.services.storage.list(`captions/${id}/${first._id.toHexString()}/`)).toEqual([]);
  });

  test('when a clip is approved between a caption save\'s check and its insert, then the save is refused and removed, and the release uses only versions saved by the approval', async () => {
    const clip = (await runWorker(deps, await submitFile(app, await FIXTURES.rotated!(), { subtitles: SRT, language: 'be' })))._id.toHexString();
    const cue = (text: string) => [{ startMs: 200, endMs: 2800, text }];
    const author = { id: 'x', email: null };
    // Saved well before the approval: released.
    await addCaptionVersion(deps.db.captionVersions, { submissionId: clip, language: 'uk', cues: cue('Солідарність'), source: 'translation', from: 'be', author, now: new Date(Date.now() - 60_000) });
    // The save's check passes (in review); the approval lands while it reads the contributor's subtitles, before its insert.
    let approved = false;
    const storage = { ...deps.storage, download: async (key: string) => {
      if (!approved) {
        approved = true;
        await approve(deps.db.submissions, clip, { by: 'moderator' });
      }
      return deps.storage.download(key);
    } };
    const me = { id: 'mod-race', email: 'race@example.org', role: 'moderator' as const, campaigns: [] };
    const captionDeps = { db: app.deps.db, storage, queue: app.deps.queue, now: () => new Date(), logger: app.deps.logger, claimSeconds: app.deps.config.review.claimSeconds };
    await expect(saveCaptionRows(captionDeps, me, clip, { language: 'be', rows: [{ start: '00:00:00.200', end: '00:00:02.800', text: 'UNSEEN EDIT' }], from: null })).rejects.toMatchObject({ code: 'submission_state_conflict', status: 409 });
    expect(approved).toBe(true);
    expect(await deps.db.captionVersions.find({ submissionId: clip, language: 'be' }).lean()).toEqual([]);
    // A save the approval overtook after its insert (stamped after the approval) is not read by the release either.
    await addCaptionVersion(deps.db.captionVersions, { submissionId: clip, language: 'en', cues: cue('UNSEEN TRANSLATION'), source: 'translation', from: 'be', author, now: new Date(Date.now() + 1_000) });

    const submission = (await deps.db.submissions.findById(clip).lean<Submission>())!;
    expect(submission.status).toBe('approved');
    const tracks = await captionTracks(deps, submission);
    expect(tracks.map((t) => [t.language, t.cues.map((c) => c.text)])).toEqual([
      ['be', ['Свабоду палітвязням!']],
      ['uk', ['Солідарність']],
    ]);
  });

  test('when the clip is withdrawn, then its captions cannot be saved, and its takedown deletes every caption version and preview; a release retried after the takedown removes what an earlier attempt stored', async () => {
    await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'en', cues: [{ startMs: 0, endMs: 1000, text: 'the contributor\'s words' }], source: 'translation', from: 'be', author: { id: 'x', email: null }, now: new Date() });
    await ana.get(`/staff/review/${id}`);
    expect((await ana.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'asked by the contributor' })).status).toBe(303);
    await ana.get(`/staff/review/${id}/captions`);
    const late = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', [['00:00:00.200', '00:00:02.800', 'too late']]), json);
    expect([late.status, JSON.parse(late.html).code]).toEqual([409, 'submission_state_conflict']);

    await takedownSubmission(deps, { id: takedownJobId(id), name: 'takedown-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 8, reportProgress: async () => undefined });
    expect(await versions()).toEqual([]);
    expect(await app.services.storage.list(`captions/${id}/`)).toEqual([]);
    expect((await ana.get(`/staff/review/${id}`)).status).toBe(200);

    // A release attempt that stored part of its set after the takedown, then failed: its retry finds the clip withdrawn and removes it.
    await app.services.storage.upload(releaseKey(id, 'source.mp4'), Buffer.from('part of a release'), 'video/mp4');
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 2, maxAttempts: 6, reportProgress: async () => undefined });
    expect(await app.services.storage.list(`releases/${id}/`)).toEqual([]);
    expect((await deps.db.submissions.findById(id).lean<Submission>())!.status).toBe('withdrawn');
  });
});
