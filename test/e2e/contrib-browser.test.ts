import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import type { Submission } from '../../shared/submissions/submission.model';
import { reject } from '../../shared/submissions/moderation';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { makeFixture, smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { workerDeps } from '../helpers/worker-env';
import { waitUntil } from '../helpers/wait-until';

/**
 * The campaign page in real Chromium: Belarusian from the browser's language, checked by axe-core, switched
 * and remembered without a cookie; the clip checked before sending; a clip picked from the device sent and
 * processed to in_review; no request leaves the server's origin.
 */
describe('campaign page in a real browser', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  let clip: string;

  beforeAll(async () => {
    app = await startTestApp({ MEDIA_MAX_DURATION_SECONDS: '4' });
    await seedDemoCampaign(app.deps);
    const deps = workerDeps(app);
    app.services.queue.process('process-submission', 1, (job) => processSubmission(deps, job));
    chrome = await launchContribBrowser(app.baseUrl);
    clip = join(tmpdir(), `contrib-clip-${process.pid}.mp4`);
    await writeFile(clip, await smallMp4());
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  async function fillForm(page: Page, labels: { organisation: string; country: string; title: string }) {
    await page.getByLabel(labels.organisation).fill('Беларускі незалежны прафсаюз');
    await page.getByLabel(labels.country).fill('by');
    await page.getByLabel(labels.title).fill('Салідарнасць з Мінска');
    for (const box of await page.locator('input[name=consent-statement][required]').all()) await box.check();
  }

  test('when a Belarusian browser opens the page, then it is in Belarusian, passes axe, weighs under 200 KB and asks nothing of other sites', async () => {
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    const response = await page.goto(`${app.baseUrl}/c/demo`);
    expect(response!.headers()['x-robots-tag']).toBe('noindex, nofollow');
    await page.getByRole('heading', { name: 'Прафсаюзная дзейнасць — не экстрэмізм (дэманстрацыйная кампанія)' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('be');
    await page.getByRole('button', { name: 'Адправіць відэа' }).waitFor();
    // The consent text verbatim, one box per statement.
    await page.getByRole('checkbox', { name: 'Кампанія можа публікаваць гэта відэа ў сацыяльных сетках і на сайтах.' }).waitFor();
    // Three statements to agree to, three the contributor may leave unticked (events, press, credit).
    expect(await page.locator('input[name=consent-statement]').count()).toBe(6);
    // And the three identity protection options, none ticked unless the contributor asks.
    expect(await page.locator('fieldset.protect input[type=checkbox]:not(:checked)').count()).toBe(3);
    expect(await page.locator('input[name=consent-statement][required]').count()).toBe(3);
    await page.locator('form[data-ready]').waitFor();
    expect(await chrome.axe(page)).toEqual([]);
    await chrome.shoot(page, '01-campaign-be');

    // The stated weight is the compressed first load, under 200 KB.
    const weight = (await page.getByTestId('weight').textContent())!;
    const kb = Number(/(\d+)/.exec(weight)![1]);
    expect(kb).toBeGreaterThan(1);
    expect(kb).toBeLessThanOrEqual(200);

    // Switch to Ukrainian: remembered for the next visit without a cookie.
    await page.getByRole('link', { name: 'Українська' }).click();
    await page.getByRole('button', { name: 'Надіслати відео' }).waitFor();
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.waitForURL(/lang=uk/);
    await page.getByRole('button', { name: 'Надіслати відео' }).waitFor();
    expect(await context.cookies()).toEqual([]);
    await context.close();
  }, 60_000);

  test('when the chosen file is not a video or too long, then the page says so in its language before sending anything', async () => {
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request.url());
    });
    await page.goto(`${app.baseUrl}/c/demo?lang=be`);
    await page.locator('form[data-ready]').waitFor();
    await page.getByLabel('Відэафайл').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a clip') });
    await page.getByText('Гэты файл не з’яўляецца відэа').waitFor();
    const longClip = await makeFixture('contrib-long-6s.mp4', ['-f', 'lavfi', '-i', 'testsrc2=duration=6:size=160x120:rate=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
    await page.getByLabel('Відэафайл').setInputFiles(longClip);
    await page.getByText(/Працягласць відэа — 6 с, ліміт — 4 с/).waitFor();
    await fillForm(page, { organisation: 'Ваш прафсаюз або арганізацыя', country: 'Краіна', title: 'Назва вашага звароту' });
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    await page.getByText(/Працягласць відэа — 6 с/).waitFor();
    expect(posts).toEqual([]);
    await context.close();
  }, 60_000);

  test('when a contributor picks a clip, agrees and sends it, then the receipt shows a private link and the clip reaches in_review', async () => {
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.locator('form[data-ready]').waitFor();
    await fillForm(page, { organisation: 'Ваш прафсаюз або арганізацыя', country: 'Краіна', title: 'Назва вашага звароту' });
    await page.getByLabel('Відэафайл').setInputFiles(clip);
    await page.locator('#preview:not([hidden])').waitFor();
    await chrome.shoot(page, '02-campaign-be-filled');
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor();
    await page.locator('#receipt-qr svg').waitFor();
    await chrome.shoot(page, '03-receipt-be');
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    const match = /\/s\/([a-f0-9]{24})#([\w-]{43})$/.exec(link);
    expect(match).not.toBeNull();
    const [, id, token] = match!;

    const submission = await waitUntil(async () => {
      const doc = await app.services.db.submissions.findById(id).lean<Submission>();
      return doc && ['in_review', 'rejected', 'failed'].includes(doc.status) ? doc : null;
    }, { timeoutMs: 60_000, what: 'the clip is in review' });
    expect(submission.status).toBe('in_review');
    expect(submission).toMatchObject({ organisation: 'Беларускі незалежны прафсаюз', country: 'BY', language: 'be', title: 'Салідарнасць з Мінска' });
    expect(submission.consent).toMatchObject({ version: 1, language: 'be', statements: ['record', 'publish', 'risk'] });
    const status = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { Authorization: `Bearer ${token}` } });
    expect(((await status.json()) as { status: string }).status).toBe('in_review');

    // The private status page, in Belarusian: in review; then not accepted, with the moderator's reason.
    const statusUrl = `${app.baseUrl}/s/${id}#${token}`;
    const statusResponse = await page.goto(statusUrl);
    expect(statusResponse!.headers()['x-robots-tag']).toBe('noindex, nofollow');
    await page.getByText('Зараз: Чакае праверкі').waitFor();
    // What the state means, in Belarusian too (not the API's English description).
    await page.getByText('Ваша відэа гатовае і чакае мадэратара кампаніі.').waitFor();
    expect(await page.locator('#status').textContent()).not.toContain('waiting for a campaign moderator');
    await page.getByText('Ваша відэа: «Салідарнасць з Мінска»').waitFor();
    expect(await chrome.axe(page)).toEqual([]);
    await chrome.shoot(page, '05-status-in-review-be');
    await reject(app.services.db.submissions, id!, { by: 'moderator@example.org', reason: 'На відэа чуваць прозвішча, якое можа пашкодзіць удзельніку.' });
    await page.reload();
    await page.getByText('Зараз: Не прынята').waitFor();
    await page.getByText('Ваша відэа не ўдалося прыняць. Прычына пазначана ніжэй.').waitFor();
    await page.getByText('Прычына: На відэа чуваць прозвішча, якое можа пашкодзіць удзельніку.').waitFor();
    await chrome.shoot(page, '06-status-rejected-be');

    // Withdrawing consent asks first; cancelled, nothing changes; confirmed, the clip is withdrawn and deleted.
    await page.getByRole('button', { name: 'Адклікаць маю згоду' }).click();
    await page.getByText('Адклікаць вашу згоду? Гэта нельга адмяніць.').waitFor();
    await chrome.shoot(page, '07-status-withdraw-confirm-be');
    await page.getByRole('button', { name: 'Скасаваць' }).click();
    expect((await app.services.db.submissions.findById(id).lean<Submission>())!.status).toBe('rejected');
    await page.getByRole('button', { name: 'Адклікаць маю згоду' }).click();
    await page.getByRole('button', { name: 'Так, адклікаць' }).click();
    await page.getByText('Вы адклікалі сваю згоду. Відэа выдалена і не будзе выкарыстана.').waitFor();
    await chrome.shoot(page, '08-status-withdrawn-be');
    expect((await app.services.db.submissions.findById(id).lean<Submission>())!.status).toBe('withdrawn');
    expect(await app.services.storage.list(`originals/${id}/`)).toEqual([]);
    // Without the token the page says the link is incomplete; a wrong token learns nothing.
    await page.goto(`${app.baseUrl}/s/${id}`);
    await page.getByText('Спасылка няпоўная').waitFor();
    await page.goto(`${app.baseUrl}/s/${id}#${'x'.repeat(43)}`);
    await page.reload(); // only the fragment changed: load the page again
    await page.getByText('Па гэтай спасылцы відэа няма').waitFor();
    await context.close();
    expect(chrome.problems).toEqual([]);
  }, 120_000);

  test('when a contributor sends a clip with an .srt file, then both go through the resumable upload (no multipart fallback) and the clip reaches in_review with captions', async () => {
    const { context, page } = await chrome.newPage({ locale: 'uk-UA' });
    const requests: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname.replace(/[a-f0-9]{24}/, '<id>');
      if (request.method() !== 'GET') requests.push(`${request.method()} ${path}`);
    });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.locator('form[data-ready]').waitFor();
    await fillForm(page, { organisation: 'Ваша профспілка або організація', country: 'Країна', title: 'Назва вашого звернення' });
    await page.getByLabel('Відеофайл').setInputFiles(clip);
    const srt = '1\n00:00:00,000 --> 00:00:01,500\nСолідарність з Мінська\n\n2\n00:00:01,500 --> 00:00:02,500\nСвободу всім\n';
    await page.getByLabel('Субтитри (необов’язково)').setInputFiles({ name: 'clip.srt', mimeType: 'application/x-subrip', buffer: Buffer.from(srt) });
    await page.getByRole('button', { name: 'Надіслати відео' }).click();
    await page.getByRole('heading', { name: 'Дякуємо — ваше відео отримано' }).waitFor();
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    const id = /\/s\/([a-f0-9]{24})#/.exec(link)![1]!;
    expect(requests.filter((r) => !r.startsWith('POST /api/qr'))).toEqual(['POST /tus', 'PUT /tus/<id>/subtitles', 'PATCH /tus/<id>']);
    const submission = await waitUntil(async () => {
      const doc = await app.services.db.submissions.findById(id).lean<Submission>();
      return doc && ['in_review', 'rejected', 'failed'].includes(doc.status) ? doc : null;
    }, { timeoutMs: 60_000, what: 'the clip is in review' });
    expect([submission.status, submission.rejection]).toEqual(['in_review', null]);
    expect(submission.subtitles).toMatchObject({ key: `originals/${id}/subtitles`, bytes: Buffer.byteLength(srt) });
    expect(Object.keys(submission.outputs)).toEqual(expect.arrayContaining(['captionedPreview', 'captionsVtt', 'captionsSrt']));
    const vtt = await app.services.storage.download(submission.outputs.captionsVtt!.key);
    let text = '';
    for await (const chunk of vtt) text += String(chunk);
    expect(text).toContain('Солідарність з Мінська');
    await context.close();
  }, 120_000);

  test("when a contributor records with the browser's (fake) camera and microphone, previews and sends it, then the recording goes through the pipeline to in_review", async () => {
    const { context, page } = await chrome.newPage({ locale: 'ru-RU' });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.locator('form[data-ready]').waitFor();
    await fillForm(page, { organisation: 'Ваш профсоюз или организация', country: 'Страна', title: 'Название вашего обращения' });
    await page.getByRole('button', { name: 'Записать камерой' }).click();
    await page.getByText(/Идёт запись… 2 с/).waitFor();
    await chrome.shoot(page, '09-recording-ru');
    await page.getByRole('button', { name: 'Остановить запись' }).click();
    await page.getByRole('button', { name: 'Записать снова' }).waitFor();
    await page.locator('#preview:not([hidden])').waitFor();
    await page.getByRole('button', { name: 'Отправить видео' }).click();
    await page.getByRole('heading', { name: 'Спасибо — ваше видео получено' }).waitFor();
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    const id = /\/s\/([a-f0-9]{24})#/.exec(link)![1]!;
    const submission = await waitUntil(async () => {
      const doc = await app.services.db.submissions.findById(id).lean<Submission>();
      return doc && ['in_review', 'rejected', 'failed'].includes(doc.status) ? doc : null;
    }, { timeoutMs: 60_000, what: 'the recording is in review' });
    expect([submission.status, submission.rejection]).toEqual(['in_review', null]);
    expect(submission.media?.durationSeconds).toBeGreaterThan(1);
    expect(submission.media?.video).not.toBeNull();
    expect(submission.media?.audio).not.toBeNull();
    await context.close();
  }, 120_000);
  test('when the database goes away as the clip\'s last byte arrives, then the page shows no receipt while the server answers 503 (then 423 to its HEADs), and shows it once the database is back and the one submission exists', async () => {
    const { context, page } = await chrome.newPage({ locale: 'be-BY' });
    await page.goto(`${app.baseUrl}/c/demo`);
    await page.locator('form[data-ready]').waitFor();
    await fillForm(page, { organisation: 'Ваш прафсаюз або арганізацыя', country: 'Краіна', title: 'Назва вашага звароту' });
    await page.getByLabel('Відэафайл').setInputFiles(clip);
    await page.locator('#preview:not([hidden])').waitFor();
    // The upload is created with the database up; it goes away just before the clip's bytes are sent.
    const before = await app.services.db.submissions.countDocuments();
    let away = false;
    await page.route('**/tus/*', async (route) => {
      if (route.request().method() === 'PATCH' && !away) {
        away = true;
        await app.services.db.connection.close();
      }
      await route.continue();
    });
    const refusedPatch = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 503);
    const refusedHead = page.waitForResponse((r) => r.request().method() === 'HEAD' && r.status() === 423);
    await page.getByRole('button', { name: 'Адправіць відэа' }).click();
    const id = /\/tus\/([a-f0-9]{24})$/.exec((await refusedPatch).url())![1]!;
    await refusedHead;
    expect(await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).isVisible()).toBe(false);
    await chrome.shoot(page, '05-finish-waiting-be');

    await app.services.db.connection.openUri(app.config.mongo.url);
    await page.getByRole('heading', { name: 'Дзякуй — ваша відэа атрымана' }).waitFor({ timeout: 30_000 });
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    expect(link).toMatch(new RegExp(`/s/${id}#`));
    expect(await app.services.db.submissions.countDocuments({ _id: id })).toBe(1);
    // No second upload was started (tus-js-client does that when a HEAD fails other than with 423).
    expect(await app.services.db.submissions.countDocuments()).toBe(before + 1);
    await context.close();
  }, 120_000);
});
