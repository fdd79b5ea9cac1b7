import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The campaign page's details in real Chromium, in Belarusian: the demo campaign's own Belarusian title; a
 * tappable receipt link kept for the tab (Back shows it again); a second clip's form keeps the
 * organisation and country and says so; leaving mid-upload asks first.
 */
describe('campaign page details in a real browser', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  let clip: string;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    chrome = await launchContribBrowser(app.baseUrl);
    clip = join(tmpdir(), `contrib-details-${process.pid}.mp4`);
    await writeFile(clip, await smallMp4());
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  async function fillClip(page: Page, title: string): Promise<void> {
    await page.getByLabel('Назва вашага звароту').fill(title);
    for (const box of await page.locator('input[name=consent-statement][required]').all()) await box.check();
    await page.getByLabel('Відэафайл').setInputFiles(clip);
    await page.locator('#preview:not([hidden])').waitFor();
  }

  test('when a Belarusian contributor sends two clips and goes back, then the title is Belarusian, the links are tappable and kept, and the second form keeps the organisation and country', async () => {
    const { page } = await chrome.newPage({ locale: 'be-BY' });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.getByRole('heading', { level: 1, name: 'Прафсаюзная дзейнасць — не экстрэмізм (дэманстрацыйная кампанія)' }).waitFor();
    await page.locator('form[data-ready]').waitFor();
    await page.getByLabel('Ваш прафсаюз або арганізацыя').fill('Беларускі незалежны прафсаюз');
    await page.getByLabel('Краіна').fill('BY');
    await page.getByLabel('Электронная пошта, калі кампанія можа спытаць вас пра відэа (неабавязкова)').fill('member@example.org');
    await fillClip(page, 'Першае відэа');
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor();
    const first = (await page.getByTestId('receipt-link').textContent())!;
    expect(first).toMatch(/\/s\/[a-f0-9]{24}#[\w-]{43}$/);
    // The link is a link: tappable, to the status page.
    expect(await page.getByTestId('receipt-link').evaluate((a) => [a.tagName, a.getAttribute('href')])).toEqual(['A', first]);

    // Another clip: the organisation and country stay (and the page says so); the rest is asked again.
    await page.getByRole('button', { name: 'Адправіць яшчэ адно відэа' }).click();
    await page.getByText('Арганізацыя і краіна ўжо запоўненыя, як для папярэдняга відэа.').waitFor();
    expect(await page.getByLabel('Ваш прафсаюз або арганізацыя').inputValue()).toBe('Беларускі незалежны прафсаюз');
    expect(await page.getByLabel('Краіна').inputValue()).toBe('BY');
    expect(await page.getByLabel('Назва вашага звароту').inputValue()).toBe('');
    expect(await page.locator('#contactEmail').inputValue()).toBe('');
    expect(await page.locator('input[name=consent-statement]:checked').count()).toBe(0);
    expect(await page.locator('#preview').isHidden()).toBe(true);
    await chrome.shoot(page, '30-another-clip-be');
    await fillClip(page, 'Другое відэа');
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor();
    const second = (await page.getByTestId('receipt-link').textContent())!;
    expect(second).not.toBe(first);
    await page.locator('#receipt-earlier').getByRole('link', { name: first }).waitFor();

    // The link opens the status page; Back shows the receipt again, both links with it.
    await page.getByTestId('receipt-link').click();
    await page.getByText('Зараз: Атрымана').waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor();
    expect(await page.getByTestId('receipt-link').textContent()).toBe(second);
    await page.locator('#receipt-earlier').getByRole('link', { name: first }).waitFor();
    await chrome.shoot(page, '31-receipt-kept-be');
    const sent = await app.services.db.submissions.find({}, { title: 1, organisation: 1, country: 1, contactEmail: 1 }).sort({ _id: 1 }).lean();
    expect(sent.map((s) => [s.title, s.organisation, s.country, s.contactEmail ?? null])).toEqual([
      ['Першае відэа', 'Беларускі незалежны прафсаюз', 'BY', 'member@example.org'],
      ['Другое відэа', 'Беларускі незалежны прафсаюз', 'BY', null],
    ]);
    expect(chrome.problems).toEqual([]);
  }, 120_000);

  test('when a contributor leaves mid-upload, then the browser asks first; once the clip is sent, it does not', async () => {
    const { page } = await chrome.newPage({ locale: 'be-BY' });
    // The clip's bytes never arrive: the upload stays in the middle.
    await page.route(/\/tus\/[a-f0-9]{24}$/, async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      // left unanswered: the request is still going when the page is left
    });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.locator('form[data-ready]').waitFor();
    await page.getByLabel('Ваш прафсаюз або арганізацыя').fill('Прафсаюз');
    await page.getByLabel('Краіна').fill('BY');
    await fillClip(page, 'Незавершанае');
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    await page.locator('#progress:not([hidden])').waitFor();
    const asked = page.waitForEvent('dialog');
    await page.close({ runBeforeUnload: true });
    const dialog = await asked;
    expect(dialog.type()).toBe('beforeunload');
    await dialog.dismiss(); // stay
    expect(page.isClosed()).toBe(false);
    await page.close();

    // After the receipt, leaving asks nothing.
    const { page: done } = await chrome.newPage({ locale: 'be-BY' });
    await done.goto(`${app.baseUrl}/c/demo`);
    await done.locator('form[data-ready]').waitFor();
    await done.getByLabel('Ваш прафсаюз або арганізацыя').fill('Прафсаюз');
    await done.getByLabel('Краіна').fill('BY');
    await fillClip(done, 'Завершанае');
    await done.getByRole('button', { name: 'Адправіць відэа' }).click();
    await done.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor();
    let askedAfter = false;
    done.on('dialog', (d) => {
      askedAfter = true;
      void d.accept();
    });
    await done.close({ runBeforeUnload: true });
    await done.waitForEvent('close');
    expect(askedAfter).toBe(false);
  }, 120_000);
});
