import { releaseJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import demoCampaign from '../../infra/local/demo-campaign.json';

const RLO = '\u202E'; // RIGHT-TO-LEFT OVERRIDE: everything after it reads backwards, up to the end of the paragraph
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

describe('bidirectional overrides in contributor and campaign text', () => {
  const clock = testClock();
  let app: TestApp;
  let deps: WorkerDeps;
  let admin: StaffClient;
  let social: StaffClient;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
    social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social', { campaigns: ['demo'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a campaign is made with overrides in its name, titles and prompts, then they are not stored', async () => {
    await admin.get('/staff');
    const answer = await admin.request('POST', '/staff/api/campaigns', JSON.stringify({ ...demoCampaign, slug: 'rlo', name: `Name ${RLO}gnitset`, titles: { en: `Title \u2066x\u2069 ${RLO}y` }, prompts: { en: `Prompt ${RLO}2026-05-01` } }), { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': admin.csrf() });
    expect(answer.status).toBe(201);
    const stored = (await app.services.db.campaigns.findOne({ slug: 'rlo' }).lean())!;
    expect(JSON.stringify([stored.name, stored.titles, stored.prompts])).not.toMatch(BIDI);
    expect(stored.name).toBe('Name gnitset');
  });

  test('when subtitles carry overrides, then the published .srt and .vtt do not; and the gallery isolates every piece of contributor text, so the release date after a campaign name reads as written', async () => {
    const srt = Buffer.from(`1\n00:00:00,200 --> 00:00:02,800\n${RLO}Свабоду\u2067 палітвязням!\n`);
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!(), { subtitles: srt, language: 'be' })))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    for (const output of ['captions-be-srt', 'captions-be-vtt']) {
      const link = await social.get(`/staff/gallery/${id}/files/${output}`);
      expect(link.status).toBe(303);
      const text = await (await fetch(link.location!)).text();
      expect(text).toContain('Свабоду палітвязням!');
      expect(text).not.toMatch(BIDI);
    }

    // Text stored before it was cleaned (or by a path that forgets to): isolated on the page all the same.
    await deps.db.submissions.updateOne({ _id: id }, { $set: { title: `Title ${RLO}eltit`, message: `Message ${RLO}egassem`, organisation: `Union ${RLO}noinu` } });
    await app.services.db.campaigns.updateOne({ slug: 'demo' }, { $set: { name: `Demo ${RLO}omed` } });
    const page = await social.get('/staff/gallery');
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<bdi>Title ${RLO}eltit</bdi>`);
    expect(page.html).toContain(`<p dir="auto">Message ${RLO}egassem</p>`);
    // The meta line: the campaign's name inside FSI … PDI, so " · BY · be · released <date>" is not reversed.
    expect(page.html).toMatch(new RegExp(`\u2068Demo ${RLO}omed\u2069 · BY · be · released `));
    expect(page.html).toMatch(/<pre class="secret"[^>]*dir="auto"/);
    // The review queue and page too.
    const moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator'));
    const other = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await deps.db.submissions.updateOne({ _id: other }, { $set: { title: `Queued ${RLO}deueuq`, organisation: `Union ${RLO}noinu` } });
    await deps.db.reviewQueue.updateOne({ _id: other }, { $set: { title: `Queued ${RLO}deueuq`, organisation: `Union ${RLO}noinu` } });
    const queue = await moderator.get('/staff/queue');
    expect(queue.html).toContain(`<bdi>Queued ${RLO}deueuq</bdi>`);
    expect(queue.html).toContain(`<bdi>Union ${RLO}noinu</bdi>`);
    expect(queue.html).toContain(`<option value="demo">\u2068Demo ${RLO}omed\u2069</option>`);
    const review = await moderator.get(`/staff/review/${other}`);
    expect(review.html).toMatch(new RegExp(`<dd lang="be" dir="auto">Queued ${RLO}deueuq</dd>`));
  });
});
