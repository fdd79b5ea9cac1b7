import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { makePng, SVG_LOGO } from '../helpers/images';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * An admin edits a campaign in real Chromium (Debian's, driven by playwright-core) under the server's own
 * CSP: the Belarusian title, the accent colour and the logo (an SVG refused, a PNG taken); then the
 * contributors' page, opened by a Belarusian browser, shows the new title, the logo and the colour, still
 * passes axe and stays under its 200 KB first load. Screenshots at 360 and 1280 px go to the test's
 * temporary folder and, when SCREENSHOTS_DIR is set, to SCREENSHOTS_DIR/campaigns/ (admin) and contrib/.
 */
describe('campaign administration in a real browser', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  let shoot: Shoot;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    chrome = await launchContribBrowser(app.baseUrl);
    shoot = await screenshotter('campaigns');
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  test("when an admin changes the Belarusian title, the colour and the logo, then the campaign page shows them", async () => {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin', { email: 'admin@example.org' }));
    const { context: adminContext, page: admin } = await chrome.newPage();
    await adminContext.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);

    await admin.goto(`${app.baseUrl}/staff`);
    await admin.getByRole('link', { name: 'Campaigns' }).first().click();
    await admin.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await admin.getByRole('link', { name: 'Trade unionism is not extremism — demo campaign' }).click();
    await admin.getByRole('heading', { name: 'Campaign: Trade unionism is not extremism — demo campaign' }).waitFor();
    expect(await chrome.axe(admin)).toEqual([]);

    await admin.getByLabel('Title (be)').fill('Прафсаюзы — не экстрэмізм');
    await admin.getByLabel('What you ask contributors for (be)').fill('Скажыце некалькі слоў падтрымкі.');
    await admin.getByLabel('Accent colour (buttons, links)').fill('#0b5394');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await admin.getByLabel('Title (be)').inputValue()).toBe('Прафсаюзы — не экстрэмізм');

    // An SVG is refused beside the logo form, saying why; a PNG is taken and shown.
    const fileInput = admin.getByLabel(/^Image file/);
    await fileInput.setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: SVG_LOGO });
    await admin.getByRole('button', { name: 'Upload the logo' }).click();
    await admin.getByRole('alert').filter({ hasText: 'SVG is refused: it can carry script.' }).waitFor();
    await shoot(admin, '01-logo-refused');
    await admin.getByLabel(/^Image file/).setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: makePng(96, 48, { rgb: [11, 83, 148] }) });
    await admin.getByRole('button', { name: 'Upload the logo' }).click();
    await admin.getByRole('status').filter({ hasText: 'The logo is saved.' }).waitFor();
    await admin.getByRole('img', { name: 'The current logo' }).waitFor();
    await shoot(admin, '02-campaign-edit');
    await adminContext.close();

    // The contributors' page, in Belarusian.
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.getByRole('heading', { name: 'Прафсаюзы — не экстрэмізм' }).waitFor();
    await page.getByText('Скажыце некалькі слоў падтрымкі.').waitFor();
    const logo = page.getByTestId('logo');
    await logo.waitFor();
    // The logo came from this server and decoded (the CSP allows images from 'self' only).
    expect(await logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(96);
    const button = page.getByRole('button', { name: 'Адправіць відэа' });
    expect(await button.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(11, 83, 148)');
    await page.locator('form[data-ready]').waitFor();
    expect(await chrome.axe(page)).toEqual([]);
    const kb = Number(/(\d+)/.exec((await page.getByTestId('weight').textContent())!)![1]);
    expect(kb).toBeLessThanOrEqual(200);
    await shoot(page, '03-campaign-page-be');
    await context.close();
    expect(chrome.problems).toEqual([]);
  }, 90_000);
});
