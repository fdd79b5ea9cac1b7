import { chromium, type Browser, type Page } from 'playwright-core';
import type { FaceTrack } from '../../shared/protection/face-track';
import { protectJobId } from '../../shared/queue/queue';
import { clipInReview } from '../helpers/review-fixtures';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { CHROMIUM, underProductionCsp } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The face-mask editor in real Chromium, under the production CSP, at 360 and 1280 px: a moderator sees the
 * detector's mask outlined over the protected preview, steps a frame with the keyboard, draws a box over a face it
 * missed by dragging, removes a mask, and saves; the track gets a new version with exactly those masks, the
 * protected preview is queued to be drawn again, and the review page says it is being drawn.
 */
describe('the face-mask editor in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('faces');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function moderatorPage(width: number): Promise<Page> {
    const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator'));
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    await context.addCookies([{ name: 'staff', value: client.session()!, url: app.baseUrl }]);
    const page = await context.newPage();
    await underProductionCsp(page);
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  /** A protected clip in review (a real 2 s MP4 as its preview and clean master) with two detector masks. */
  async function protectedClip(): Promise<string> {
    const { id } = await clipInReview(app, { protection: true });
    const db = app.services.db;
    const box = (x: number) => ({ x, y: 0.2, w: 0.15, h: 0.25 });
    await db.faceTracks.replaceOne({ _id: id }, {
      detector: { name: 'human-blazeface', version: '3.3.6', settings: {} },
      settings: { detectFps: 5, frameFps: 25, margin: 0.5, holdSeconds: 0.5, maxGapSeconds: 0.6 },
      width: 320, height: 240, durationSeconds: 2, version: 1, renderedVersion: 1, framesAnalysed: 10, framesWithFaces: 10,
      masks: [
        { id: 'aaaaaaaaaaaa', source: 'detector', start: 0, end: 2, keys: [{ t: 0, box: box(0.1) }, { t: 2, box: box(0.1) }] },
        { id: 'bbbbbbbbbbbb', source: 'detector', start: 0, end: 2, keys: [{ t: 0, box: box(0.6) }, { t: 2, box: box(0.6) }] },
      ],
    }, { upsert: true });
    return id;
  }

  test.each([1280, 360])('at %i px, a moderator draws a box over a missed face, removes a mask and saves a new version', async (width) => {
    const id = await protectedClip();
    const page = await moderatorPage(width);
    await page.goto(`${app.baseUrl}/staff/review/${id}`);
    await page.getByTestId('protection').getByText('Faces hidden under solid boxes').waitFor();
    await page.getByRole('link', { name: 'Check the face masks frame by frame' }).click();
    await page.getByRole('heading', { name: 'Face masks' }).waitFor();
    const video = page.locator('#faces-stage video');
    await video.evaluate((v: HTMLVideoElement) => new Promise((resolve) => (v.readyState >= 1 ? resolve(null) : v.addEventListener('loadedmetadata', () => resolve(null), { once: true }))));
    // Both detector masks are outlined over the picture.
    await page.locator('#faces-overlay .mask.detector').nth(1).waitFor();
    expect(await page.locator('#faces-overlay .mask.detector').count()).toBe(2);
    // A frame on with the keyboard.
    await page.locator('body').press('ArrowRight');
    await page.waitForFunction(() => (document.querySelector('#faces-stage video') as HTMLVideoElement).currentTime > 0);
    // The outlines lie exactly over the picture (the player has no letterbox), so their percentages are the picture's.
    const stage = (await page.locator('#faces-overlay').boundingBox())!;
    const picture = (await video.boundingBox())!;
    expect([Math.round(stage.width), Math.round(stage.height)]).toEqual([Math.round(picture.width), Math.round(picture.height)]);
    expect(picture.width / picture.height).toBeCloseTo(320 / 240, 1);
    // Drag a box over the lower right of the picture.
    await page.mouse.move(stage.x + stage.width * 0.55, stage.y + stage.height * 0.6);
    await page.mouse.down();
    await page.mouse.move(stage.x + stage.width * 0.8, stage.y + stage.height * 0.9, { steps: 5 });
    await page.mouse.up();
    await page.locator('#faces-overlay .mask.moderator').waitFor();
    const row = page.locator('#moderator-boxes tr[data-box]').first();
    expect(Number(await row.locator('input[data-field=x]').inputValue())).toBeCloseTo(55, -1);
    expect(Number(await row.locator('input[data-field=w]').inputValue())).toBeCloseTo(25, -1);
    // The second detector mask covers no face: remove it.
    await page.getByLabel('Keep the mask from 0.00 s to 2.00 s').nth(1).uncheck();
    expect(await page.locator('#faces-overlay .mask.detector').count()).toBe(1);
    // No horizontal overflow at this width.
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth)).toBe(true);
    await shoot(page, `editor-${width}`);
    await page.getByRole('button', { name: 'Save the masks' }).click();
    await page.getByTestId('faces-saved').waitFor();
    await page.getByTestId('faces-rendering').waitFor();

    const track = (await app.services.db.faceTracks.findById(id).lean<FaceTrack>())!;
    expect(track.version).toBe(2);
    expect(track.masks.map((m) => [m.source, m.id === 'aaaaaaaaaaaa'])).toEqual([['detector', true], ['moderator', false]]);
    const added = track.masks[1]!;
    expect(added.keys[0]!.box.x).toBeCloseTo(0.55, 1);
    expect(added.end).toBeGreaterThan(added.start);
    expect(await app.services.queue.jobState(protectJobId(id, 2))).toBe('waiting');
    const audit = await app.services.db.auditEntries.find({ 'target.id': id, action: 'faces_edited' }).lean();
    expect(audit).toHaveLength(1);
    // Approval waits for the new preview.
    await page.getByRole('link', { name: 'Back to the clip' }).click();
    await page.getByTestId('protection-rendering').waitFor();
    expect(problems).toEqual([]);
  });
});
