import type { Page } from 'playwright-core';
import type { Submission } from '../../shared/submissions/submission.model';
import { approve, reject } from '../../shared/submissions/moderation';
import { finishRelease, startRelease } from '../../shared/submissions/release';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { clipInReview } from '../helpers/review-fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The private status page in real Chromium follows the clip while it is open: the clip is moved on the
 * server by the real services (approval, the release's own steps, a rejection) and the open page shows each
 * new state without being reloaded. What withdrawing means is said for the state the clip is in.
 */
describe('the status page follows the clip', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    chrome = await launchContribBrowser(app.baseUrl);
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  /** Marks the document, so a reload (a new document) is seen. */
  async function markDocument(page: Page): Promise<() => Promise<boolean>> {
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    return () => page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
  }

  test('when a clip is approved and then published while its status page is open, then the page shows each state without a reload, and says what withdrawing a published clip cannot undo', async () => {
    const { id, statusToken } = await clipInReview(app, { language: 'be', title: 'Салідарнасць' });
    const { context, page } = await chrome.newPage({ locale: 'en-GB' });
    await page.goto(`${app.baseUrl}/s/${id}?lang=en#${statusToken}`);
    await page.getByText('Now: Waiting for review').waitFor();
    const stillSameDocument = await markDocument(page);
    await page.getByText('This page follows your clip: it updates by itself while it is open.').waitFor();
    // Before publication: withdrawing deletes the clip, and nothing is said of copies elsewhere.
    expect(await page.locator('#withdraw-help').textContent()).toBe('If you withdraw your consent, the campaign will not use your clip and it will be deleted.');

    await approve(app.services.db.submissions, id, { by: 'moderator@example.org' });
    await page.getByText('Now: Approved').waitFor({ timeout: 20_000 });
    expect(await page.locator('#withdraw-help').textContent()).toContain('not published yet');

    const releasing = await startRelease(app.services.db.submissions, id, { by: 'worker' });
    await finishRelease(app.services.db.submissions, releasing!, { outputs: {}, languages: [], uses: [], credit: false }, { by: 'worker' });
    await page.getByText('Now: Published').waitFor({ timeout: 20_000 });
    expect(await stillSameDocument()).toBe(true);
    // Published: nothing more moves without the contributor, so the page stops following and no longer says it does.
    await page.locator('#status-live').waitFor({ state: 'hidden' });
    expect(await page.locator('#withdraw-help').textContent()).toContain('Copies already posted or downloaded are outside the campaign’s reach');
    expect(await page.locator('#withdraw-help').textContent()).not.toContain('will be deleted');
    await chrome.shoot(page, '20-status-published-en');

    await page.getByRole('button', { name: 'Withdraw my consent' }).click();
    await page.getByText('Withdraw your consent? This cannot be undone. Copies already posted or downloaded stay outside the campaign’s reach.').waitFor();
    await page.getByRole('button', { name: 'Yes, withdraw' }).click();
    await page.getByText('You have withdrawn your consent. The campaign no longer uses the clip and has deleted the copies it held; copies already posted or downloaded elsewhere are outside its reach.').waitFor();
    expect((await load(id)).status).toBe('withdrawn');
    await context.close();
    expect(chrome.problems).toEqual([]);
  }, 90_000);

  test('when a clip is rejected while its Belarusian status page is open, then the page shows the reason without a reload', async () => {
    const { id, statusToken } = await clipInReview(app, { language: 'be', title: 'Салідарнасць з Гомеля' });
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    await page.goto(`${app.baseUrl}/s/${id}#${statusToken}`);
    await page.getByText('Зараз: Чакае праверкі').waitFor();
    const stillSameDocument = await markDocument(page);
    await page.getByText('Гэтая старонка сочыць за вашым відэа').waitFor();

    await reject(app.services.db.submissions, id, { by: 'moderator@example.org', reason: 'Па відэа можна пазнаць месца, дзе яно знята.' });
    await page.getByText('Зараз: Не прынята').waitFor({ timeout: 20_000 });
    await page.getByText('Прычына: Па відэа можна пазнаць месца, дзе яно знята.').waitFor();
    expect(await stillSameDocument()).toBe(true);
    // Rejected: withdrawing only deletes it sooner; the page says that, not that it "will not be used".
    expect(await page.locator('#withdraw-help').textContent()).toBe('Ваша відэа не будзе апублікавана, і праз некаторы час кампанія яго выдаліць. Калі вы адклічаце згоду, яно будзе выдалена адразу.');
    await chrome.shoot(page, '21-status-rejected-live-be');
    await context.close();
    expect(chrome.problems).toEqual([]);
  }, 90_000);
});
