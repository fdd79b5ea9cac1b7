import { readFile } from 'node:fs/promises';
import type { Express } from 'express';
import { createApp } from '../../server/app';
import { createInvite } from '../../server/services/staff.service';
import { CHECKLIST } from '../../server/services/review.service';
import { base32Decode, hotp, totpStep } from '../../server/services/totp.service';
import { ACCESS, type Access } from '../../server/web/staff-route';
import { releasePrefix } from '../../shared/storage/keys';
import type { StaffRole } from '../../shared/models/staff-user.model';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { makeFixture, smallMp4 } from '../helpers/fixtures';
import { makePng } from '../helpers/images';
import { multipartBody } from '../helpers/multipart';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, nextCode, StaffClient, testClock, type Answer, type TestStaff } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { clearChecklist, reportInReview } from '../helpers/reports';

/**
 * The scope and CSRF matrix, generated from the app's own route list (issue 20, item 4):
 *  - every route is classified in ROUTES below; a route the walk finds and the table lacks fails the first test;
 *  - every staff route is called by each role (of the clips' campaign): a role it names gets the documented
 *    status (exactly: a 500, or a 404 from a broken fixture, fails), a role it does not name 403 `forbidden`;
 *  - every route naming a clip (`:id`, or ids in the body or query) is called by a moderator and a social-team
 *    member of ANOTHER campaign: the role it names gets 404 (the clip's existence is not revealed), the other 403;
 *  - every non-GET route that takes a CSRF token refuses it missing, wrong, and another session's (403
 *    `csrf_invalid`), then takes the right one; the contributor's withdrawal, which takes the status token
 *    instead, refuses it missing (401), wrong and another clip's (404).
 * One app, one set of staff, and a fresh clip (in campaign "demo") for each call that changes one.
 */

interface Layer {
  route?: { path: string; methods: Record<string, boolean> } & Record<symbol, unknown>;
  handle?: { stack?: Layer[] };
}

function walk(app: Express): Map<string, Access | undefined> {
  const out = new Map<string, Access | undefined>();
  const visit = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) out.set(`${method.toUpperCase()} ${layer.route.path}`, layer.route[ACCESS] as Access | undefined);
      else if (layer.handle?.stack) visit(layer.handle.stack);
    }
  };
  visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

/** One request: its body a form, JSON, or a multipart form with a file. The CSRF token is added by `send`. */
interface Req {
  path: string;
  form?: Record<string, string>;
  json?: unknown;
  file?: { fields: Record<string, string>; field: string; filename: string; content: Buffer };
}

type Who = { role: StaffRole; client: StaffClient };

/**
 * How a staff route is tried. `make` builds a fresh target for the caller (a clip of "demo", a staff account…)
 * and the request doing the route's work. `ok`: the documented status for a role the route names. `scope`: what
 * a member of another campaign gets — `clip` a 404 `notFound` code (the route names a clip), `list` the page
 * without the clip, `none` the route is not about a campaign's clip (admin-only, the start page).
 */
interface StaffSpec {
  ok: number;
  make: (who: Who) => Promise<Req>;
  scope: { kind: 'clip'; code: string } | { kind: 'list' } | { kind: 'reportList' } | { kind: 'bulk' } | { kind: 'next' } | { kind: 'none' };
}

/** Routes outside the staff pages, each with why it takes no session or CSRF token (the contributor's, feeds, probes). */
const PUBLIC: Record<string, string> = {
  'GET /healthz': 'a probe',
  'GET /readyz': 'a probe',
  'GET /metrics': 'a probe (its own bearer token)',
  'GET /api/openapi.json': 'the API description',
  'GET /api/campaigns/:slug': 'an open campaign, public',
  'POST /api/submissions': 'an upload: no cookie is read, so nothing for a forged form to ride on',
  'GET /api/submissions/:id/status': 'the status token in Authorization, never a cookie',
  'POST /api/submissions/:id/withdraw': 'the status token in Authorization (tried below: missing, wrong, another clip\'s)',
  'GET /api/feeds/:token/releases.json': 'the feed token is the credential',
  'GET /api/feeds/:token/releases.atom': 'the feed token is the credential',
  'GET /api/feeds/:token/releases/files/:id/:output': 'the feed token is the credential',
  'POST /tus': 'a resumable upload: no cookie is read',
  'PUT /tus/:id/subtitles': 'the upload id is the credential, no cookie is read',
  'PATCH /tus/:id': 'the upload id is the credential, no cookie is read',
  '_ALL /tus{/*splat}': 'the upload id is the credential, no cookie is read',
  'GET /c-assets/:name': 'the contributor pages\' assets',
  'GET /c/:slug/theme.css': 'a campaign\'s public theme',
  'GET /c/:slug/logo/:id': 'a campaign\'s public logo',
  'GET /c/:slug': 'the contributor page',
  'GET /c/:slug/u/:token': 'a union link (its token is the credential)',
  'GET /s/:id': 'the status page (the token stays in the fragment)',
  // The public verification (issue 17): anyone, no account; no cookie is read, so nothing for a forged form to ride on.
  'GET /verify': 'the public verification form',
  'POST /verify': 'a file to check (the form): no cookie is read',
  'GET /verify/:id': 'a check\'s answer (its random id is the address)',
  'GET /verify/root.pem': 'the deployment\'s public root certificate',
  'POST /api/verify': 'a file to check: no cookie is read',
  'GET /api/verify/:id': 'a check\'s answer (its random id is the address)',
  // Action reports (issue 18): the union's form and API (the status token in Authorization, never a cookie).
  'GET /c/:slug/report': 'the action report form',
  'GET /c/:slug/u/:token/report': 'the action report form through a union link (its token is the credential)',
  'GET /r/:id': 'a report\'s status page (the token stays in the fragment)',
  'POST /api/reports': 'a report\'s fields: no cookie is read',
  'PUT /api/reports/:id/photos/:slot': 'the status token in Authorization, never a cookie',
  'POST /api/reports/:id/submit': 'the status token in Authorization, never a cookie',
  'GET /api/reports/:id/status': 'the status token in Authorization, never a cookie',
  'POST /api/reports/:id/withdraw': 'the status token in Authorization (tried below: missing, wrong, another report\'s)',
  'GET /p/:slug/actions': 'a campaign\'s public summary of actions (numbers and approved photos)',
  'GET /p/:slug/actions/photos/:id/:photoId': 'an approved photo whose consent allows the web, public',
  'POST /api/qr': 'a QR code of a text, nothing stored, no cookie read',
  'GET /staff/assets/:name': 'the staff stylesheet and scripts',
  'GET /staff/login': 'the login page',
  'GET /staff/login/code': 'a login step\'s page (staff-routes.test.ts)',
  'GET /staff/totp/enrol': 'a login step\'s page (staff-routes.test.ts)',
  'GET /staff/invite/:token': 'an invitation\'s page (the token is the credential)',
};

