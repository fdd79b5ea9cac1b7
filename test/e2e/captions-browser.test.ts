import { chromium, type Browser, type Page } from 'playwright-core';
import type { CaptionVersion } from '../../shared/captions/caption-versions';
import type { Submission } from '../../shared/submissions/submission.model';
import { captionPreview } from '../../worker/handlers/caption-preview.handler';
import { clipInReview } from '../helpers/review-fixtures';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, underProductionCsp } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { workerDeps } from '../helpers/worker-env';


/**
 * In real Chromium, under the production CSP: a moderator claims a clip, fixes a typo in its Belarusian
 * caption, adds an English translation by typing it over the Belarusian cues, and watches the preview made
 * again with the English captions. Screenshots at 360 and 1280 px (SCREENSHOTS_DIR/captions/ when set).
 */
describe('captions in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('captions');
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
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  test('a moderator fixes a typo in a cue and adds an English translation by typing it', async () => {
    const { id } = await clipInReview(app, { language: 'be', title: 'Салідарнасць' });
    // The contributor's caption has a typo.
    const sent = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    await app.services.storage.upload(sent.outputs.captionsVtt!.key, Buffer.from('WEBVTT\n\n00:00.000 --> 00:02.000\nСалідарнасьць\n'), 'text/vtt; charset=utf-8');
    const page = await moderator('ana@example.org');

    await page.goto(`${app.baseUrl}/staff/review/${id}`);
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    await page.getByText('You are reviewing this clip').waitFor();
    await page.getByRole('link', { name: 'Edit the captions, add a language' }).click();
    await page.getByRole('heading', { name: 'The be captions as the contributor sent them' }).waitFor();
    const text = page.getByLabel('Cue 1: text');
    expect(await text.inputValue()).toBe('Салідарнасьць');
    await shoot(page, '20-captions-as-sent');

    // The typo fixed.
    await text.fill('Салідарнасць');
    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByText('Saved as version 2 of the be captions.').waitFor();
    expect(await page.locator('[data-testid="versions"] li').allTextContents()).toEqual([
      expect.stringContaining('as sent by the contributor'),
      expect.stringContaining('edited · ana@example.org'),
    ]);

    // An end before its start is refused, naming the cue; what was typed stays.
    await page.getByLabel('Cue 1: end').fill('00:00:00.000');
    await page.getByRole('button', { name: 'Save as version 3' }).click();
    await page.getByText('Cue 1: the end (00:00:00.000) must come after the start (00:00:00.000).').waitFor();
    expect(await page.getByLabel('Cue 1: end').inputValue()).toBe('00:00:00.000');
    await shoot(page, '21-captions-refused');

    // English, typed over the Belarusian cues.
    await page.goto(`${app.baseUrl}/staff/review/${id}/captions`);
    await page.getByLabel('Language code (en, be, pt-br)').fill('en');
    await page.getByLabel('Translate from').selectOption('be');
    await page.getByRole('button', { name: 'Type a translation' }).click();
    await page.getByRole('heading', { name: 'New language en, translated from be' }).waitFor();
    await page.getByText('Салідарнасць', { exact: true }).waitFor(); // the text to translate, beside the field
    await page.getByLabel('Cue 1: text').fill('Solidarity');
    await shoot(page, '22-captions-translating');
    await page.getByRole('button', { name: 'Save as version 1' }).click();
    await page.getByText('Saved as version 1 of the en captions.').waitFor();
    await page.getByText('The preview with these captions is being made').waitFor();

    // The worker makes the captioned previews (the jobs the saves queued); the review page offers them.
    const versions = await app.services.db.captionVersions.find({ submissionId: id }).lean<CaptionVersion[]>();
    expect(versions.map((v) => [v.language, v.version, v.cues[0]!.text]).sort()).toEqual([['be', 1, 'Салідарнасьць'], ['be', 2, 'Салідарнасць'], ['en', 1, 'Solidarity']]);
    const deps = workerDeps(app);
    for (const v of versions) {
      expect(await deps.queue.jobState(`caption-preview-${v._id.toHexString()}`)).toBe(v.version === 1 && v.language === 'be' ? null : 'waiting');
      await captionPreview(deps, { id: `caption-preview-${v._id.toHexString()}`, name: 'caption-preview', payload: { captionVersionId: v._id.toHexString() }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    }
    await page.goto(`${app.baseUrl}/staff/review/${id}`);
    const en = page.locator('[data-testid="caption-languages"] li[data-language="en"]');
    expect(await en.textContent()).toContain('en: version 1');
    await en.getByRole('link', { name: 'watch with these captions' }).click();
    await page.waitForURL(/captions=en/);
    const video = page.getByTestId('preview');
    const english = versions.find((v) => v.language === 'en')!;
    expect(await video.getAttribute('src')).toBe(`/staff/review/${id}/captions/${english._id.toHexString()}/preview`);
    await video.evaluate((v: HTMLVideoElement) => (v.readyState >= 1 ? null : new Promise((resolve, reject) => ((v.onloadedmetadata = resolve), (v.onerror = reject)))));
    expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(1.5);
    await shoot(page, '23-review-english-captions');

    // Still claimed by the moderator, still in review.
    await page.getByText('You are reviewing this clip').waitFor();
    expect((await app.services.db.submissions.findById(id).lean<Submission>())!.status).toBe('in_review');
    expect(problems).toEqual([]);
  });
});
