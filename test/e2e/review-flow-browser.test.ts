import { chromium, type Browser, type Page } from 'playwright-core';
import type { Submission } from '../../shared/submissions/submission.model';
import { CHECKLIST } from '../../server/services/review.service';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, underProductionCsp } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { screenshotter, type Shoot } from '../helpers/screenshots';

/**
 * A moderator's flow through a filtered queue in real Chromium, under the production CSP: each decision says
 * what was done, and the next clip (after a decision, the button or the `n` key) comes from the queue's
 * filter, never from another campaign.
 */
describe('reviewing through a filtered queue in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const problems: string[] = [];
  const hour = 3_600_000;
  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'other', name: 'Another campaign' });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('queue');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function moderator(email: string): Promise<Page> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email }));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);
    const page = await context.newPage();
    await underProductionCsp(page);
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  async function tickAllClear(page: Page): Promise<void> {
    for (const item of CHECKLIST) await page.locator('.check', { has: page.locator(`input[name="${item}"]`) }).getByLabel('none seen').check();
  }

  test('when a moderator filtered by campaign approves, rejects and presses n, then each decision is confirmed and every next clip is from that campaign', async () => {
    // Another campaign's clips are the oldest: an unfiltered "next" would take them first.
    const other1 = await clipInReview(app, { campaign: 'other', title: 'Other campaign, oldest', at: new Date(Date.now() - 50 * hour) });
    const other2 = await clipInReview(app, { campaign: 'other', title: 'Other campaign, older', at: new Date(Date.now() - 40 * hour) });
    const demo1 = await clipInReview(app, { title: 'Demo first', at: new Date(Date.now() - 30 * hour) });
    const demo2 = await clipInReview(app, { title: 'Demo second', at: new Date(Date.now() - 20 * hour) });
    const demo3 = await clipInReview(app, { title: 'Demo third', at: new Date(Date.now() - 10 * hour) });
    const page = await moderator('filter@example.org');

    await page.goto(`${app.baseUrl}/staff/queue`);
    await page.getByLabel('Campaign', { exact: true }).selectOption('demo');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/campaign=demo/);
    await page.getByRole('link', { name: 'Demo first' }).click();
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByRole('button', { name: 'Approve' }).click();

    // Approved, said so, and the next clip is the demo campaign's.
    await page.waitForURL(new RegExp(`/staff/review/${demo2.id}\\?`));
    await page.getByText('Done: you approved Demo first. Its release is being prepared.').waitFor();
    expect((await load(demo1.id)).status).toBe('approved');
    await shoot(page, '10-review-decided');
    // The notice links to the clip decided on.
    expect(await page.getByTestId('decided').getByRole('link').getAttribute('href')).toBe(`/staff/review/${demo1.id}`);

    // The `n` key skips to the next clip within the filter, not the other campaign's older ones.
    await page.getByText('Next clip (within the queue’s filter)').waitFor();
    await page.locator('body').press('n');
    await page.waitForURL(new RegExp(`/staff/review/${demo3.id}\\?`));
    expect(page.url()).toContain('campaign=demo');

    // Rejected: said so; no demo clip left but the one skipped, which is next.
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await page.getByLabel(/Reason \(the contributor reads it in their language, be\)/).selectOption('off_topic');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(new RegExp(`/staff/review/${demo2.id}\\?`));
    await page.getByText('Done: you rejected Demo third. The contributor will read the reason.').waitFor();
    expect((await load(demo3.id)).status).toBe('rejected');

    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    // Nothing left in the demo campaign: the filtered queue, saying what was done; the other campaign's clips untouched.
    await page.waitForURL(`${app.baseUrl}/staff/queue?campaign=demo&done=approved`);
    await page.getByText('The clip was approved.').waitFor();
    await page.getByTestId('queue-empty').waitFor();
    expect([(await load(other1.id)).status, (await load(other2.id)).status]).toEqual(['in_review', 'in_review']);
    expect(problems).toEqual([]);
  }, 120_000);
});
