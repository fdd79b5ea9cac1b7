import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Report } from '../../shared/reports/report.model';
import { phonePhoto, quadrantsRaw } from '../helpers/photos';
import { imageProblems, reportFields, seedReportCampaign, sendReport } from '../helpers/reports';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, signedInStaffPage } from '../helpers/staff-browser';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * Issue 18's "done when", from the staff side, in real Chromium under the production CSP: a report with three
 * photos waits; a moderator leaves one out and approves the other two through the pages; the press office's
 * dashboard counts it at once, its gallery shows two clean, upright photos; the public summary shows the day's
 * numbers by country. axe at 360 px and 1280 px on every page; screenshots of each.
 */
describe('moderating an action report and reading the dashboard', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const slug = 'report-staff-browser';
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedReportCampaign(app, slug);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('reports');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function axe(page: Page): Promise<string[]> {
    const found: string[] = [];
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      found.push(...result.violations.map((v) => `${width} px ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`));
    }
    return found;
  }

  test('when a moderator approves two of three photos, then the dashboard, the gallery and the public summary show it at once', async () => {
    const raw = quadrantsRaw(400, 300);
    const report = await sendReport(app, reportFields(slug, { country: 'BY', startTime: '12:10' }), await Promise.all([6, 3, 8].map((o) => phonePhoto(raw, o))));
    const moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: [slug] }));
    const { page, context } = await signedInStaffPage(browser, app.baseUrl, moderator.session()!, problems);

    await page.goto(`${app.baseUrl}/staff/queue`);
    await page.getByTestId('reports-queue-link').click();
    await page.locator(`[data-testid="reports-queue"] tr[data-id="${report.id}"] a`).click();
    await page.getByTestId('report-facts').waitFor();
    expect(await axe(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Take this report' }).click();
    await page.getByTestId('claim-state').waitFor();
    // The third photo is left out; the checklist is then asked for the two kept.
    await page.locator('li[data-photo]').nth(2).getByRole('button', { name: 'Leave this photo out' }).click();
    await page.getByTestId('decided').waitFor();
    expect(await page.locator('form.checklist fieldset').count()).toBe(2);
    for (const radio of await page.locator('form.checklist input[type=radio][value=clear]').all()) await radio.check();
    await shoot(page, 'report-review');
    await page.getByRole('button', { name: 'Approve and count' }).click();
    await page.getByText('The report is approved and counted.').waitFor();
    // Photos still loading lazily when the page is closed are no finding.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await context.close();

    const stored = (await app.services.db.reports.findById(report.id).lean<Report>())!;
    expect(stored.status).toBe('approved');
    expect(stored.photos).toHaveLength(2);

    const social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social', { campaigns: [slug] }));
    const press = await signedInStaffPage(browser, app.baseUrl, social.session()!, problems);
    await press.page.goto(`${app.baseUrl}/staff/reports`);
    await press.page.getByRole('link', { name: /Trade unionism/ }).click();
    await press.page.getByTestId('tally-actions').waitFor();
    expect(await press.page.getByTestId('tally-actions').textContent()).toBe('1');
    expect(await press.page.getByTestId('tally-countries').textContent()).toBe('1');
    expect(await press.page.locator('[data-testid="report-map"] g[data-country="BY"]').getAttribute('data-count')).toBe('1');
    const images = press.page.locator('[data-testid="report-gallery"] img');
    expect(await images.count()).toBe(2);
    // What the browser received for each gallery photo: clean and upright.
    for (const src of await images.evaluateAll((els) => els.map((el) => (el as HTMLImageElement).src))) {
      const body = await press.page.request.get(src);
      expect(await imageProblems(Buffer.from(await body.body()))).toEqual([]);
    }
    expect(await axe(press.page)).toEqual([]);
    await shoot(press.page, 'report-dashboard');
    await press.page.unrouteAll({ behavior: 'ignoreErrors' });
    await press.context.close();

    const visitor = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'ru-RU' });
    const summary = await visitor.newPage();
    summary.on('pageerror', (error) => problems.push(error.message));
    await summary.goto(`${app.baseUrl}/p/${slug}/actions`);
    expect(await summary.getByTestId('summary-actions').textContent()).toBe('1');
    expect(await summary.getByTestId('summary-countries-table').textContent()).toContain('BY');
    expect(await summary.locator('[data-testid="summary-photos"] img').count()).toBe(2);
    expect(await summary.locator('html').getAttribute('lang')).toBe('ru');
    expect(await axe(summary)).toEqual([]);
    await shoot(summary, 'report-public-summary');
    await visitor.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
