import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { releaseJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { sourceClip } from '../helpers/fingerprint-fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { cleanWorkDir, ownWorkDir, workerProcesses } from '../helpers/worker-processes';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);

/**
 * The "done when", in Chromium with a real worker process: a journalist on a phone (360 px) checks the
 * social team's 9:16 render — "Signed by" the campaign — and then a copy a hostile editor re-encoded and cut:
 * still recognised, with the cut on the timeline. The answer page follows the check by itself (it reloads until
 * the worker has answered). Both pages pass axe and load nothing from other sites.
 */
describe('the verification page in a real browser', () => {
  let app: TestApp;
  let browser: ContribBrowser;
  let released: Submission;
  const workDir = ownWorkDir();
  const workers = workerProcesses(() => app);

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    const deps = workerDeps(app);
    const id = await submitFile(app, await sourceClip('C'));
    await runWorker(deps, id);
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const done = (await deps.db.submissions.findById(id).lean<Submission>())!;
    released = { ...done, outputs: done.release!.outputs } as Submission;
    browser = await launchContribBrowser(app.baseUrl);
    workers.start({ WORK_DIR: workDir });
  }, 300_000);

  afterAll(async () => {
    await workers.stopAll();
    await cleanWorkDir(workDir);
    await browser?.close();
    await app?.close();
  });

  test('a journalist on a phone checks the downloaded 9:16 render, then a re-encoded and cut copy: signed, then recognised with the cut shown', async () => {
    const deps = workerDeps(app);
    const vertical = await downloadOutput(deps, released, 'vertical');
    const copy = join(await mkdtemp(join(tmpdir(), 'verify-e2e-')), 'forwarded.mp4');
    await run('ffmpeg', [
      '-v', 'error', '-i', await downloadOutput(deps, released, 'source'),
      '-filter_complex', '[0:v]trim=0:9,setpts=PTS-STARTPTS[v1];[0:v]trim=14,setpts=PTS-STARTPTS[v2];[0:a]atrim=0:9,asetpts=PTS-STARTPTS[a1];[0:a]atrim=14,asetpts=PTS-STARTPTS[a2];[v1][a1][v2][a2]concat=n=2:v=1:a=1[v][a];[v]scale=480:270[vs]',
      '-map', '[vs]', '-map', '[a]', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '150k', '-c:a', 'aac', '-b:a', '48k', '-map_metadata', '-1', copy,
    ]);
    const { context, page } = await browser.newPage({ locale: 'en-GB' });
    await page.setViewportSize({ width: 360, height: 780 });

    await page.goto(`${app.baseUrl}/verify?lang=en`);
    expect(await browser.axe(page)).toEqual([]);
    await browser.shoot(page, 'verify-10-form-360');
    await page.getByLabel('The video or photo to check').setInputFiles(vertical);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForURL(/\/verify\/[A-Za-z0-9_-]{22}/);
    // The page reloads itself until the worker process has answered.
    await page.locator('[data-testid="verify-result"][data-status="done"]').waitFor({ timeout: 120_000 });
    const campaign = (await app.services.db.campaigns.findById(released.campaignId).lean())!.name;
    expect(await page.getByTestId('verify-verdict').textContent()).toBe('Signed by Test Federation of Unions and unchanged.');
    expect(await page.locator('main').textContent()).toContain(campaign);
    expect(await browser.axe(page)).toEqual([]);
    await browser.shoot(page, 'verify-11-signed-360');

    await page.getByRole('link', { name: 'Check another file' }).click();
    await page.getByLabel('The video or photo to check').setInputFiles(copy);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.locator('[data-testid="verify-result"][data-status="done"]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('verify-verdict').textContent()).toMatch(/^Matches .+’s release of \d{4}-\d{2}-\d{2}\.$/);
    const cuts = await page.locator('[data-testid="timeline-picture"] li[data-kind="cut"]').evaluateAll((items) => items.map((li) => [Number(li.getAttribute('data-from')), Number(li.getAttribute('data-to'))]));
    expect(cuts).toHaveLength(1);
    expect(Math.abs(cuts[0]![0]! - 9)).toBeLessThanOrEqual(1);
    expect(Math.abs(cuts[0]![1]! - 14)).toBeLessThanOrEqual(1);
    expect(await page.locator('[data-testid="timeline-picture"] svg rect.tl-cut').count()).toBe(1);
    // At 360 px nothing is wider than the phone.
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await browser.axe(page)).toEqual([]);
    await browser.shoot(page, 'verify-12-matched-360');
    await page.setViewportSize({ width: 1280, height: 800 });
    await browser.shoot(page, 'verify-13-matched-1280');
    expect(browser.problems).toEqual([]);
    await context.close();
  }, 300_000);
});
