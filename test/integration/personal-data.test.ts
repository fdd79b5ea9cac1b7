import { takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { reject } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { getSubmissionStatus } from '../../server/services/submission.service';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { deleteDueOriginals } from '../../worker/retention';
import { expectNothingLeft } from '../helpers/nothing-left';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { workerDeps } from '../helpers/worker-env';

const DAY = 24 * 3600 * 1000;
const PERSONAL = { organisation: 'Salihorsk potash miners', title: 'Tell my brother', message: 'We stand with the strikers', contactEmail: 'ana.k@example.org' };

/** Withdrawn and rejected clips keep what the audit and the tallies need, not the contributor's personal data. */
describe("a declined clip's personal data", () => {
  let app: TestApp;
  let admin: StaffClient;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;

  async function clipWithPersonalData(): Promise<{ id: string; statusToken: string }> {
    const clip = await clipInReview(app, { country: 'BY', language: 'be' });
    await app.services.db.submissions.updateOne({ _id: clip.id }, { $set: PERSONAL });
    return clip;
  }

  /** The review page shows none of it, and still opens. */
  async function expectPageWithout(id: string) {
    const page = await admin.get(`/staff/review/${id}`);
    expect(page.status).toBe(200);
    for (const value of Object.values(PERSONAL)) expect(page.html).not.toContain(value);
    expect(page.html).toContain('(the clip was withdrawn or rejected)');
  }

  test('when a clip is withdrawn, then its takedown clears the organisation, title, message and contact, keeping campaign, country, language, consent, dates and history', async () => {
    const { id, statusToken } = await clipWithPersonalData();
    expect((await admin.get(`/staff/review/${id}`)).html).toContain(PERSONAL.contactEmail);
    await withdrawSubmission(app.deps, id, { actor: { id: null, email: null }, by: 'contributor', reason: 'consent withdrawn by the contributor' });
    const job: QueueJob<'takedown-submission'> = { id: takedownJobId(id), name: 'takedown-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined };
    const before = await load(id);
    await takedownSubmission(workerDeps(app), job);
    const after = await load(id);
    expect(after).toMatchObject({ organisation: '', title: '', message: '', contactEmail: null, personalDataClearedAt: expect.any(Date) });
    expect(after).toMatchObject({ status: 'withdrawn', campaignId: before.campaignId, country: 'BY', language: 'be', consent: before.consent, createdAt: before.createdAt, history: before.history });
    await expectNothingLeft(app, id, 'declined', Object.values(PERSONAL));
    await expectPageWithout(id);
    // The contributor's status page names no title any more.
    expect(await getSubmissionStatus(app.deps, id, statusToken)).toMatchObject({ status: 'withdrawn', title: null });
  });

  test('when a rejected clip\'s retention is due, then its personal data goes with its media; not a minute before', async () => {
    const { id } = await clipWithPersonalData();
    const t0 = Date.now();
    await reject(app.services.db.submissions, id, { by: 'moderator', reason: 'Off topic' });
    await deleteDueOriginals(workerDeps(app), new Date(t0 + 7 * DAY - 60_000));
    expect(await load(id)).toMatchObject(PERSONAL);
    await deleteDueOriginals(workerDeps(app), new Date(t0 + 7 * DAY + 60_000));
    expect(await load(id)).toMatchObject({ organisation: '', title: '', message: '', contactEmail: null, country: 'BY', language: 'be', status: 'rejected', mediaDeletedAt: expect.any(Date), personalDataClearedAt: expect.any(Date) });
    await expectNothingLeft(app, id, 'declined', Object.values(PERSONAL));
    await expectPageWithout(id);
  });

  test('when a rejected clip\'s media went before personal data was cleared with it (an older installation), then the next retention run clears it', async () => {
    const { id } = await clipWithPersonalData();
    await reject(app.services.db.submissions, id, { by: 'moderator', reason: 'Off topic' });
    await app.services.db.submissions.updateOne({ _id: id }, { $set: { originalDeletedAt: new Date(), mediaDeletedAt: new Date(), outputs: {} }, $unset: { personalDataClearedAt: 1 } });
    await deleteDueOriginals(workerDeps(app), new Date(Date.now() + 8 * DAY));
    expect(await load(id)).toMatchObject({ organisation: '', title: '', message: '', contactEmail: null });
  });
});
