import { chromium, type Browser, type Page } from 'playwright-core';
import { clipInReview } from '../helpers/review-fixtures';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, underProductionCsp } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The staff pages' languages in real Chromium (Debian's, driven by playwright-core), under the production CSP:
 * a moderator whose browser asks for Belarusian sees the queue and the review page in Belarusian (the
 * rejection reasons too, without their ids), switches to Ukrainian, and the same page and the next one are
 * Ukrainian; the switcher works with script turned off. Screenshots at 360 and 1280 px go to the test's
 * temporary folder and, when SCREENSHOTS_DIR is set, to SCREENSHOTS_DIR/staff-language/.
 */
describe('staff pages in the moderator’s language, in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('staff-language');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A browser asking for `locale`, signed in as a new moderator (the login itself is the staff browser test's). */
  async function moderator(email: string, locale: string): Promise<Page> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email }));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    await context.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);
    const page = await context.newPage();
    await underProductionCsp(page);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  const htmlLang = (page: Page) => page.locator('html').getAttribute('lang');
  /** No page may be wider than the screen (the switcher in the header must wrap on a phone). */
  async function fitsAt360(page: Page): Promise<void> {
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  test('when a moderator’s browser asks for Belarusian, then the queue and the review page are Belarusian; after switching to Ukrainian, the same page and the next one are Ukrainian', async () => {
    const clip = await clipInReview(app, { language: 'uk', title: 'Солідарність з BNP' });
    const page = await moderator('ales@example.org', 'be-BY');

    await page.goto(`${app.baseUrl}/staff/queue`);
    await page.getByRole('heading', { name: 'Чарга на праверку' }).waitFor();
    expect(await htmlLang(page)).toBe('be');
    await page.getByText('Клавішы: n адкрывае найстарэйшае відэа, якое ніхто не правярае.').waitFor(); // the page script runs under the CSP
    await fitsAt360(page);
    await shoot(page, '01-queue-be');

    await page.getByRole('link', { name: 'Солідарність з BNP' }).click();
    await page.getByRole('heading', { name: 'Праверка: Солідарність з BNP' }).waitFor();
    await page.getByRole('button', { name: 'Узяць гэта відэа' }).click();
    await page.getByText('Вы правяраеце гэта відэа да').waitFor();
    // The reasons in Belarusian, by their text only; the contributor will read the chosen one in Ukrainian.
    const reasons = page.getByLabel('Прычына (аўтар прачытае яе на сваёй мове, uk)');
    expect(await reasons.locator('option').allTextContents()).toEqual([
      'без шаблону: напішыце прычыну ніжэй',
      expect.stringMatching(/^Па відэа можна пазнаць вас/),
      'Відэа не адпавядае тэме кампаніі, таму мы не можам яго апублікаваць.',
      expect.stringMatching(/^Відэа або гук занадта дрэнныя/),
      'Мы ўжо атрымалі гэта відэа. Дзякуй!',
    ]);
    await fitsAt360(page);
    await shoot(page, '02-review-be');

    // The switcher: Ukrainian, and the same review page comes back in Ukrainian.
    await page.getByRole('navigation', { name: 'Мова гэтых старонак' }).getByRole('button', { name: 'Українська' }).click();
    await page.getByRole('heading', { name: 'Перевірка: Солідарність з BNP' }).waitFor();
    expect(page.url()).toBe(`${app.baseUrl}/staff/review/${clip.id}`);
    expect(await htmlLang(page)).toBe('uk');
    await page.getByText('Ви перевіряєте це відео до').waitFor();
    expect(await page.getByLabel('Причина (автор прочитає її своєю мовою, uk)').locator('option').nth(2).textContent()).toBe('Відео не відповідає темі кампанії, тому ми не можемо його опублікувати.');
    await fitsAt360(page);
    await shoot(page, '03-review-uk');

    // The next page too, although the browser still asks for Belarusian.
    await page.getByRole('link', { name: 'Назад до черги' }).click();
    await page.getByRole('heading', { name: 'Черга на перевірку' }).waitFor();
    expect(await htmlLang(page)).toBe('uk');
    expect(await page.locator('header [aria-current="true"]').textContent()).toBe('Українська');
    await shoot(page, '04-queue-uk');
    expect(problems).toEqual([]);
  });

  test('when script is off, then the switcher still works: the login page comes back in the chosen language', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-GB', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${app.baseUrl}/staff/login`);
    await page.getByRole('heading', { name: 'Staff login' }).waitFor();
    await page.getByRole('button', { name: 'Русский' }).click();
    await page.getByRole('heading', { name: 'Вход для команды' }).waitFor();
    expect([new URL(page.url()).pathname, await htmlLang(page)]).toEqual(['/staff/login', 'ru']);
    expect((await context.cookies()).find((c) => c.name === 'staff_lang')).toMatchObject({ value: 'ru', sameSite: 'Lax', httpOnly: true, expires: -1 });
    await shoot(page, '05-login-ru-without-script');
    await context.close();
  });
});
