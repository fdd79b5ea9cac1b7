import type { Express } from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp } from '../../server/app';
import { createUnionLink } from '../../server/services/campaign.service';
import { createInvite } from '../../server/services/staff.service';
import { approve } from '../../shared/submissions/moderation';
import { finishRelease, startRelease } from '../../shared/submissions/release';
import { clipInReview } from '../helpers/review-fixtures';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { loginAs, makeStaff, PASSWORD, testClock } from '../helpers/staff-client';
import { CHROMIUM } from '../helpers/staff-browser';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { updateCampaign } from '../../server/services/campaign-admin.service';
import { CLI_ACTOR } from '../../server/services/campaign.service';
import { approveReport } from '../../server/services/report-review.service';
import { phonePhoto, quadrantsRaw } from '../helpers/photos';
import { ACTION_DAYS, clearChecklist, reportFields, sendReport } from '../helpers/reports';

/**
 * Every page a person reads — the contributors' and the staff's — filled with hostile contributor and
 * campaign text (long unbroken words, a right-to-left override, emoji), at 360 px and at 1280 px: none may
 * be wider than the window (document.scrollingElement.scrollWidth > innerWidth). The pages are found by
 * walking the app's router, so a new page must be added here (or named as not a page).
 */

/** GET routes that are not pages a person reads: files, media, feeds, JSON, redirects. */
const NOT_PAGES = new Set([
  '/api/campaigns/:slug',
  '/api/openapi.json',
  '/api/feeds/:token/releases.atom',
  '/api/feeds/:token/releases.json',
  '/api/feeds/:token/releases/files/:id/:output',
  '/api/submissions/:id/status',
  '/api/verify/:id',
  '/verify/root.pem',
  '/c/:slug/logo/:id',
  '/c/:slug/theme.css',
  '/c-assets/:name',
  '/healthz',
  '/metrics',
  '/readyz',
  '/staff/admin/metrics',
  '/staff/api/campaigns',
  '/staff/api/campaigns/:slug',
  '/staff/api/gallery',
  '/staff/api/gallery/:id/files/:output',
  '/staff/assets/:name',
  '/staff/gallery/:id/files/:output',
  '/staff/gallery/:id/poster/:shape',
  '/staff/gallery/zip',
  '/staff/queue/next',
  '/staff/review/:id/captions/:version/preview',
  '/staff/review/:id/media/:output',
  '/staff/review/:id/protection-state', // JSON for the review page's notice
  '/staff/review/:id/original',
  // Action reports (issue 18): JSON, photos, exports.
  '/api/reports/:id/status',
  '/staff/review/reports/:id/photos/:photoId',
  '/staff/reports/:slug/export.csv',
  '/staff/reports/:slug/export.json',
  '/staff/reports/:slug/photos/:id/:photoId',
  '/p/:slug/actions/photos/:id/:photoId',
]);

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function getRoutes(stack: Layer[], out: string[] = []): string[] {
  for (const layer of stack) {
    if (layer.route?.methods.get) out.push(layer.route.path);
    else if (layer.handle?.stack) getRoutes(layer.handle.stack, out);
  }
  return out;
}

// Hostile text: one unbroken word much wider than a phone, emoji, and a right-to-left override inside.
const RLO = '\u202E';
// (An emoji is a line-break opportunity, so the long run of letters comes first, unbroken.)
const word = (length: number) => `${'Салідарнасць'.repeat(Math.ceil(length / 12))}`.slice(0, length - 12) + `${RLO}ᏚᎾᏞᎠ✊🏽✊🏽`;
const LONG_EMAIL = `${'a'.repeat(60)}@${'b'.repeat(60)}.example.org`;

