import type { Page } from 'playwright-core';
import { createUnionLink } from '../../server/services/campaign.service';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { heicFile, phonePhoto, quadrantsRaw } from '../helpers/photos';
import { seedReportCampaign, storedPhotoProblems } from '../helpers/reports';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * A union on a phone reports an action (issue 18) in real Chromium: from the campaign page to the form, three
 * phone photos (EXIF with GPS, turned by orientation) over a connection that drops a photo's first request,
 * the receipt, the status page, withdraw. axe at 360 px and 1280 px; nothing asked of another site; the
 * stored photos clean and upright.
 */
describe('reporting an action from a phone', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  const slug = 'report-browser';

  beforeAll(async () => {
    app = await startTestApp();
    await seedReportCampaign(app, slug);
    chrome = await launchContribBrowser(app.baseUrl);
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  async function axeAtBothWidths(page: Page): Promise<string[]> {
    const found: string[] = [];
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      found.push(...(await chrome.axe(page)).map((v) => `${width} px: ${v}`));
    }
    return found;
  }

  test('when a union sends a report with three photos over a bad connection, then it arrives whole and its photos are clean', async () => {
    const { page, context } = await chrome.newPage({ locale: 'uk-UA' });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${app.baseUrl}/c/${slug}`);
    await page.getByTestId('report-link').click();
    await page.locator('form#report').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('uk');
    expect(await axeAtBothWidths(page)).toEqual([]);
    await chrome.shoot(page, 'report-form');

    // HEIC is named before anything is sent.
    await page.locator('#photos').setInputFiles({ name: 'IMG_0001.HEIC', mimeType: 'image/heic', buffer: await heicFile() });
    await page.locator('#photos-error:not([hidden])').waitFor();
    expect(await page.locator('#photos-error').textContent()).toContain('IMG_0001.HEIC');

    const raw = quadrantsRaw(400, 300);
    const photos = await Promise.all([6, 1, 8].map((o) => phonePhoto(raw, o)));
    await page.locator('#photos').setInputFiles(photos.map((buffer, i) => ({ name: `IMG_00${i + 2}.jpg`, mimeType: 'image/jpeg', buffer })));
    await page.locator('#kind').selectOption('embassy_protest');
    await page.locator('#city').fill('Вільнюс');
    await page.locator('#country').fill('lt');
    await page.locator('#organisation').fill('Профспілка тестувальників');
    await page.locator('#participants').selectOption('10-49');
    for (const box of await page.locator('input[name="consent-statement"][required]').all()) await box.check();

    // A bad connection: the second photo's first request fails, then goes through.
    let dropped = 0;
    await page.route('**/api/reports/*/photos/1', async (route) => {
      if (dropped++ === 0) return route.abort('connectionreset');
      return route.continue();
    });
    await page.locator('#send').click();
    await page.locator('#report-receipt:not([hidden])').waitFor({ timeout: 30_000 });
    expect(dropped).toBe(2);
    const link = (await page.getByTestId('report-receipt-link').getAttribute('href'))!;
    expect(link).toMatch(/\/r\/[a-f0-9]{24}\?lang=uk#[\w-]{43}$/);
    await chrome.shoot(page, 'report-receipt');

    const id = /\/r\/([a-f0-9]{24})/.exec(link)![1]!;
    const stored = await storedPhotoProblems(app, id);
    expect(stored.keys).toHaveLength(3);
    expect(stored.problems).toEqual([]);
    expect(await app.services.db.reports.findById(id).lean()).toMatchObject({ status: 'in_review', country: 'LT', city: 'Вільнюс', photos: [{ slot: 0 }, { slot: 1 }, { slot: 2 }] });

    // The status page, then withdraw.
    await page.goto(link);
    await page.getByText('Отримано: чекає на команду кампанії').waitFor();
    expect(await axeAtBothWidths(page)).toEqual([]);
    await chrome.shoot(page, 'report-status');
    await page.locator('#report-withdraw-start').click();
    await page.locator('#report-withdraw-yes').click();
    await page.getByText('Відкликано: не враховується, фото видалено').waitFor();
    expect(await app.services.storage.list(`reports/${id}/`)).toEqual([]);
    await context.close();
    // The one dropped request is the test's own doing; nothing else went wrong, nothing went elsewhere.
    expect(chrome.problems.filter((p) => !p.includes('ERR_CONNECTION_RESET'))).toEqual([]);
  }, 90_000);

  test('when the report comes through a union link, then the form names the union and does not ask for it', async () => {
    const link = await createUnionLink(app.deps.db, slug, { organisation: 'Union ‮evil‬ of a very long name'.repeat(3), country: 'DE' }, new Date());
    const { page, context } = await chrome.newPage();
    await page.goto(`${app.baseUrl}${link.path}/report`);
    await page.getByTestId('fixed-organisation').waitFor();
    expect(await page.locator('#organisation').count()).toBe(0);
    expect(await axeAtBothWidths(page)).toEqual([]);
    await context.close();
  }, 60_000);
});