/**
 * Who each staff area is for, as README's "Staff accounts and pages" and "The gallery" say — written here, not
 * read from the routes' declarations, so a route opened to one role more fails (an area not listed: none).
 */
function documentedRoles(key: string): readonly StaffRole[] {
  const path = key.slice(key.indexOf(' ') + 1);
  if (path === '/staff') return ['admin', 'moderator', 'social'];
  if (/^\/staff\/(queue|review)(\/|$)/.test(path)) return ['admin', 'moderator'];
  if (/^\/staff\/(api\/)?gallery(\/|$)/.test(path)) return ['admin', 'social'];
  if (/^\/staff\/(admin|api\/campaigns)(\/|$)/.test(path)) return ['admin'];
  // Action reports' dashboards, gallery and exports (README: Action reports): every role, within its campaigns.
  if (/^\/staff\/reports(\/|$)/.test(path)) return ['admin', 'moderator', 'social'];
  return [];
}

/** Routes before a full session: their CSRF token is the pre-login cookie's (double submit) or the half-way session's. */
const LOGIN_STEPS = ['POST /staff/language', 'POST /staff/login', 'POST /staff/login/code', 'POST /staff/totp/enrol', 'POST /staff/logout', 'POST /staff/invite/:token'];

describe('the scope and CSRF matrix, from the route walk', () => {
  let app: TestApp;
  const clock = testClock();
  let walked: Map<string, Access | undefined>;
  const staff = {} as Record<'admin' | 'moderator' | 'social' | 'awayModerator' | 'awaySocial', TestStaff>;
  const home = {} as Record<StaffRole, StaffClient>;
  const away = {} as Record<'moderator' | 'social', StaffClient>;
  const tokens = new Map<StaffClient, string>();
  let poster: Buffer;
  let video: Buffer;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', WEBHOOK_ALLOW_LOOPBACK: 'true' }, clock.now);
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'other', name: 'Another campaign' });
    // The campaign the admin's campaign routes change (a new consent version of "demo" would refuse its clips).
    await seedDemoCampaign(app.deps, { slug: 'third', name: 'A third campaign' });
    staff.admin = await makeStaff(app, clock.now, 'admin');
    staff.moderator = await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] });
    staff.social = await makeStaff(app, clock.now, 'social', { campaigns: ['demo'] });
    staff.awayModerator = await makeStaff(app, clock.now, 'moderator', { campaigns: ['other'] });
    staff.awaySocial = await makeStaff(app, clock.now, 'social', { campaigns: ['other'] });
    home.admin = await loginAs(app, clock, staff.admin);
    home.moderator = await loginAs(app, clock, staff.moderator);
    home.social = await loginAs(app, clock, staff.social);
    away.moderator = await loginAs(app, clock, staff.awayModerator);
    away.social = await loginAs(app, clock, staff.awaySocial);
    for (const client of [...Object.values(home), ...Object.values(away)]) {
      await client.get('/staff');
      tokens.set(client, client.csrf());
    }
    walked = walk(createApp(app.deps));
    video = await smallMp4();
    poster = await readFile(await makeFixture('poster.jpg', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1']));
  });

  afterAll(async () => {
    await app?.close();
  });

  const db = () => app.services.db;

  /**
   * Whether the calls being made are ones that must be refused before anything is done (a role or campaign
   * refused, a CSRF token refused): those share one target of each kind instead of a fresh one each (a broken
   * build that lets one through still fails on its answer).
   */
  let sharing = false;
  const shared = new Map<string, Promise<string>>();
  const share = (kind: string, make: () => Promise<string>): Promise<string> => {
    if (!sharing) return make();
    if (!shared.has(kind)) shared.set(kind, make());
    return shared.get(kind)!;
  };
  const inReview = (options: { protection?: boolean } = {}) => share(`review${options.protection ? '-protected' : ''}`, async () => (await clipInReview(app, options)).id);

  /** A released clip of "demo" (its release objects under releases/<id>/, as the release job leaves them). */
  const released = () => share('released', makeReleased);
  async function makeReleased(): Promise<string> {
    const { id } = await clipInReview(app);
    const outputs: Record<string, { key: string; bytes: number; sha256: string; contentType: string }> = {};
    for (const [name, body, type] of [['source', video, 'video/mp4'], ['poster-source', poster, 'image/jpeg']] as const) {
      const key = `${releasePrefix(id)}${name}`;
      await app.services.storage.upload(key, body, type);
      outputs[name] = { key, bytes: body.length, sha256: '0'.repeat(64), contentType: type };
    }
    const at = new Date();
    await db().submissions.updateOne({ _id: id }, { $set: { status: 'released', release: { outputs, languages: [], uses: ['social'], credit: false, startedAt: at, finishedAt: at, lastError: null } } });
    return id;
  }

  /** A clip in review with a clean master (its preview stands in for it): what face protection is drawn from. */
  const withMaster = () => share('master', cleanMaster);
  async function cleanMaster(): Promise<string> {
    const { id } = await clipInReview(app);
    const stored = (await db().submissions.findById(id).lean())!;
    await db().submissions.updateOne({ _id: id }, { $set: { 'outputs.master': stored.outputs.preview } });
    return id;
  }

  /** A saved caption version of a clip with its preview rendered (the worker's, stood in for by the clip's preview). */
  const captionVersion = (id: string) => share(`version-${id}`, () => savedVersion(id));
  async function savedVersion(id: string): Promise<string> {
    const client = home.admin;
    const saved = await client.post(`/staff/review/${id}/captions`, { _csrf: tokens.get(client)!, lang: 'be', start: '00:00.000', end: '00:01.500', text: 'Салідарнасць' });
    if (saved.status !== 303) throw new Error(`caption version not saved: ${saved.status}`);
    const version = (await db().captionVersions.findOne({ submissionId: id }).sort({ _id: -1 }).lean())!;
    const stored = (await db().submissions.findById(id).lean())!;
    await db().captionVersions.updateOne({ _id: version._id }, { $set: { preview: stored.outputs.preview } });
    return version._id.toHexString();
  }

  const otherStaff = async () => (await makeStaff(app, clock.now, 'social')).user._id.toHexString();
  const linkOf = async (slug: string) => (await db().campaigns.findOne({ slug }).lean())!.unionLinks.at(-1)!.id;
  const srt = Buffer.from('1\n00:00:00,000 --> 00:00:01,500\nСалідарнасць\n');
  const png = () => makePng(16, 16);
  const campaignJson = (slug: string) => ({ ...demoCampaign, slug, name: `Matrix ${slug}` });
  let made = 0;
  const unique = () => `${Date.now().toString(36)}${(made += 1)}`;
  const byAdmin = (path: string, form: Record<string, string>) => home.admin.post(path, { _csrf: tokens.get(home.admin)!, ...form });

  const clip = { kind: 'clip', code: 'submission_not_found' } as const;
  const releasedClip = { kind: 'clip', code: 'release_not_available' } as const;
  const report = { kind: 'clip', code: 'report_not_found' } as const;
  const inReviewReport = () => share('report', async () => JSON.stringify(await reportInReview(app)));
  const campaignOnly = { kind: 'clip', code: 'campaign_not_found' } as const;
  const approvedReport = () =>
    share('approved-report', async () => {
      const made = await reportInReview(app);
      const answer = await home.admin.post(`/staff/review/reports/${made.id}/approve`, { _csrf: tokens.get(home.admin)!, ...clearChecklist(made.photoIds) });
      if (answer.status !== 303) throw new Error(`report not approved: ${answer.status}`);
      return JSON.stringify(made);
    }).then((json) => JSON.parse(json) as Awaited<ReturnType<typeof reportInReview>>);
  const reportOf = async () => JSON.parse(await inReviewReport()) as Awaited<ReturnType<typeof reportInReview>>;
  const none = { kind: 'none' } as const;

  /** Every staff route with a full session: how to make it do its work once, and its documented status. */
  const ROUTES: Record<string, StaffSpec> = {
    'GET /staff': { ok: 200, scope: none, make: async () => ({ path: '/staff' }) },
    'GET /staff/admin/staff': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/staff' }) },
    'POST /staff/admin/invites': { ok: 201, scope: none, make: async () => ({ path: '/staff/admin/invites', form: { email: `inv-${unique()}@example.org`, role: 'moderator', campaigns: '' } }) },
    'POST /staff/admin/staff/:id/role': { ok: 303, scope: none, make: async () => ({ path: `/staff/admin/staff/${await otherStaff()}/role`, form: { role: 'moderator', campaigns: '' } }) },
    'POST /staff/admin/staff/:id/access': { ok: 303, scope: none, make: async () => ({ path: `/staff/admin/staff/${await otherStaff()}/access`, form: { disabled: 'true' } }) },
    'POST /staff/admin/staff/:id/unlock': {
      ok: 303,
      scope: none,
      make: async () => {
        const id = await otherStaff();
        await db().staffUsers.updateOne({ _id: id }, { $set: { lockedUntil: new Date(clock.now().getTime() + 3600_000) } });
        return { path: `/staff/admin/staff/${id}/unlock`, form: {} };
      },
    },
    'GET /staff/admin/metrics': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/metrics' }) },
    'GET /staff/admin/audit': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/audit' }) },
    'GET /staff/admin/campaigns': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/campaigns' }) },
    'POST /staff/admin/campaigns': { ok: 303, scope: none, make: async () => ({ path: '/staff/admin/campaigns', form: { campaign: JSON.stringify(campaignJson(`page-${unique()}`)) } }) },
    'GET /staff/admin/campaigns/:slug': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/campaigns/demo' }) },
    'POST /staff/admin/campaigns/:slug': { ok: 303, scope: none, make: async () => ({ path: '/staff/admin/campaigns/third', form: { name: 'Third renamed', status: 'open', languages: 'be ru uk en' } }) },
    'POST /staff/admin/campaigns/:slug/logo': { ok: 303, scope: none, make: async () => ({ path: '/staff/admin/campaigns/third/logo', file: { fields: {}, field: 'logo', filename: 'logo.png', content: png() } }) },
    'POST /staff/admin/campaigns/:slug/consent': { ok: 303, scope: none, make: async () => ({ path: '/staff/admin/campaigns/third/consent', form: { consent: JSON.stringify(demoCampaign.consent) } }) },
    'POST /staff/admin/campaigns/:slug/links': { ok: 201, scope: none, make: async () => ({ path: '/staff/admin/campaigns/third/links', form: { organisation: 'Miners', country: 'BY' } }) },
    'POST /staff/admin/campaigns/:slug/links/:linkId/revoke': {
      ok: 303,
      scope: none,
      make: async () => {
        await byAdmin('/staff/admin/campaigns/third/links', { organisation: 'Revoked', country: 'PL' });
        return { path: `/staff/admin/campaigns/third/links/${await linkOf('third')}/revoke`, form: {} };
      },
    },
    'GET /staff/api/campaigns': { ok: 200, scope: none, make: async () => ({ path: '/staff/api/campaigns' }) },
    'POST /staff/api/campaigns': { ok: 201, scope: none, make: async () => ({ path: '/staff/api/campaigns', json: campaignJson(`api-${unique()}`) }) },
    'GET /staff/api/campaigns/:slug': { ok: 200, scope: none, make: async () => ({ path: '/staff/api/campaigns/demo' }) },
    'POST /staff/api/campaigns/:slug': { ok: 200, scope: none, make: async () => ({ path: '/staff/api/campaigns/third', json: { name: 'Third by the API' } }) },
    'POST /staff/api/campaigns/:slug/consent': { ok: 201, scope: none, make: async () => ({ path: '/staff/api/campaigns/third/consent', json: { consent: demoCampaign.consent } }) },
    'POST /staff/api/campaigns/:slug/logo': { ok: 201, scope: none, make: async () => ({ path: '/staff/api/campaigns/third/logo', file: { fields: {}, field: 'logo', filename: 'logo.png', content: png() } }) },
    'POST /staff/api/campaigns/:slug/links': { ok: 201, scope: none, make: async () => ({ path: '/staff/api/campaigns/third/links', json: { organisation: 'Teachers', country: 'UA' } }) },
    'POST /staff/api/campaigns/:slug/links/:linkId/revoke': {
      ok: 200,
      scope: none,
      make: async () => {
        await byAdmin('/staff/admin/campaigns/third/links', { organisation: 'Revoked by API', country: 'PL' });
        return { path: `/staff/api/campaigns/third/links/${await linkOf('third')}/revoke`, json: {} };
      },
    },
    'GET /staff/queue': { ok: 200, scope: { kind: 'list' }, make: async () => ({ path: '/staff/queue' }) },
    'GET /staff/queue/next': { ok: 303, scope: { kind: 'next' }, make: async () => ({ path: '/staff/queue/next' }) },
    'POST /staff/queue/bulk': { ok: 200, scope: { kind: 'bulk' }, make: async () => ({ path: '/staff/queue/bulk', form: { ids: (await inReview()), action: 'reject', template: 'identifiable' } }) },
    'GET /staff/review/:id': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}` }) },
    'GET /staff/review/:id/protection-state': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/protection-state` }) },
    'POST /staff/review/:id/claim': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/claim`, form: {} }) },
    'POST /staff/review/:id/approve': {
      ok: 303,
      scope: clip,
      make: async (who) => {
        const id = await inReview();
        // The caller claims it first, as the review page does (a member of another campaign cannot).
        await who.client.post(`/staff/review/${id}/claim`, { _csrf: tokens.get(who.client) ?? '' });
        return { path: `/staff/review/${id}/approve`, form: Object.fromEntries(CHECKLIST.map((item) => [item, 'clear'])) };
      },
    },
    'POST /staff/review/:id/reject': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/reject`, form: { template: 'identifiable', note: '' } }) },
    'POST /staff/review/:id/undo': {
      ok: 303,
      scope: clip,
      make: async (who) => {
        const id = await inReview();
        // The caller rejects it first: only the moderator who decided may undo (a member of another campaign cannot).
        await who.client.post(`/staff/review/${id}/reject`, { _csrf: tokens.get(who.client) ?? '', template: 'identifiable', note: '' });
        return { path: `/staff/review/${id}/undo`, form: {} };
      },
    },
    'POST /staff/review/:id/withdraw': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/withdraw`, form: { confirm: 'yes', reason: 'asked by the union' } }) },
    'GET /staff/review/:id/media/:output': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/media/preview` }) },
    'POST /staff/review/:id/original': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/original`, form: {} }) },
    'GET /staff/review/:id/captions': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/captions` }) },
    'POST /staff/review/:id/captions': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/captions`, form: { lang: 'be', start: '00:00.000', end: '00:01.500', text: 'Салідарнасць' } }) },
    'POST /staff/review/:id/captions/upload': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview())}/captions/upload`, file: { fields: { lang: 'be' }, field: 'file', filename: 'captions.srt', content: srt } }) },
    'GET /staff/review/:id/captions/:version/preview': {
      ok: 200,
      scope: clip,
      make: async () => {
        const id = await inReview();
        return { path: `/staff/review/${id}/captions/${await captionVersion(id)}/preview` };
      },
    },
    'GET /staff/review/:id/faces': { ok: 200, scope: clip, make: async () => ({ path: `/staff/review/${(await inReview({ protection: true }))}/faces` }) },
    'POST /staff/review/:id/faces': {
      ok: 303,
      scope: clip,
      make: async () => ({ path: `/staff/review/${(await inReview({ protection: true }))}/faces`, form: { version: '1', boxId: '', boxStart: '0', boxEnd: '1', boxX: '10', boxY: '10', boxW: '20', boxH: '20' } }),
    },
    'POST /staff/review/:id/protect': { ok: 303, scope: clip, make: async () => ({ path: `/staff/review/${await withMaster()}/protect`, form: {} }) },
    // Action reports (issue 18).
    'GET /staff/queue/reports': { ok: 200, scope: { kind: 'reportList' }, make: async () => ({ path: '/staff/queue/reports' }) },
    'GET /staff/review/reports/:id': { ok: 200, scope: report, make: async () => ({ path: `/staff/review/reports/${(await reportOf()).id}` }) },
    'POST /staff/review/reports/:id/claim': { ok: 303, scope: report, make: async () => ({ path: `/staff/review/reports/${(await reportOf()).id}/claim`, form: {} }) },
    'POST /staff/review/reports/:id/approve': {
      ok: 303,
      scope: report,
      make: async () => {
        const made = await reportOf();
        return { path: `/staff/review/reports/${made.id}/approve`, form: clearChecklist(made.photoIds) };
      },
    },
    'POST /staff/review/reports/:id/reject': { ok: 303, scope: report, make: async () => ({ path: `/staff/review/reports/${(await reportOf()).id}/reject`, form: { template: 'identifiable', note: '' } }) },
    'POST /staff/review/reports/:id/photos/:photoId/exclude': {
      ok: 303,
      scope: report,
      make: async () => {
        const made = await reportOf();
        return { path: `/staff/review/reports/${made.id}/photos/${made.photoIds[0]!}/exclude`, form: { excluded: 'yes' } };
      },
    },
    'POST /staff/review/reports/:id/photos/:photoId/mask': {
      ok: 303,
      scope: report,
      make: async () => {
        const made = await reportOf();
        return { path: `/staff/review/reports/${made.id}/photos/${made.photoIds[0]!}/mask`, form: { x: '10', y: '10', w: '30', h: '30' } };
      },
    },
    'POST /staff/review/reports/:id/withdraw': { ok: 303, scope: report, make: async () => ({ path: `/staff/review/reports/${(await reportOf()).id}/withdraw`, form: { confirm: 'yes', reason: 'asked by the union' } }) },
    'GET /staff/review/reports/:id/photos/:photoId': {
      ok: 200,
      scope: report,
      make: async () => {
        const made = await reportOf();
        return { path: `/staff/review/reports/${made.id}/photos/${made.photoIds[0]!}` };
      },
    },
    'GET /staff/reports': { ok: 200, scope: none, make: async () => ({ path: '/staff/reports' }) },
    'GET /staff/reports/:slug': { ok: 200, scope: campaignOnly, make: async () => ({ path: '/staff/reports/demo' }) },
    'GET /staff/reports/:slug/export.csv': { ok: 200, scope: campaignOnly, make: async () => ({ path: '/staff/reports/demo/export.csv' }) },
    'GET /staff/reports/:slug/export.json': { ok: 200, scope: campaignOnly, make: async () => ({ path: '/staff/reports/demo/export.json' }) },
    'GET /staff/reports/:slug/photos/:id/:photoId': {
      ok: 200,
      scope: campaignOnly,
      make: async () => {
        const made = await approvedReport();
        return { path: `/staff/reports/demo/photos/${made.id}/${made.photoIds[0]!}` };
      },
    },
    'GET /staff/gallery': { ok: 200, scope: { kind: 'list' }, make: async () => ({ path: '/staff/gallery' }) },
    'GET /staff/gallery/:id/poster/:shape': { ok: 200, scope: releasedClip, make: async () => ({ path: `/staff/gallery/${await released()}/poster/source` }) },
    'GET /staff/gallery/:id/files/:output': { ok: 303, scope: releasedClip, make: async () => ({ path: `/staff/gallery/${await released()}/files/source` }) },
    'GET /staff/api/gallery': { ok: 200, scope: { kind: 'list' }, make: async () => ({ path: '/staff/api/gallery' }) },
    'GET /staff/api/gallery/:id/files/:output': { ok: 200, scope: releasedClip, make: async () => ({ path: `/staff/api/gallery/${await released()}/files/source` }) },
    'GET /staff/gallery/zip': { ok: 200, scope: releasedClip, make: async () => ({ path: `/staff/gallery/zip?clip=${await released()}` }) },
    'GET /staff/admin/distribution': { ok: 200, scope: none, make: async () => ({ path: '/staff/admin/distribution' }) },
    'POST /staff/admin/feeds': { ok: 201, scope: none, make: async () => ({ path: '/staff/admin/feeds', form: { campaign: 'demo', team: 'Social team', use: 'social' } }) },
    'POST /staff/admin/feeds/:id/revoke': {
      ok: 303,
      scope: none,
      make: async () => {
        await byAdmin('/staff/admin/feeds', { campaign: 'demo', team: `Team ${unique()}`, use: 'social' });
        const feed = (await db().feedTokens.findOne({ revokedAt: null }).sort({ _id: -1 }).lean())!;
        return { path: `/staff/admin/feeds/${feed._id.toHexString()}/revoke`, form: {} };
      },
    },
    'POST /staff/admin/webhooks': { ok: 201, scope: none, make: async () => ({ path: '/staff/admin/webhooks', form: { campaign: 'demo', team: 'Social team', use: 'social', url: 'http://127.0.0.1:9/clips' } }) },
    'POST /staff/admin/webhooks/:id/disable': {
      ok: 303,
      scope: none,
      make: async () => {
        await byAdmin('/staff/admin/webhooks', { campaign: 'demo', team: `Team ${unique()}`, use: 'social', url: 'http://127.0.0.1:9/clips' });
        const hook = (await db().webhooks.findOne({ disabledAt: null }).sort({ _id: -1 }).lean())!;
        return { path: `/staff/admin/webhooks/${hook._id.toHexString()}/disable`, form: {} };
      },
    },
  };

  /** Sends a request as `client`, with `token` as its CSRF token (null: none at all). */
  async function send(client: StaffClient, req: Req, token: string | null, headers: Record<string, string> = {}): Promise<Answer> {
    if (req.file) {
      const { body, contentType } = multipartBody({ ...(token === null ? {} : { _csrf: token }), ...req.file.fields }, [{ field: req.file.field, filename: req.file.filename, content: req.file.content }]);
      const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await fetch(`${app.baseUrl}${req.path}`, { method: 'POST', body: new Uint8Array(body), redirect: 'manual', headers: { cookie, 'content-type': contentType, ...headers } });
      return { status: response.status, location: response.headers.get('location'), html: await response.text(), headers: response.headers };
    }
    if (req.json !== undefined) return client.request('POST', req.path, JSON.stringify(req.json), { 'content-type': 'application/json', ...(token === null ? {} : { 'x-csrf-token': token }), ...headers });
    if (req.form) return client.request('POST', req.path, { ...(token === null ? {} : { _csrf: token }), ...req.form }, headers);
    return client.request('GET', req.path, undefined, headers);
  }

  const json = { accept: 'application/json' };
  const codeOf = (answer: Answer) => {
    try {
      return (JSON.parse(answer.html) as { code?: string }).code ?? null;
    } catch {
      return null;
    }
  };
  const rolesOf = (key: string) => {
    const access = walked.get(key);
    return access && 'roles' in access ? access.roles : [];
  };
  const briefly = (answer: Answer) => `${answer.status} ${codeOf(answer) ?? answer.html.slice(0, 160)}`;

  test('every route the walk finds is classified here (a new one fails until someone decides its scope and CSRF), and nothing classified is gone', () => {
    const classified = new Set([...Object.keys(ROUTES), ...Object.keys(PUBLIC), ...LOGIN_STEPS]);
    const found = [...walked.keys()];
    expect(found.filter((key) => !classified.has(key))).toEqual([]);
    expect([...classified].filter((key) => !walked.has(key))).toEqual([]);
    // The table's split agrees with the routes' own declarations: every full-session route is in ROUTES.
    expect(found.filter((key) => rolesOf(key).length > 0 && !Object.hasOwn(ROUTES, key))).toEqual([]);
    expect(Object.keys(ROUTES).filter((key) => rolesOf(key).length === 0)).toEqual([]);
    expect(found.length).toBeGreaterThanOrEqual(80);
  });

  test("every full-session route declares exactly the roles its area is documented for", () => {
    const declared = Object.keys(ROUTES).map((key) => [key, [...rolesOf(key)].sort()]);
    expect(declared).toEqual(Object.keys(ROUTES).map((key) => [key, [...documentedRoles(key)].sort()]));
  });

  const staffRoutes = Object.keys(ROUTES);
  const roleCases = staffRoutes.flatMap((key) => (['admin', 'moderator', 'social'] as const).map((role) => [key, role] as const));

  test.each(roleCases)('%s by the campaign\'s %s: the documented status if the route names the role, else 403 forbidden', async (key, role) => {
    const who = { role, client: home[role] };
    sharing = !documentedRoles(key).includes(role);
    const req = await ROUTES[key]!.make(who);
    if (documentedRoles(key).includes(role)) {
      const answer = await send(who.client, req, tokens.get(who.client)!);
      expect([key, role, briefly(answer)]).toEqual([key, role, expect.stringMatching(new RegExp(`^${ROUTES[key]!.ok} `))]);
    } else {
      const answer = await send(who.client, req, tokens.get(who.client)!, json);
      expect([key, role, answer.status, codeOf(answer)]).toEqual([key, role, 403, 'forbidden']);
    }
  });

  // Every route naming a clip, and every route with an :id or :slug (the admins' own: refused by role).
  const scopeCases = staffRoutes.filter((key) => ROUTES[key]!.scope.kind !== 'none' || /:(id|slug)\b/.test(key)).flatMap((key) => (['moderator', 'social'] as const).map((role) => [key, role] as const));

  test.each(scopeCases)('%s by a %s of another campaign: 404 where the route names the role (the clip is not revealed), else 403', async (key, role) => {
    const spec = ROUTES[key]!;
    const who = { role, client: away[role] };
    sharing = true;
    const req = await spec.make(who);
    sharing = false;
    const answer = await send(who.client, req, tokens.get(who.client)!, json);
    if (!documentedRoles(key).includes(role)) {
      expect([key, role, answer.status, codeOf(answer)]).toEqual([key, role, 403, 'forbidden']);
      return;
    }
    const target = /[0-9a-f]{24}/.exec(req.path)?.[0] ?? (req.form?.ids as string | undefined);
    switch (spec.scope.kind) {
      case 'none':
        throw new Error(`${key} is open to a campaign's ${role} and names an id or slug: say in ROUTES what another campaign's member gets`);
      case 'clip':
        expect([key, role, answer.status, codeOf(answer)]).toEqual([key, role, 404, spec.scope.code]);
        break;
      case 'bulk': {
        // Each id is tried on its own: another campaign's clip is skipped as not found, and stays as it was.
        expect([key, answer.status]).toEqual([key, 200]);
        expect((await db().submissions.findById(target).lean())!.status).toBe('in_review');
        expect(answer.html).toContain(target);
        break;
      }
      case 'next': {
        // A clip of "demo" waits; the member of another campaign is not sent to it.
        const waiting = (await clipInReview(app)).id;
        const again = await send(who.client, req, null);
        expect([key, again.status, again.location]).toEqual([key, 303, '/staff/queue']);
        expect(again.location).not.toContain(waiting);
        break;
      }
      case 'reportList': {
        // A report of "demo" waits: another campaign's moderator does not see it, the campaign's own does.
        const waiting = (await reportInReview(app)).id;
        const page = await send(who.client, req, null);
        expect([key, page.status, page.html.includes(waiting)]).toEqual([key, 200, false]);
        const own = await send(home[role], req, null);
        expect([key, own.status, own.html.includes(waiting)]).toEqual([key, 200, true]);
        break;
      }
      case 'list': {
        // (The oldest in review: the first on the queue's first page.)
        const shown = role === 'moderator' ? (await clipInReview(app, { at: new Date('2020-01-01T00:00:00Z') })).id : await released();
        const page = await send(who.client, req, null);
        expect([key, page.status, page.html.includes(shown)]).toEqual([key, 200, false]);
        // …and the campaign's own member sees it (so its absence above is the scope, not an empty list).
        const own = await send(home[role], req, null);
        expect([key, own.status, own.html.includes(shown)]).toEqual([key, 200, true]);
        break;
      }
    }
  });

  const csrfCases = staffRoutes.filter((key) => key.startsWith('POST ')).flatMap((key) => (['missing', 'wrong', "another session's"] as const).map((kind) => [key, kind] as const));

  test.each(csrfCases)('%s with a %s CSRF token: 403 csrf_invalid, nothing done', async (key, kind) => {
    const role = documentedRoles(key)[0]!;
    const client = home[role];
    const other = role === 'admin' ? home.moderator : home.admin;
    sharing = true;
    const req = await ROUTES[key]!.make({ role, client });
    const token = kind === 'missing' ? null : kind === 'wrong' ? 'A'.repeat(43) : tokens.get(other)!;
    const before = await db().auditEntries.countDocuments();
    const answer = await send(client, req, token, json);
    expect([key, kind, answer.status, codeOf(answer)]).toEqual([key, kind, 403, 'csrf_invalid']);
    expect(await db().auditEntries.countDocuments()).toBe(before);
  });

  /** The login steps, each made ready in a client of its own (a pre-login browser, a half-way session). */
  const STEPS: Record<string, { ok: number; ready: () => Promise<{ client: StaffClient; token: () => string; req: () => Promise<Req> }> }> = {
    'POST /staff/language': {
      ok: 303,
      ready: async () => {
        const client = new StaffClient(app.baseUrl);
        await client.get('/staff/login');
        return { client, token: () => client.csrf(), req: async () => ({ path: '/staff/language', form: { lang: 'uk' } }) };
      },
    },
    'POST /staff/login': {
      ok: 303,
      ready: async () => {
        const client = new StaffClient(app.baseUrl);
        await client.get('/staff/login');
        const who = await makeStaff(app, clock.now, 'social');
        return { client, token: () => client.csrf(), req: async () => ({ path: '/staff/login', form: { email: who.email, password: who.password } }) };
      },
    },
    'POST /staff/login/code': {
      ok: 303,
      ready: async () => {
        const who = await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] });
        const client = new StaffClient(app.baseUrl);
        await client.get('/staff/login');
        await client.post('/staff/login', { email: who.email, password: who.password });
        await client.get('/staff/login/code');
        return { client, token: () => client.csrf(), req: async () => ({ path: '/staff/login/code', form: { code: await nextCode(app, clock, who) } }) };
      },
    },
    'POST /staff/totp/enrol': {
      ok: 303,
      ready: async () => {
        const who = await makeStaff(app, clock.now, 'moderator', { totp: false, campaigns: ['demo'] });
        const client = new StaffClient(app.baseUrl);
        await client.get('/staff/login');
        await client.post('/staff/login', { email: who.email, password: who.password });
        const page = await client.get('/staff/totp/enrol');
        const secret = (/data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(page.html)?.[1] ?? /secret=([A-Z2-7]+)/.exec(page.html)?.[1] ?? '').replace(/\s/g, '');
        return { client, token: () => client.csrf(), req: async () => ({ path: '/staff/totp/enrol', form: { code: hotp(base32Decode(secret), totpStep(clock.now())) } }) };
      },
    },
    'POST /staff/logout': {
      ok: 303,
      ready: async () => {
        const client = await loginAs(app, clock, await makeStaff(app, clock.now, 'social'));
        return { client, token: () => client.csrf(), req: async () => ({ path: '/staff/logout', form: {} }) };
      },
    },
    'POST /staff/invite/:token': {
      ok: 303,
      ready: async () => {
        const { token } = await createInvite(db(), app.config.staff, { id: staff.admin.user._id.toHexString(), email: staff.admin.email }, { email: `inv-${unique()}@example.org`, role: 'social', campaigns: [] }, clock.now());
        const client = new StaffClient(app.baseUrl);
        await client.get(`/staff/invite/${token}`);
        return { client, token: () => client.csrf(), req: async () => ({ path: `/staff/invite/${token}`, form: { password: 'a long matrix password', repeat: 'a long matrix password' } }) };
      },
    },
  };

  test('the login steps are exactly the walk\'s non-GET routes without a full session', () => {
    const steps = [...walked].filter(([key, access]) => !key.startsWith('GET ') && access && !('roles' in access)).map(([key]) => key);
    expect(steps.sort()).toEqual([...LOGIN_STEPS].sort());
    expect(Object.keys(STEPS).sort()).toEqual([...LOGIN_STEPS].sort());
  });

  test.each(LOGIN_STEPS)('%s refuses a missing, a wrong and another session\'s (or browser\'s) CSRF token with 403 csrf_invalid, then takes the right one', async (key) => {
    const step = STEPS[key]!;
    const { client, token, req } = await step.ready();
    const stranger = await step.ready();
    const right = token();
    expect([key, right]).toEqual([key, expect.stringMatching(/^[\w-]{43}$/)]);
    for (const [kind, given] of [['missing', null], ['wrong', 'A'.repeat(43)], ["another's", stranger.token()]] as const) {
      const answer = await send(client, await req(), given, json);
      expect([key, kind, answer.status, codeOf(answer)]).toEqual([key, kind, 403, 'csrf_invalid']);
    }
    const done = await send(client, await req(), right);
    expect([key, briefly(done)]).toEqual([key, expect.stringMatching(new RegExp(`^${step.ok} `))]);
  });

  test("the contributor's withdrawal refuses a missing status token (401), a wrong one and another clip's (404), then takes the right one", async () => {
    const mine = await clipInReview(app);
    const theirs = await clipInReview(app);
    const withdraw = (token: string | null) =>
      fetch(`${app.baseUrl}/api/submissions/${mine.id}/withdraw`, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; status?: string } }));
    expect(await withdraw(null)).toEqual({ status: 401, body: expect.objectContaining({ code: 'status_token_required' }) });
    const wrong = await withdraw('A'.repeat(43));
    const another = await withdraw(theirs.statusToken);
    expect([wrong.status, another.status, wrong.body.code, another.body.code === wrong.body.code]).toEqual([404, 404, expect.any(String), true]);
    expect((await db().submissions.findById(mine.id).lean())!.status).toBe('in_review');
    expect(await withdraw(mine.statusToken)).toEqual({ status: 200, body: expect.objectContaining({ status: 'withdrawn' }) });
  });

  test("a union's report withdrawal refuses a missing status token (401), a wrong one and another report's (404), then takes the right one", async () => {
    const mine = await reportInReview(app);
    const theirs = await reportInReview(app);
    const withdraw = (token: string | null) =>
      fetch(`${app.baseUrl}/api/reports/${mine.id}/withdraw`, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; status?: string } }));
    expect(await withdraw(null)).toEqual({ status: 401, body: expect.objectContaining({ code: 'status_token_required' }) });
    const wrong = await withdraw('A'.repeat(43));
    const another = await withdraw(theirs.token);
    expect([wrong.status, another.status, wrong.body.code, another.body.code === wrong.body.code]).toEqual([404, 404, 'report_not_found', true]);
    expect((await db().reports.findById(mine.id).lean())!.status).toBe('in_review');
    expect(await withdraw(mine.token)).toEqual({ status: 200, body: expect.objectContaining({ status: 'withdrawn' }) });
  });
});
