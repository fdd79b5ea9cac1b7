import { chromium, type Browser, type Page } from 'playwright-core';
import type { Submission } from '../../shared/submissions/submission.model';
import { CHECKLIST } from '../../server/services/review.service';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, signedInStaffPage } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { screenshotter, type Shoot } from '../helpers/screenshots';

/**
 * Moderation in real Chromium (Debian's, driven by playwright-core), under the production CSP: a moderator
 * filters the queue, claims a clip, watches the preview (the "w" key), ticks the checklist and approves;
 * rejects another with a template, which the status endpoint then shows in Belarusian; a second moderator
 * cannot take a claimed clip; a sensitive clip needs both. Screenshots of the queue and the review page at
 * 360 and 1280 px go to the test's temporary folder and, when SCREENSHOTS_DIR is set, to SCREENSHOTS_DIR/queue/.
 */


describe('moderation in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const problems: string[] = [];
  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('queue');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A browser signed in as a new moderator (the login itself is the staff browser test's). */
  async function moderator(email: string, role: 'moderator' | 'admin' = 'moderator'): Promise<Page> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, role, { email }));
    const { page } = await signedInStaffPage(browser, app.baseUrl, client.session()!, problems);
    return page;
  }


  async function tickAllClear(page: Page, except: Record<string, 'present'> = {}): Promise<void> {
    for (const item of CHECKLIST) {
      const group = page.locator('.check', { has: page.locator(`input[name="${item}"]`) });
      await group.getByLabel(except[item] === 'present' ? 'present' : 'none seen').check();
    }
    // A protected clip: each approver confirms they watched its protected preview.
    const confirm = page.getByLabel('I watched the protected preview to the end', { exact: false });
    if ((await confirm.count()) > 0) await confirm.check();
  }

  test('a moderator filters, claims, watches, ticks and approves; rejects another in Belarusian; a second moderator cannot take a claimed clip; a sensitive clip needs two', async () => {
    const hour = 3_600_000;
    const ru = await clipInReview(app, { language: 'ru', country: 'UA', organisation: 'Confederation of Free Trade Unions', title: 'Свободу политзаключённым', at: new Date(Date.now() - 26 * hour) });
    const be = await clipInReview(app, { language: 'be', title: 'Салідарнасць з BNP', at: new Date(Date.now() - 5 * hour) });
    const sensitive = await clipInReview(app, { language: 'be', title: 'Ціхае відэа', protection: true, at: new Date(Date.now() - 2 * hour) });
    const ana = await moderator('ana@example.org');
    const boris = await moderator('boris@example.org');

    // The queue, oldest first; filtered by language.
    await ana.goto(`${app.baseUrl}/staff/queue`);
    await ana.getByRole('heading', { name: 'Review queue' }).waitFor();
    expect(await ana.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([ru.id, be.id, sensitive.id]);
    await ana.getByText('Keys: n opens the oldest clip nobody is reviewing.').waitFor(); // the page script runs under the CSP
    await shoot(ana, '01-queue');
    await ana.getByLabel('Language', { exact: true }).selectOption('ru');
    await ana.getByRole('button', { name: 'Filter' }).click();
    await ana.waitForURL(/language=ru/);
    expect(await ana.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([ru.id]);
    await shoot(ana, '02-queue-filtered');

    // Open, claim, watch, tick, approve.
    await ana.getByRole('link', { name: 'Свободу политзаключённым' }).click();
    await ana.getByRole('button', { name: 'Claim this clip' }).click();
    await ana.getByText('You are reviewing this clip until').waitFor();
    await ana.locator('body').press('w'); // the "watch" key plays the preview
    await ana.waitForFunction(() => {
      const video = document.querySelector('video');
      return video !== null && video.currentTime > 0.5;
    });
    expect(await ana.locator('video').evaluate((v: HTMLVideoElement) => [v.videoWidth, v.duration > 1.5])).toEqual([320, true]);
    expect(await ana.getByTestId('consent').textContent()).toContain('Все, кого видно или слышно в этом видео, согласились на запись.');
    await ana.locator('video').evaluate((v: HTMLVideoElement) => v.pause());
    await shoot(ana, '03-review');

    // Meanwhile a second moderator cannot take it.
    await boris.goto(`${app.baseUrl}/staff/review/${ru.id}`);
    await boris.getByTestId('claimed-by-other').waitFor();
    expect(await boris.getByTestId('claimed-by-other').textContent()).toContain('ana@example.org is reviewing this clip');
    expect(await boris.getByRole('button', { name: 'Claim this clip' }).count()).toBe(0);
    await boris.goto(`${app.baseUrl}/staff/queue`);
    await boris.getByText('being reviewed by ana@example.org').waitFor();
    await shoot(boris, '04-queue-claimed-by-other');

    await tickAllClear(ana);
    await shoot(ana, '05-review-checklist');
    await ana.getByRole('button', { name: 'Approve' }).click();
    // A decision leads to the next clip waiting within the queue's filter: none left in Russian, so the
    // filtered queue, saying what was done.
    await ana.waitForURL(`${app.baseUrl}/staff/queue?language=ru&done=approved&decided=${ru.id}`);
    await ana.getByText('The clip was approved.').waitFor();
    expect((await load(ru.id)).status).toBe('approved');
    await ana.goto(`${app.baseUrl}/staff/queue`);
    await ana.locator('body').press('n');
    await ana.waitForURL(`${app.baseUrl}/staff/review/${be.id}`);

    // The Belarusian clip: rejected with a template; the contributor reads it in Belarusian.
    await ana.getByRole('button', { name: 'Claim this clip' }).click();
    await ana.getByLabel(/Reason \(the contributor reads it in their language, be\)/).selectOption('off_topic');
    await ana.getByRole('button', { name: 'Reject' }).click();
    await ana.waitForURL(`${app.baseUrl}/staff/review/${sensitive.id}?done=rejected&decided=${be.id}`);
    await ana.getByText('Done: you rejected Салідарнасць з BNP. The contributor will read the reason.').waitFor();
    const status = await (await fetch(`${app.baseUrl}/api/submissions/${be.id}/status`, { headers: { authorization: `Bearer ${be.statusToken}` } })).json() as { status: string; rejection: { reason: string } };
    expect(status).toMatchObject({ status: 'rejected', rejection: { reason: 'Відэа не адпавядае тэме кампаніі, таму мы не можам яго апублікаваць.' } });

    // The sensitive clip: ana's approval is a vote; boris's is the second; then it is approved.
    await ana.getByText('The contributor asked for protection.').waitFor();
    await ana.getByRole('button', { name: 'Claim this clip' }).click();
    await ana.getByText('This clip is sensitive').waitFor();
    await tickAllClear(ana, { protection: 'present' });
    await ana.getByRole('button', { name: 'Approve' }).click();
    await ana.getByText('Your approval is recorded. The clip is sensitive: a second moderator must approve it too.').waitFor();
    expect((await load(sensitive.id)).status).toBe('in_review');
    await boris.goto(`${app.baseUrl}/staff/queue`);
    await boris.getByText('1 of 2 approvals').waitFor();
    await boris.locator('body').press('n'); // the "next" key opens the oldest clip nobody else is reviewing
    await boris.waitForURL(`${app.baseUrl}/staff/review/${sensitive.id}`);
    await boris.getByRole('button', { name: 'Claim this clip' }).click();
    await boris.getByText('Approved so far by: ana@example.org.').waitFor();
    await shoot(boris, '06-review-second-approval');
    await tickAllClear(boris);
    await boris.getByRole('button', { name: 'Approve' }).click();
    await boris.getByText('The clip was approved.').waitFor();
    expect((await load(sensitive.id)).status).toBe('approved');
    await boris.getByTestId('queue-empty').waitFor();

    // The clip's page shows its audit trail.
    await boris.goto(`${app.baseUrl}/staff/review/${sensitive.id}`);
    expect(await boris.locator('[data-testid="clip-audit"] li').evaluateAll((items) => items.map((i) => i.getAttribute('data-action')))).toEqual(['claim', 'approve', 'claim', 'approve']);
    expect(problems).toEqual([]);
  }, 180_000);

  test('a moderator who opens a protected clip before its protected master is made is told so, and the page left open says when it is ready', async () => {
    const clip = await clipInReview(app, { language: 'uk', title: 'Чекаємо', protection: true });
    const protectedMaster = (await load(clip.id)).outputs.protectedMaster;
    // As processing leaves it: the protected preview stored, the protected master drawn next by a job of its own.
    await app.services.db.submissions.updateOne({ _id: clip.id }, { $unset: { 'outputs.protectedMaster': 1 } });
    const cleo = await moderator('cleo@example.org');
    await cleo.goto(`${app.baseUrl}/staff/review/${clip.id}`);
    const notice = cleo.getByTestId('protection-not-ready');
    await notice.getByText('The protected version of this clip is still being made.').waitFor();
    await cleo.evaluate(() => { (window as unknown as { stillOpen: boolean }).stillOpen = true; });
    await app.services.db.submissions.updateOne({ _id: clip.id }, { $set: { 'outputs.protectedMaster': protectedMaster } });
    await notice.getByText('The protected version is ready: you can approve the clip.').waitFor({ timeout: 30_000 });
    // The same page, not a reload: what the moderator ticked or typed is still there.
    expect(await cleo.evaluate(() => (window as unknown as { stillOpen?: boolean }).stillOpen)).toBe(true);
    expect(problems).toEqual([]);
  }, 120_000);

  test('an admin opens the job queue dashboard (bull-board, read-only) under the CSP', async () => {
    const admin = await moderator('admin@example.org', 'admin');
    const seen: string[] = [];
    admin.on('console', (message) => seen.push(message.text()));
    await admin.goto(`${app.baseUrl}/staff/admin/queues/`);
    await admin.getByText(/\d+ Jobs/).first().waitFor();
    await shoot(admin, '07-admin-job-queue');
    // No request leaves this server (bull-board's Google Fonts link is removed).
    expect(seen.filter((text) => /googleapis|https:\/\//.test(text) && !text.includes(app.baseUrl))).toEqual([]);
    // Under the dashboard's own policy (inline styles allowed there, scripts only from this server) the page lays out.
    expect(await admin.locator('aside, nav').first().evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  }, 60_000);
});
