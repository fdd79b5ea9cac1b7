import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHECKLIST } from '../../server/services/review.service';
import type { Submission } from '../../shared/submissions/submission.model';
import type { FaceDetector } from '../../worker/faces/face-detector';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { faceFixtures } from '../helpers/face-fixtures';
import { createSecondDetector } from '../helpers/face-oracle';
import { decodeFrames, facesIn } from '../helpers/protection-checks';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, signedInStaffPage } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { cleanWorkDir, ownWorkDir, workerProcesses } from '../helpers/worker-processes';
import { waitUntil } from '../helpers/wait-until';

/**
 * Issue 15's "done when", in real Chromium against a real worker process (the built one: its face detector on
 * worker threads): a contributor on a phone asks to hide their face; the clip is in review once its protected
 * preview is drawn and its protected master follows; two moderators confirm no face is recognisable and approve;
 * the worker releases it; the social team downloads every file of it from the gallery, and the second detector
 * finds no face in any of them. Nothing unprotected of it is left in S3.
 */
describe('a protected clip from the campaign page to the gallery', () => {
  let app: TestApp;
  let contrib: ContribBrowser;
  let browser: Browser;
  let second: FaceDetector;
  let downloads: string;
  const clock = testClock();
  const workDir = ownWorkDir();
  const workers = workerProcesses(() => app);
  const problems: string[] = [];
  const load = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', WORK_DIR: workDir, FACE_DETECT_THREADS: '2' }, clock.now);
    await seedDemoCampaign(app.deps);
    [contrib, browser, second] = await Promise.all([launchContribBrowser(app.baseUrl), chromium.launch({ executablePath: CHROMIUM }), createSecondDetector()]);
    downloads = await mkdtemp(join(tmpdir(), 'protected-journey-'));
    workers.start();
  }, 120_000);

  afterAll(async () => {
    await workers.stopAll();
    await cleanWorkDir(workDir);
    await Promise.all([contrib?.close(), browser?.close(), second?.close()]);
    await app?.close();
    await rm(downloads, { recursive: true, force: true });
  });

  async function staffPage(role: 'moderator' | 'social', email: string): Promise<{ context: BrowserContext; page: Page }> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, role, { email, campaigns: ['demo'] }));
    return signedInStaffPage(browser, app.baseUrl, client.session()!, problems, { acceptDownloads: true });
  }

  async function approveAsModerator(page: Page, id: string): Promise<void> {
    await page.goto(`${app.baseUrl}/staff/review/${id}`);
    await page.getByTestId('protection').getByText('Faces hidden under solid boxes').waitFor();
    // If the protected master is still being drawn, the page says so, and says when it is ready.
    if (await page.getByTestId('protection-not-ready').isVisible()) {
      await page.getByTestId('protection-not-ready').getByText('The protected version is ready: you can approve the clip.').waitFor({ timeout: 120_000 });
    }
    await page.getByRole('button', { name: 'Claim this clip' }).click();
    for (const item of CHECKLIST) {
      const group = page.locator('.check', { has: page.locator(`input[name="${item}"]`) });
      await group.getByLabel(item === 'faces' || item === 'protection' ? 'present' : 'none seen').check();
    }
    await page.getByLabel('I watched the protected preview to the end', { exact: false }).check();
    await page.getByRole('button', { name: 'Approve' }).click();
  }

  test('a contributor asks to hide their face; two moderators approve it; every file the social team downloads shows no face', async () => {
    const fixture = (await faceFixtures()).find((f) => f.name === 'pan-zoom-25')!;

    // The contributor, on a 360 px phone, in English.
    const { context: phone, page } = await contrib.newPage({ locale: 'en-GB' });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${app.baseUrl}/c/demo?lang=en`);
    await page.locator('form[data-ready]').waitFor();
    await page.getByLabel('Your trade union or organisation').fill('Free Trade Union of Belarus');
    await page.getByLabel('Country').fill('by');
    await page.getByLabel('A title for your message').fill('Freedom for trade unionists');
    for (const box of await page.locator('input[name=consent-statement][required]').all()) await box.check();
    await page.getByLabel('Hide my face').check();
    await page.getByLabel('Video file').setInputFiles(fixture.path);
    await page.getByRole('button', { name: 'Send the clip' }).click();
    await page.getByRole('heading', { name: 'Thank you — your clip has arrived' }).waitFor();
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    const id = /\/s\/([a-f0-9]{24})#/.exec(link)![1]!;
    await phone.close();

    // The worker: in review with the protected preview; the protected master follows by a job of its own.
    const reviewing = await waitUntil(async () => {
      const doc = await load(id);
      return ['in_review', 'rejected', 'failed'].includes(doc.status) ? doc : null;
    }, { timeoutMs: 180_000, what: 'the protected clip in review' });
    expect(reviewing.status).toBe('in_review');
    expect(reviewing.protection).toMatchObject({ face: true, voice: false, card: false, by: 'contributor' });
    expect(await facesIn(second, await fetchObject(reviewing.outputs.preview!.key, 'preview.mp4'))).toEqual([]);

    const { page: ana } = await staffPage('moderator', 'ana@example.org');
    await approveAsModerator(ana, id);
    await ana.getByText('Your approval is recorded. The clip is sensitive: a second moderator must approve it too.').waitFor();
    const { page: ben } = await staffPage('moderator', 'ben@example.org');
    await approveAsModerator(ben, id);
    await ben.getByText('The clip was approved.').waitFor();

    // The worker releases it from the protected master; the unprotected master and the original are deleted.
    const released = await waitUntil(async () => {
      const doc = await load(id);
      return doc.status === 'released' ? doc : null;
    }, { timeoutMs: 240_000, what: 'the clip released' });
    expect(released.outputs.master).toBeUndefined();
    expect(await app.services.storage.list(`originals/${id}/`)).toEqual([]);

    // The social team: every file of the clip in the gallery, each looked at by the second detector at 2 fps.
    const { page: social } = await staffPage('social', 'social@example.org');
    await social.goto(`${app.baseUrl}/staff/gallery`);
    const item = social.locator(`li.clip[data-clip="${id}"]`);
    await item.waitFor();
    const hrefs = await item.locator('a[data-output]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).getAttribute('href')!));
    expect(hrefs.length).toBeGreaterThanOrEqual(4);
    for (const href of hrefs) {
      const response = await social.request.get(`${app.baseUrl}${href}`);
      expect({ href, status: response.status() }).toEqual({ href, status: 200 });
      const file = join(downloads, `${hrefs.indexOf(href)}-${href.split('/').pop()!.split('?')[0]}`);
      await writeFile(file, await response.body());
      if (/poster|\.jpg/.test(href) || response.headers()['content-type']?.startsWith('image/')) {
        const frame = await decodeFrames(file, 640);
        expect({ href, faces: await second.detect({ data: frame.frames[0]!, width: frame.width, height: frame.height }) }).toEqual({ href, faces: [] });
      } else {
        expect({ href, faces: await facesIn(second, file) }).toEqual({ href, faces: [] });
      }
    }
    expect(problems).toEqual([]);
  }, 600_000);

  async function fetchObject(key: string, name: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await app.services.storage.download(key)) chunks.push(chunk as Buffer);
    const path = join(downloads, name);
    await writeFile(path, Buffer.concat(chunks));
    return path;
  }
});