describe('no page is wider than the window, whatever contributors and campaigns write', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('overflow');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  test('when every page shows hostile text, then none overflows at 360 px or 1280 px', async () => {
    const db = app.services.db;
    await seedDemoCampaign(app.deps);
    // A campaign whose name, titles and prompts are hostile too (the selector in the gallery and the queue lists names).
    await seedDemoCampaign(app.deps, {
      slug: 'hostile',
      name: word(200),
      titles: { be: word(200), ru: word(200), uk: word(200), en: word(200) },
      prompts: { be: word(2000), ru: word(600), uk: word(600), en: word(600) },
      hashtags: [`#${'Салідарнасць'.repeat(8)}`],
    } as never);
    const link = await createUnionLink(db, 'hostile', { organisation: word(200), country: 'BY' }, new Date());
    const hostileClip = { campaign: 'hostile', organisation: word(200), title: word(140) };
    const inReview = await clipInReview(app, hostileClip);
    const released = await clipInReview(app, hostileClip);
    for (const { id } of [inReview, released]) {
      await db.submissions.updateOne({ _id: id }, { $set: { message: word(2000), contactEmail: LONG_EMAIL } });
    }
    // The review page's protection section and the face-mask editor, with a mask of each kind.
    await db.submissions.updateOne({ _id: inReview.id }, { $set: { protection: { face: true, voice: true, card: false, by: 'contributor', at: new Date() }, 'outputs.master': (await db.submissions.findById(inReview.id).lean())!.outputs.preview } });
    const box = { x: 0.1, y: 0.1, w: 0.2, h: 0.3 };
    await db.faceTracks.create({
      _id: inReview.id, detector: { name: 'human-blazeface', version: '3.3.6', settings: {} }, settings: { detectFps: 5, frameFps: 25, margin: 0.3, holdSeconds: 0.25, maxGapSeconds: 0.6 },
      width: 320, height: 240, durationSeconds: 2, version: 2, renderedVersion: 1,
      masks: [{ id: 'a1b2c3d4e5f6', source: 'detector', start: 0, end: 2, keys: [{ t: 0.5, box }] }, { id: 'f6e5d4c3b2a1', source: 'moderator', start: 0.5, end: 1.5, keys: [{ t: 0.5, box }, { t: 1.5, box }] }],
    });
    await approve(db.submissions, released.id, { by: LONG_EMAIL });
    const releasing = await startRelease(db.submissions, released.id, { by: 'worker' });
    await finishRelease(db.submissions, releasing!, { outputs: {}, languages: ['be'], uses: ['social', 'web'], credit: true }, { by: 'worker' });

    // Action reports (issue 18): hostile kinds, a hostile report in review and one approved (its credit in the gallery).
    const hostileName = word(80);
    await updateCampaign(db, 'hostile', { actionDays: ACTION_DAYS, actionKinds: [{ id: 'hostile_kind', texts: { be: hostileName, ru: hostileName, uk: hostileName, en: hostileName } }] }, new Date(), CLI_ACTOR);
    const hostileReport = { kind: 'hostile_kind', city: word(100), organisation: word(200), partners: word(500), text: word(2000), consent: { version: 1, language: 'en', statements: ['record', 'publish', 'risk', 'credit'] } };
    const reportPhoto = await phonePhoto(quadrantsRaw(160, 120), 6);
    const reportWaiting = await sendReport(app, reportFields('hostile', hostileReport), [reportPhoto]);
    const reportApproved = await sendReport(app, reportFields('hostile', { ...hostileReport, country: 'ZZ' }), [reportPhoto]);
    const approvedDoc = (await db.reports.findById(reportApproved.id).lean())!;

    const admin = await makeStaff(app, clock.now, 'admin', { email: LONG_EMAIL });
    await approveReport({ db, storage: app.services.storage, logger: app.deps.logger, now: clock.now, claimSeconds: 600 }, { id: admin.user._id.toHexString(), email: admin.email, role: 'admin', campaigns: [] }, reportApproved.id, clearChecklist(approvedDoc.photos.map((p) => p.id)));
    await makeStaff(app, clock.now, 'social', { email: `social-${LONG_EMAIL}`, campaigns: ['hostile'] });
    const { token: inviteToken } = await createInvite(db, app.config.staff, { id: admin.user._id.toHexString(), email: admin.email }, { email: `invited-${LONG_EMAIL}`, role: 'moderator', campaigns: ['hostile'] }, clock.now());
    const session = (await loginAs(app, clock, admin)).session()!;

    // A verification answer naming the hostile campaign and signer, with every kind of stretch on its timelines.
    const segments = [{ from: 0, to: 7.5, kind: 'kept' }, { from: 7.5, to: 12.5, kind: 'cut' }, { from: 12.5, to: 24, kind: 'changed' }];
    await db.verifyChecks.create({
      _id: 'h'.repeat(22), status: 'done', bytes: 1, contentType: 'video/mp4', createdAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000), failure: null,
      answer: { verdict: 'signed_changed', signer: word(200), campaign: word(200), published: '2026-12-07', photo: false, match: { releaseSeconds: 24, copySeconds: 19, picture: segments, sound: segments, foreign: [{ from: 0, to: 3 }] } },
    });

    const pages: Array<{ route: string; url: string; as: 'contributor' | 'admin' | 'login' }> = [
      { route: '/c/:slug', url: '/c/hostile?lang=be', as: 'contributor' },
      { route: '/c/:slug/u/:token', url: `${link.path}?lang=be`, as: 'contributor' },
      { route: '/s/:id', url: `/s/${inReview.id}#${inReview.statusToken}`, as: 'contributor' },
      { route: '/verify', url: `/verify?release=${released.id}&lang=be`, as: 'contributor' },
      { route: '/verify/:id', url: `/verify/${'h'.repeat(22)}?lang=be`, as: 'contributor' },
      { route: '/staff/login', url: '/staff/login', as: 'login' },
      { route: '/staff/invite/:token', url: `/staff/invite/${inviteToken}`, as: 'login' },
      { route: '/staff', url: '/staff', as: 'admin' },
      { route: '/staff/queue', url: '/staff/queue', as: 'admin' },
      { route: '/staff/review/:id', url: `/staff/review/${inReview.id}`, as: 'admin' },
      { route: '/staff/review/:id/captions', url: `/staff/review/${inReview.id}/captions`, as: 'admin' },
      { route: '/staff/review/:id/faces', url: `/staff/review/${inReview.id}/faces`, as: 'admin' },
      { route: '/staff/gallery', url: '/staff/gallery', as: 'admin' },
      { route: '/staff/admin/campaigns', url: '/staff/admin/campaigns', as: 'admin' },
      { route: '/staff/admin/campaigns/:slug', url: '/staff/admin/campaigns/hostile', as: 'admin' },
      { route: '/staff/admin/staff', url: '/staff/admin/staff', as: 'admin' },
      { route: '/staff/admin/audit', url: '/staff/admin/audit', as: 'admin' },
      { route: '/staff/admin/distribution', url: '/staff/admin/distribution', as: 'admin' },
      { route: '/c/:slug/report', url: '/c/hostile/report?lang=be', as: 'contributor' },
      { route: '/c/:slug/u/:token/report', url: `${link.path}/report?lang=be`, as: 'contributor' },
      { route: '/r/:id', url: `/r/${reportWaiting.id}#${reportWaiting.token}`, as: 'contributor' },
      { route: '/p/:slug/actions', url: '/p/hostile/actions?lang=be', as: 'contributor' },
      { route: '/staff/queue/reports', url: '/staff/queue/reports', as: 'admin' },
      { route: '/staff/review/reports/:id', url: `/staff/review/reports/${reportWaiting.id}`, as: 'admin' },
      { route: '/staff/reports', url: '/staff/reports', as: 'admin' },
      { route: '/staff/reports/:slug', url: '/staff/reports/hostile', as: 'admin' },
    ];
    // The two half-way login pages (no contributor text on them, but the same layout) are reached by logging in.
    const halfWay = ['/staff/login/code', '/staff/totp/enrol'];

    // Every page the router has is visited here, or named as not a page.
    const routes = [...new Set(getRoutes((createApp(app.deps) as unknown as Express & { router: { stack: Layer[] } }).router.stack))];
    const unvisited = routes.filter((route) => !NOT_PAGES.has(route) && !halfWay.includes(route) && !pages.some((p) => p.route === route));
    expect(unvisited).toEqual([]);

    const overflows: string[] = [];
    async function measure(page: Page, label: string, width: number): Promise<void> {
      await page.locator('h1').first().waitFor({ timeout: 10_000 }).catch(() => {
        throw new Error(`${label} at ${width} px shows no heading: ${page.url()}`);
      });
      const found = await page.evaluate(() => {
        const scroller = document.scrollingElement!;
        if (scroller.scrollWidth <= window.innerWidth) return null;
        // The widest elements, to say what overflowed.
        const wide = Array.from(document.querySelectorAll('body *'))
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
          .slice(-3)
          .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`);
        return `${scroller.scrollWidth} px: ${wide.join(', ')}`;
      });
      if (found) overflows.push(`${label} at ${width} px is ${found}`);
    }

    for (const width of [360, 1280]) {
      const contexts: Record<string, BrowserContext> = {};
      for (const as of ['contributor', 'admin', 'login'] as const) {
        contexts[as] = await browser.newContext({ viewport: { width, height: 800 }, locale: 'be-BY' });
      }
      await contexts.admin!.addCookies([{ name: 'staff', value: session, url: app.baseUrl }]);
      for (const { url, as } of pages) {
        const page = await contexts[as]!.newPage();
        await page.goto(`${app.baseUrl}${url}`);
        if (url.startsWith('/s/')) await page.locator('#status-clip:not([hidden])').waitFor();
        if (url.startsWith('/r/')) await page.locator('#report-status-photos:not([hidden])').waitFor();
        await measure(page, url, width);
        // Screenshots (the helper takes both widths itself) of the pages with the most contributor text.
        if (width === 360 && (url === '/staff/gallery' || url.startsWith('/staff/review/') || url.startsWith('/c/hostile') || url.includes('reports') || url.startsWith('/p/'))) await shoot(page, `hostile${url.replace(/[^a-z]+/g, '-').slice(0, 30)}`);
        await page.close();
      }
      // The code step (a moderator with a second factor) and the enrolment (one without).
      for (const [role, totp, step] of [['moderator', true, '/staff/login/code'], ['moderator', false, '/staff/totp/enrol']] as const) {
        const person = await makeStaff(app, clock.now, role, { totp, email: `${width}-${totp ? 'code' : 'enrol'}-${LONG_EMAIL}` });
        const page = await contexts.login!.newPage();
        await page.context().clearCookies();
        await page.goto(`${app.baseUrl}/staff/login`);
        await page.locator('#email').fill(person.email);
        await page.locator('#password').fill(PASSWORD);
        await page.locator('form[action="/staff/login"] button[type=submit]').click();
        await page.waitForURL(`${app.baseUrl}${step}`);
        await measure(page, step, width);
        await page.close();
      }
      for (const context of Object.values(contexts)) await context.close();
    }
    expect(overflows).toEqual([]);
  }, 180_000);
});
