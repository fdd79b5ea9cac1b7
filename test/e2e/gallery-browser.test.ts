import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { releaseJobId, takedownJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { createFeedToken } from '../../server/services/distribution.service';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import type { WorkerDeps } from '../../worker/deps';
import { FIXTURES } from '../helpers/fixtures';
import { xmlProblems } from '../helpers/xml-well-formed';
import { makeStaff, PASSWORD, testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { CHROMIUM } from '../helpers/staff-browser';

const run = promisify(execFile);
const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');

/**
 * In real Chromium: a social-team member filters the gallery, downloads the 9:16 Belarusian-captioned
 * file and a ZIP of three clips, copies a post text; a withdrawn clip then leaves the gallery and both
 * feeds, and its objects are gone. Screenshots at 360 and 1280 px.
 */
describe('the gallery in a real browser', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let browser: Browser;
  let context: BrowserContext;
  let downloads: string;
  let shoot: Shoot;
  const clock = testClock();
  const clips: string[] = [];
  const problems: string[] = [];

  async function released(subtitles?: Buffer): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.rotated!(), { subtitles, language: 'be' })))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    return id;
  }

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    clips.push(await released(SRT), await released(), await released());
    await makeStaff(app, clock.now, 'social', { campaigns: ['demo'], email: 'social@example.org' });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, permissions: ['clipboard-read', 'clipboard-write'] });
    downloads = await mkdtemp(join(tmpdir(), 'gallery-downloads-'));
    shoot = await screenshotter('gallery');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await rm(downloads, { recursive: true, force: true });
  });


  test('a social-team member filters, downloads the 9:16 Belarusian file and a ZIP of three clips, and copies a post text; a withdrawn clip is gone everywhere', async () => {
    const page = await context.newPage();
    // Failed loads are judged by their address (Chromium asks for /favicon.ico, which there is none of); any other error (a CSP violation) is a problem.
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    page.on('response', (response) => response.status() >= 400 && !response.url().endsWith('/favicon.ico') && problems.push(`${response.url()}: ${response.status()}`));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${app.baseUrl}/staff/login`);
    await page.getByLabel('E-mail address').fill('social@example.org');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Gallery' }).click();
    await page.getByRole('heading', { name: 'Released clips' }).waitFor();
    expect(await page.locator('li.clip').count()).toBe(3);
    // The posters came through the server, under the page's CSP.
    await page.locator('li.clip img').first().evaluate((img: HTMLImageElement) => (img.complete ? null : new Promise((r) => (img.onload = r))));
    expect(await page.locator('li.clip img').first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    await shoot(page, '10-gallery');

    // Filter: Belarusian captions, vertical.
    await page.getByLabel('Language').fill('be');
    await page.getByLabel('Shape').selectOption('vertical');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/language=be/);
    // Every clip is in Belarusian (spoken); the captioned one offers the captioned 9:16 file.
    const captioned = page.locator(`li.clip[data-clip="${clips[0]}"]`);
    const downloadStarted = page.waitForEvent('download');
    await captioned.getByRole('link', { name: 'Vertical 9:16, captions be' }).click();
    const download = await downloadStarted;
    expect(download.suggestedFilename()).toBe(`solidarity-demo-${clips[0]}-9x16-be.mp4`);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
    expect(stdout.trim()).toBe('360,640');
    await shoot(page, '11-gallery-filtered');

    // A ZIP of three clips.
    await page.goto(`${app.baseUrl}/staff/gallery?shape=vertical`);
    for (const id of clips) await page.locator(`input[name="clip"][value="${id}"]`).check();
    const zipStarted = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download the ticked clips as one ZIP' }).click();
    const zip = await zipStarted;
    expect(zip.suggestedFilename()).toMatch(/^solidarity-clips-\d{4}-\d{2}-\d{2}\.zip$/);
    const zipFile = join(downloads, 'three.zip');
    await zip.saveAs(zipFile);
    await run('unzip', ['-tq', zipFile]);
    const names = (await run('unzip', ['-Z1', zipFile])).stdout.trim().split('\n');
    expect(names.filter((n) => n.endsWith('-9x16.mp4')).sort()).toEqual(clips.map((id) => `solidarity-demo-${id}-9x16.mp4`).sort());

    // Copy a post text.
    const clip = page.locator(`li.clip[data-clip="${clips[1]}"]`);
    await clip.getByText('Suggested post text').click();
    await clip.getByRole('button', { name: 'Copy the en text' }).click();
    await clip.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('Test\n\n#TradeUnionismIsNotExtremism #Salidarnasc');
    await shoot(page, '12-gallery-post-text');

    // Withdrawn: gone from the gallery and both feeds at once; objects gone after the takedown.
    const { token } = await createFeedToken(app.deps, { campaign: 'demo', team: 'Social', use: 'social', createdBy: 'admin' }, new Date());
    await withdrawSubmission(app.deps, clips[2]!, { actor: { id: null, email: null }, by: 'contributor' });
    await page.goto(`${app.baseUrl}/staff/gallery`);
    expect(await page.locator('li.clip').count()).toBe(2);
    expect(await page.locator(`li.clip[data-clip="${clips[2]}"]`).count()).toBe(0);
    const jsonFeed = await page.goto(`${app.baseUrl}/api/feeds/${token}/releases.json`);
    expect(await jsonFeed!.text()).not.toContain(clips[2]);
    const atomFeed = await page.goto(`${app.baseUrl}/api/feeds/${token}/releases.atom`);
    const atom = await atomFeed!.text();
    // The feed as a feed reader's XML parser reads it: Chromium's, and the tests' strict check.
    expect(await page.evaluate((text) => new DOMParser().parseFromString(text, 'application/xml').getElementsByTagName('parsererror').length, atom)).toBe(0);
    expect(xmlProblems(atom)).toEqual([]);
    expect(atom).toContain(clips[0]);
    expect(atom).not.toContain(clips[2]);
    expect(await deps.queue.jobState(takedownJobId(clips[2]!))).toBe('waiting');
    await takedownSubmission(deps, { id: takedownJobId(clips[2]!), name: 'takedown-submission', payload: { submissionId: clips[2]! }, attempt: 1, maxAttempts: 12, reportProgress: async () => undefined });
    expect(await app.services.storage.list(`releases/${clips[2]}/`)).toEqual([]);
    const withdrawn = (await deps.db.submissions.findById(clips[2]).lean<Submission>())!;
    expect((await app.services.storage.list(`outputs/${clips[2]}/`)).filter((key) => key.endsWith('/master.mp4'))).toEqual([]);
    expect(withdrawn.takenDownAt).not.toBeNull();

    expect(problems).toEqual([]);
  });
});
