import { takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { originalKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { withdrawSubmission } from '../../server/services/submission.service';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { expectNothingLeft } from '../helpers/nothing-left';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { workerDeps } from '../helpers/worker-env';

/** One rule for a withdrawn clip's original, whoever withdrew it: deleted at once, recorded, offered nowhere. */
describe("a withdrawn clip's original", () => {
  let app: TestApp;
  let moderator: StaffClient;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator'));
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;
  const takedown = (id: string) => takedownSubmission(workerDeps(app), { id: takedownJobId(id), name: 'takedown-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined } as QueueJob<'takedown-submission'>);
  const downloadForm = (id: string) => `action="/staff/review/${id}/original"`;

  async function expectNothingToDownload(id: string) {
    const page = await moderator.get(`/staff/review/${id}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain(downloadForm(id));
    expect(page.html).toContain('data-testid="original-deleted"');
    const asked = await moderator.request('POST', `/staff/review/${id}/original`, { _csrf: moderator.csrf() }, { accept: 'text/html' });
    expect([asked.status, asked.headers.get('content-type')]).toEqual([410, expect.stringContaining('text/html')]);
  }

  test('when a moderator withdraws a clip, then the download goes from its page at once, and the takedown deletes the original and records originalDeletedAt', async () => {
    const { id } = await clipInReview(app);
    expect((await moderator.get(`/staff/review/${id}`)).html).toContain(downloadForm(id));
    const withdrawn = await moderator.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'the union asked' });
    expect(withdrawn.status).toBe(303);
    await expectNothingToDownload(id);
    await takedown(id);
    await expectNothingLeft(app, id, 'declined');
    expect((await load(id)).originalDeletedAt).toEqual(expect.any(Date));
    await expectNothingToDownload(id);
    expect((await moderator.get(`/staff/review/${id}`)).html).toContain('The original was deleted on');
  });

  test('when the contributor withdraws, then the same: the original is gone at once and the takedown records it', async () => {
    const { id, statusToken } = await clipInReview(app);
    await withdrawSubmission(app.deps, id, statusToken);
    expect(await app.services.storage.list(originalKey(id))).toEqual([]);
    await expectNothingToDownload(id);
    await takedown(id);
    expect((await load(id)).originalDeletedAt).toEqual(expect.any(Date));
    await expectNothingLeft(app, id, 'declined');
  });
});
