import { chromium, type Browser, type Page } from 'playwright-core';
import type { Submission } from '../../shared/submissions/submission.model';
import { CHECKLIST } from '../../server/services/review.service';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, nextCode, PASSWORD, testClock } from '../helpers/staff-client';
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
    // A long hold: no worker runs here, and an approval stays undoable throughout.
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', STAFF_SESSION_IDLE_MINUTES: '5', REVIEW_CLAIM_MINUTES: '30', RELEASE_HOLD_SECONDS: '600' }, clock.now);
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'other', name: 'Another campaign' });
    await seedDemoCampaign(app.deps, { slug: 'third', name: 'A third campaign' });
    await seedDemoCampaign(app.deps, { slug: 'phone', name: 'A campaign on the phone' });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('queue');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function moderator(email: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email }));
    const context = await browser.newContext({ viewport });
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
    await page.waitForURL(`${app.baseUrl}/staff/queue?campaign=demo&done=approved&decided=${demo2.id}`);
    await page.getByText('The clip was approved.').waitFor();
    await page.getByTestId('queue-empty').waitFor();
    expect([(await load(other1.id)).status, (await load(other2.id)).status]).toEqual(['in_review', 'in_review']);
    expect(problems).toEqual([]);
  }, 120_000);

  test('when the session ends mid-review, then sending the decision leads to the login, which leads back to the clip with the answers kept', async () => {
    const { id } = await clipInReview(app, { campaign: 'third', title: 'Long review' });
    const staff = await makeStaff(app, clock.now, 'moderator', { email: 'slow@example.org' });
    const client = await loginAs(app, clock, staff);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);
    const page = await context.newPage();
    await underProductionCsp(page);
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${app.baseUrl}/staff/review/${id}?campaign=third`);
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByLabel(/Reason \(the contributor reads it in their language, be\)/).selectOption('quality');
    await page.getByLabel('Note to the contributor (optional)').fill('Кажа па-беларуску');

    // The moderator watched for longer than the idle limit: the session is over when the form is sent.
    clock.advance(6 * 60_000);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/login?next=${encodeURIComponent(`/staff/review/${id}?campaign=third`)}`);
    await page.getByText('Your session has ended. Log in again and you will be taken back to the page you were on').waitFor();
    expect((await load(id)).status).toBe('in_review');
    await shoot(page, '11-login-after-lapse');

    await page.getByLabel('E-mail address').fill(staff.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Code').fill(await nextCode(app, clock, staff));
    await page.getByRole('button', { name: 'Continue' }).click();

    // Back on the clip (its claim still held), the answers given before are in the form again.
    await page.waitForURL(`${app.baseUrl}/staff/review/${id}?campaign=third`);
    await page.getByText('Your earlier answers for this clip are back in the form').waitFor();
    for (const item of CHECKLIST) {
      expect([item, await page.locator(`input[name="${item}"][value="clear"]`).isChecked()]).toEqual([item, true]);
    }
    expect(await page.locator('#reject-template').inputValue()).toBe('quality');
    expect(await page.locator('#reject-note').inputValue()).toBe('Кажа па-беларуску');
    await shoot(page, '12-review-answers-kept');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/queue?campaign=third&done=approved&decided=${id}`);
    expect((await load(id)).status).toBe('approved');
    // The decision went through: the answers are forgotten, so the clip's page shows none next time.
    expect(await page.evaluate((key) => sessionStorage.getItem(key), `review-answers:${id}`)).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  test('when a moderator on a 360 px phone approves or rejects and taps Undo in the notice, then the clip is back in review, the page says so, and nothing was released', async () => {
    const long = `Салідарнасць${'ЗвышДоўгаеСлова'.repeat(12)}`;
    const first = await clipInReview(app, { campaign: 'phone', title: long, at: new Date(Date.now() - 30 * hour) });
    const second = await clipInReview(app, { campaign: 'phone', title: 'Phone second', at: new Date(Date.now() - 20 * hour) });
    const page = await moderator('phone@example.org', { width: 360, height: 740 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    // Approve the first: the next clip's notice says so and offers Undo.
    await page.goto(`${app.baseUrl}/staff/review/${first.id}?campaign=phone`);
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(new RegExp(`/staff/review/${second.id}\\?`));
    const notice = page.getByTestId('decided');
    await notice.getByText('You can undo it until its release starts').waitFor();
    expect((await load(first.id)).status).toBe('approved');
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shoot(page, '13-undo-offered');
    await notice.getByRole('button', { name: 'Undo' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/review/${first.id}?undone=approved&campaign=phone`);
    await page.getByText('Undone: your approval is withdrawn and the clip is back in review. Nothing was released.').waitFor();
    const back = await load(first.id);
    expect([back.status, back.history.at(-1)!.transition, back.release]).toEqual(['in_review', 'approval_undone', null]);
    expect(await app.services.queue.jobState(`release-${first.id}`)).toBeNull();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shoot(page, '14-undone');

    // Reject the same clip: undone from the next clip's notice too.
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await page.getByLabel(/Reason \(the contributor reads it in their language, be\)/).selectOption('off_topic');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(new RegExp(`/staff/review/${second.id}\\?`));
    await page.getByTestId('decided').getByRole('button', { name: 'Undo' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/review/${first.id}?undone=rejected&campaign=phone`);
    await page.getByText('Undone: your rejection is withdrawn and the clip is back in review').waitFor();
    expect((await load(first.id))).toMatchObject({ status: 'in_review', rejection: null });

    // The last clip of the filter: the queue's notice offers Undo as well.
    await page.goto(`${app.baseUrl}/staff/review/${second.id}?campaign=phone`);
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(new RegExp(`/staff/review/${first.id}\\?`));
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await tickAllClear(page);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/queue?campaign=phone&done=approved&decided=${first.id}`);
    await page.getByTestId('decided').getByRole('button', { name: 'Undo' }).click();
    await page.waitForURL(`${app.baseUrl}/staff/review/${first.id}?undone=approved&campaign=phone`);
    expect([(await load(first.id)).status, (await load(second.id)).status]).toEqual(['in_review', 'approved']);
    expect(problems).toEqual([]);
  }, 120_000);
});
