import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

const run = promisify(execFile);
const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');

/** The social teams' gallery through HTTP: their campaigns only, filters, posters, per-file downloads. */
describe('the gallery', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const clock = testClock();
  let social: StaffClient;
  const clips = {} as Record<'belarusian' | 'ukrainian' | 'polish' | 'otherCampaign', string>;

  async function released(
    fixture: string,
    changes: Partial<Pick<Submission, 'country' | 'language'>> & { campaign?: Types.ObjectId; statements?: string[] },
    subtitles?: Buffer,
  ): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES[fixture]!(), { subtitles, language: changes.language ?? 'be' })))._id.toHexString();
    await deps.db.submissions.updateOne(
      { _id: id },
      {
        $set: {
          ...(changes.country ? { country: changes.country } : {}),
          ...(changes.campaign ? { campaignId: changes.campaign } : {}),
          // As the contributor's page sends it: the required statements, and the optional ones ticked.
          ...(changes.statements ? { 'consent.statements': changes.statements } : {}),
        },
      },
    );
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
    clips.polish = await released('noAudio', { country: 'PL', language: 'pl', statements: ['record', 'publish', 'risk', 'press', 'credit'] });
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
    expect(shown(page.html)).toEqual([clips.belarusian, clips.ukrainian, clips.polish].sort());
    // The organisation is named only in the post text of the clip whose contributor agreed to be credited.
    // The organisation is named once per campaign language (be, ru, uk, en), in the post texts of the one clip credited.
    expect(page.html.split('Test union').length - 1).toBe(4);
  });

  test.each([
    ['country=UA', ['ukrainian']],
    ['language=be', ['belarusian']],
    ['language=uk', ['ukrainian']],
    ['campaign=demo&country=BY', ['belarusian']],
    ['campaign=other', []],
    [`from=${new Date().toISOString().slice(0, 10)}`, ['belarusian', 'ukrainian', 'polish']],
    ['use=press', ['polish']],
    ['use=events', []],
    ['use=web', ['belarusian', 'ukrainian', 'polish']],
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
    expect(body.items.map((i) => i.id).sort()).toEqual([clips.belarusian, clips.ukrainian, clips.polish].sort());
    const ukrainian = body.items.find((i) => i.id === clips.ukrainian)!;
    expect(ukrainian.files.map((f) => f.filename)).toEqual([`solidarity-demo-${clips.ukrainian}-1x1.mp4`, `solidarity-demo-${clips.ukrainian}-1x1-poster.jpg`]);
  });

  test('when post texts are offered, then each has the message and hashtags, and a credit line only where the contributor agreed', async () => {
    const answer = await social.get('/staff/api/gallery', { accept: 'application/json' });
    const items = (JSON.parse(answer.html) as { items: Array<{ id: string; postTexts: Record<string, string> }> }).items;
    const of = (id: string) => items.find((i) => i.id === id)!.postTexts;
    expect(Object.keys(of(clips.polish)).sort()).toEqual(['be', 'en', 'ru', 'uk']);
    expect(of(clips.polish).be).toBe('Test\n\n#TradeUnionismIsNotExtremism #Salidarnasc\n\nВідэа: Test union');
    expect(of(clips.polish).en).toBe('Test\n\n#TradeUnionismIsNotExtremism #Salidarnasc\n\nVideo: Test union');
    expect(of(clips.belarusian).en).toBe('Test\n\n#TradeUnionismIsNotExtremism #Salidarnasc');
  });

  test('when a use the contributor did not agree to is asked for, then no link, poster or ZIP is given', async () => {
    expect((await social.get(`/staff/gallery/${clips.belarusian}/files/vertical?use=press`, { accept: 'application/json' })).status).toBe(404);
    expect((await social.get(`/staff/gallery/${clips.belarusian}/poster/vertical?use=events`, { accept: 'application/json' })).status).toBe(404);
    expect((await social.get(`/staff/gallery/zip?clip=${clips.belarusian}&use=press`, { accept: 'application/json' })).status).toBe(404);
    expect((await social.get(`/staff/gallery/${clips.polish}/files/vertical?use=press`)).status).toBe(303);
  });

  test('when three clips are ticked, then one ZIP streams their files of the chosen shape and their post texts', async () => {
    const ids = [clips.belarusian, clips.ukrainian, clips.polish];
    const response = await fetch(`${app.baseUrl}/staff/gallery/zip?${ids.map((id) => `clip=${id}`).join('&')}&shape=vertical`, { headers: { cookie: `staff=${social.session()}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="solidarity-clips-\d{4}-\d{2}-\d{2}\.zip"$/);
    expect(response.headers.get('content-length')).toBeNull(); // streamed, not buffered first
    const dir = await mkdtemp(join(tmpdir(), 'gallery-zip-'));
    try {
      await writeFile(join(dir, 'a.zip'), Buffer.from(await response.arrayBuffer()));
      const { stdout } = await run('unzip', ['-Z1', join(dir, 'a.zip')]);
      const names = stdout.trim().split('\n').sort();
      expect(names).toEqual(
        ids.flatMap((id) => [
          `solidarity-demo-${id}-9x16.mp4`,
          `solidarity-demo-${id}-9x16-poster.jpg`,
          ...['be', 'ru', 'uk', 'en'].map((l) => `solidarity-demo-${id}-post-${l}.txt`),
          ...(id === clips.belarusian ? [`solidarity-demo-${id}-9x16-be.mp4`, `solidarity-demo-${id}-be.srt`, `solidarity-demo-${id}-be.vtt`] : []),
        ]).sort(),
      );
      await run('unzip', ['-tq', join(dir, 'a.zip')]); // every CRC checks out
      await run('unzip', ['-q', join(dir, 'a.zip'), '-d', join(dir, 'out')]);
      const stored = (await deps.db.submissions.findById(clips.ukrainian).lean<Submission>())!.release!.outputs.vertical!;
      const extracted = await readFile(join(dir, 'out', `solidarity-demo-${clips.ukrainian}-9x16.mp4`));
      expect(createHash('sha256').update(extracted).digest('hex')).toBe(stored.sha256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('when a ZIP would hold a clip of another campaign, or none, then nothing is streamed and the reason is given', async () => {
    const other = await social.get(`/staff/gallery/zip?clip=${clips.belarusian}&clip=${clips.otherCampaign}`, { accept: 'application/json' });
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await social.get('/staff/gallery/zip?clip=', { accept: 'application/json' })).status).toBe(400);
  });

  test('when a moderator opens the gallery, then it is refused', async () => {
    const moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
    expect((await moderator.get('/staff/gallery')).status).toBe(403);
  });

  test('when a clip is withdrawn, then it leaves the gallery at once and its files cannot be fetched', async () => {
    await withdrawSubmission(app.deps, clips.ukrainian, { actor: { id: null, email: null }, by: 'contributor' });
    expect(shown((await social.get('/staff/gallery')).html)).toEqual([clips.belarusian, clips.polish].sort());
    expect((await social.get(`/staff/gallery/${clips.ukrainian}/files/square`)).status).toBe(404);
    expect((await social.get(`/staff/gallery/${clips.ukrainian}/poster/square`)).status).toBe(404);
  });
});
