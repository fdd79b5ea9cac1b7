import { chromium, type Browser } from 'playwright-core';
import { releaseJobId, takedownJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { screenshotter } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import { CHROMIUM } from '../helpers/staff-browser';


/** In real Chromium: an admin goes from the gallery to a clip's review page and withdraws it, confirming. */
describe('withdrawal by staff in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  test('an admin withdraws a released clip from the gallery: the confirmation is needed, then it is gone from the gallery and its takedown is queued', async () => {
    const deps = workerDeps(app);
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin', { email: 'admin@example.org' }));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    const shoot = await screenshotter('withdraw');

    await page.goto(`${app.baseUrl}/staff/gallery`);
    await page.locator(`li.clip[data-clip="${id}"]`).getByRole('link', { name: 'Withdraw this clip (on its review page)…' }).click();
    await page.getByText('Withdraw this clip…').click();
    await page.getByLabel('Why (kept in the clip\'s history)').fill('The union asked us to take it down.');
    // Not ticked: the browser does not send the form.
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
    expect(await page.getByLabel('Yes, withdraw this clip for good').evaluate((box: HTMLInputElement) => box.validity.valueMissing)).toBe(true);
    expect((await deps.db.submissions.findById(id).lean<Submission>())!.status).toBe('released');
    await shoot(page, '30-withdraw-confirm');
    await page.getByLabel('Yes, withdraw this clip for good').check();
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await page.getByText('The clip was withdrawn. Its files are being deleted.').waitFor();
    expect(await page.locator('[data-testid="clip-audit"] li[data-action="withdraw"]').textContent()).toContain('admin@example.org');
    await shoot(page, '31-withdrawn');

    await page.goto(`${app.baseUrl}/staff/gallery`);
    expect(await page.locator(`li.clip[data-clip="${id}"]`).count()).toBe(0);
    expect(await deps.queue.jobState(takedownJobId(id))).toBe('waiting');
    expect(problems).toEqual([]);
  });
});
