import { Types } from 'mongoose';
import { releaseJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');

/** The social teams' gallery through HTTP: their campaigns only, filters, posters, per-file downloads. */
describe('the gallery', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const clock = testClock();
  let social: StaffClient;
  const clips = {} as Record<'belarusian' | 'ukrainian' | 'otherCampaign', string>;

  async function released(fixture: string, changes: Partial<Pick<Submission, 'country' | 'language'>> & { campaign?: Types.ObjectId }, subtitles?: Buffer): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES[fixture]!(), { subtitles, language: changes.language ?? 'be' })))._id.toHexString();
    await deps.db.submissions.updateOne({ _id: id }, { $set: { ...(changes.country ? { country: changes.country } : {}), ...(changes.campaign ? { campaignId: changes.campaign } : {}) } });
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    return id;
  }

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    const other = await seedDemoCampaign(app.deps, { slug: 'other', name: 'Another campaign' });
    deps = workerDeps(app);
    clips.belarusian = await released('rotated', { country: 'BY', language: 'be' }, SRT);
    clips.ukrainian = await released('noAudio', { country: 'UA', language: 'uk' });
    clips.otherCampaign = await released('noAudio', { country: 'BY', campaign: other._id });
    social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social', { campaigns: ['demo'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  const shown = (html: string) => [...html.matchAll(/data-clip="([0-9a-f]{24})"/g)].map((m) => m[1]).sort();

  test('when a social-team member opens the gallery, then the released clips of their campaigns are shown, and not another campaign\'s', async () => {
    const page = await social.get('/staff/gallery');
    expect(page.status).toBe(200);
    expect(shown(page.html)).toEqual([clips.belarusian, clips.ukrainian].sort());
    expect(page.html).not.toContain('Test union'); // the contributor's organisation is not on show
  });

  test.each([
    ['country=UA', ['ukrainian']],
    ['language=be', ['belarusian']],
    ['language=uk', ['ukrainian']],
    ['campaign=demo&country=BY', ['belarusian']],
    ['campaign=other', []],
    [`from=${new Date().toISOString().slice(0, 10)}`, ['belarusian', 'ukrainian']],
    ['to=2020-01-01', []],
  ] as const)('when filtered by %s, then %j are shown', async (query, expected) => {
    const page = await social.get(`/staff/gallery?${query}`);
    expect(page.status).toBe(200);
    expect(shown(page.html)).toEqual(expected.map((name) => clips[name]).sort());
  });

  test('when filtered by shape, then only that shape\'s files (and the captions) are offered', async () => {
    const page = await social.get('/staff/gallery?shape=vertical&language=be');
    const outputs = [...page.html.matchAll(/data-output="([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect(outputs).toEqual(['vertical', 'vertical-be', 'poster-vertical', 'captions-be-srt', 'captions-be-vtt']);
    expect(page.html).toContain(`/staff/gallery/${clips.belarusian}/poster/vertical`);
  });

  test('when a filter is not understood, then the page says so', async () => {
    const page = await social.get('/staff/gallery?country=Belarus');
    expect(page.status).toBe(400);
    expect(page.html).toContain('two-letter country');
  });

  test('when a file is downloaded, then the browser is sent to a short-lived link whose file name says nothing about the contributor', async () => {
    const answer = await social.get(`/staff/gallery/${clips.belarusian}/files/vertical-be`);
    expect(answer.status).toBe(303);
    expect(answer.location).toMatch(/X-Amz-Expires=300/);
    const file = await fetch(answer.location!);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="solidarity-demo-${clips.belarusian}-9x16-be.mp4"`);
    expect(Buffer.from(await file.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    const api = await social.get(`/staff/api/gallery/${clips.belarusian}/files/captions-be-vtt`, { accept: 'application/json' });
    expect(JSON.parse(api.html)).toMatchObject({ filename: `solidarity-demo-${clips.belarusian}-be.vtt`, expiresInSeconds: 300 });
  });

  test('when a poster is asked for, then it is streamed through the server (the page allows images from itself only)', async () => {
    const poster = await social.get(`/staff/gallery/${clips.belarusian}/poster/square`);
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
  });

  test.each([
    ['another campaign\'s file', () => `/staff/gallery/${clips.otherCampaign}/files/vertical`],
    ['another campaign\'s poster', () => `/staff/gallery/${clips.otherCampaign}/poster/vertical`],
    ['the original', () => `/staff/gallery/${clips.belarusian}/files/original`],
    ['the master', () => `/staff/gallery/${clips.belarusian}/files/master`],
    ['the preview', () => `/staff/gallery/${clips.belarusian}/files/preview`],
    ['a clip that does not exist', () => `/staff/gallery/${new Types.ObjectId().toHexString()}/files/vertical`],
  ])('when %s is asked for, then no link is minted', async (_what, path) => {
    const answer = await social.get(path(), { accept: 'application/json' });
    expect(answer.status).toBe(404);
    expect(answer.location).toBeNull();
  });

  test('when the JSON API is asked, then it gives the same clips and files', async () => {
    const answer = await social.get('/staff/api/gallery?shape=square', { accept: 'application/json' });
    const body = JSON.parse(answer.html) as { items: Array<{ id: string; files: Array<{ output: string; filename: string }> }> };
    expect(body.items.map((i) => i.id).sort()).toEqual([clips.belarusian, clips.ukrainian].sort());
    const ukrainian = body.items.find((i) => i.id === clips.ukrainian)!;
    expect(ukrainian.files.map((f) => f.filename)).toEqual([`solidarity-demo-${clips.ukrainian}-1x1.mp4`, `solidarity-demo-${clips.ukrainian}-1x1-poster.jpg`]);
  });

  test('when a moderator opens the gallery, then it is refused', async () => {
    const moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
    expect((await moderator.get('/staff/gallery')).status).toBe(403);
  });

  test('when a clip is withdrawn, then it leaves the gallery at once and its files cannot be fetched', async () => {
    await withdrawSubmission(app.deps, clips.ukrainian, { actor: { id: null, email: null }, by: 'contributor' });
    expect(shown((await social.get('/staff/gallery')).html)).toEqual([clips.belarusian]);
    expect((await social.get(`/staff/gallery/${clips.ukrainian}/files/square`)).status).toBe(404);
    expect((await social.get(`/staff/gallery/${clips.ukrainian}/poster/square`)).status).toBe(404);
  });
});
