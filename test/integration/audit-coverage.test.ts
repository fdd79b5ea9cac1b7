import type { Express } from 'express';
import { createApp } from '../../server/app';
import { runCli, USAGE } from '../../server/cli/cli';
import { listAudit } from '../../server/services/audit.service';
import { createInvite } from '../../server/services/staff.service';
import { base32Decode, hotp, totpStep } from '../../server/services/totp.service';
import { ACCESS, type Access } from '../../server/web/staff-route';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { makePng } from '../helpers/images';
import { multipartBody } from '../helpers/multipart';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, StaffClient, testClock, type Answer, type TestStaff } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKLIST } from '../../server/services/review.service';
import { approve } from '../../shared/submissions/moderation';
import { clearChecklist, reportInReview } from '../helpers/reports';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> } & Record<symbol, unknown>;
  handle?: { stack?: Layer[] };
}

/**
 * POSTs that change nothing stored, each with the reason: they are walked but owe no audit entry.
 * The language switch sets a cookie in the person's own browser (the staff pages' language), nothing else.
 */
const NOTHING_STORED: Record<string, string> = { 'POST /staff/language': 'a cookie in the browser: the pages\' language' };

/** Every state-changing staff route, found by walking Express's own router (as staff-routes.test.ts does). */
function stateChangingRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          const access = layer.route[ACCESS] as Access | undefined;
          if (method !== 'get' && method !== 'head' && layer.route.path.startsWith('/staff') && access) out.push(`${method.toUpperCase()} ${layer.route.path}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(out)].sort();
}

/** Every command of the CLI, from its own usage text (not a list kept by hand). */
function cliCommands(): string[] {
  return [...new Set([...USAGE.matchAll(/npm run cli -- (\S+) (\S+)/g)].map((m) => `${m[1]} ${m[2]}`))];
}

/** The CLI commands that only read (they must not be in the table of changes below, and need no entry). */
const CLI_READS = ['campaigns list', 'campaigns show', 'submissions list', 'submissions show', 'staff list', 'audit verify'];

/** CLI commands that change something but cannot run on this file's (full) database; where their entry is checked. */
const CLI_AUDITED_ELSEWHERE: Record<string, string> = { 'restore --from': 'backup-restore.test.ts: the restored log ends with backup_restored' };

/**
 * CLI commands that change files only, never the database (runProvenanceCli runs without it: the signing keys must
 * never reach it), so there is no log to write to. `provenance check` only reads.
 */
const CLI_FILES_ONLY: Record<string, string> = {
  'provenance init': 'writes a new signing identity into a folder',
  'provenance rotate': 'writes a new signing leaf into the folder',
  'provenance import': 'checks and copies a chain and key into a folder',
  'provenance check': 'reads the worker\'s signing files',
};

describe('every state-changing staff route and CLI command is audited', () => {
  let app: TestApp;
  const clock = testClock();
  let admin: TestStaff;
  let client: StaffClient;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', AUDIT_HMAC_KEY: 'a key for the audit log of this test file', WEBHOOK_ALLOW_LOOPBACK: 'true' }, clock.now);
    await seedDemoCampaign(app.deps);
    // The campaign the campaign routes change (a new consent version on "demo" would refuse the clips made for review).
    await seedDemoCampaign(app.deps, { slug: 'other', name: 'Other' });
    admin = await makeStaff(app, clock.now, 'admin');
    client = await loginAs(app, clock, admin);
  });

  afterAll(async () => {
    await app.close();
  });

  const entries = async () => (await listAudit(app.services.db, { limit: 1 })).total;
  const page = async (c: StaffClient = client) => void (await c.get('/staff'));
  const json = (c: StaffClient, path: string, body: unknown) => c.request('POST', path, JSON.stringify(body), { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': c.csrf() });
  async function multipart(c: StaffClient, path: string, fields: Record<string, string>, file: { field: string; filename: string; content: Buffer }): Promise<Answer> {
    await page(c);
    const { body, contentType } = multipartBody({ _csrf: c.csrf(), ...fields }, [file]);
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${app.baseUrl}${path}`, { method: 'POST', body: new Uint8Array(body), redirect: 'manual', headers: { cookie, 'content-type': contentType } });
    return { status: response.status, location: response.headers.get('location'), html: await response.text(), headers: response.headers };
  }
  const campaign = (slug: string) => ({ ...demoCampaign, slug, name: `Walk ${slug}` });
  const linkId = async (slug: string) => (await app.services.db.campaigns.findOne({ slug }).lean())!.unionLinks.at(-1)!.id;

  /** A clip in review with a clean master (its preview stands in for it): what face protection is drawn from. */
  async function clipWithMaster(): Promise<string> {
    const { id } = await clipInReview(app);
    const stored = (await app.services.db.submissions.findById(id).lean())!;
    await app.services.db.submissions.updateOne({ _id: id }, { $set: { 'outputs.master': stored.outputs.preview } });
    return id;
  }

  /** How to make each route do its work once, as a person would. A route missing here fails the test. */
  const ROUTES: Record<string, () => Promise<Answer>> = {
    'POST /staff/login': async () => {
      const social = await makeStaff(app, clock.now, 'social');
      const c = new StaffClient(app.baseUrl);
      await c.get('/staff/login');
      return c.post('/staff/login', { email: social.email, password: social.password });
    },
    'POST /staff/login/code': async () => {
      const c = new StaffClient(app.baseUrl);
      await c.get('/staff/login');
      await c.post('/staff/login', { email: admin.email, password: admin.password });
      await c.get('/staff/login/code');
      clock.advance(60_000);
      return c.post('/staff/login/code', { code: hotp(base32Decode(admin.secret!), totpStep(clock.now())) });
    },
    'POST /staff/totp/enrol': async () => {
      const moderator = await makeStaff(app, clock.now, 'moderator', { totp: false });
      const c = new StaffClient(app.baseUrl);
      await c.get('/staff/login');
      await c.post('/staff/login', { email: moderator.email, password: moderator.password });
      const enrol = await c.get('/staff/totp/enrol');
      const secret = /data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(enrol.html)?.[1] ?? /secret=([A-Z2-7]+)/.exec(enrol.html)?.[1] ?? '';
      return c.post('/staff/totp/enrol', { code: hotp(base32Decode(secret.replace(/\s/g, '')), totpStep(clock.now())) });
    },
    'POST /staff/logout': async () => {
      const c = await loginAs(app, clock, await makeStaff(app, clock.now, 'social'));
      return c.post('/staff/logout', {});
    },
    'POST /staff/invite/:token': async () => {
      const { token } = await createInvite(app.services.db, app.config.staff, { id: admin.user._id.toHexString(), email: admin.email }, { email: `walk-${Date.now()}@example.org`, role: 'social', campaigns: [] }, clock.now());
      const c = new StaffClient(app.baseUrl);
      await c.get(`/staff/invite/${token}`);
      return c.post(`/staff/invite/${token}`, { password: 'a long walk password', repeat: 'a long walk password' });
    },
    'POST /staff/admin/invites': async () => (await page(), client.post('/staff/admin/invites', { email: `invited-${Date.now()}@example.org`, role: 'moderator', campaigns: '' })),
    'POST /staff/admin/staff/:id/role': async () => {
      const other = await makeStaff(app, clock.now, 'social');
      await page();
      return client.post(`/staff/admin/staff/${other.user._id.toHexString()}/role`, { role: 'moderator', campaigns: '' });
    },
    'POST /staff/admin/staff/:id/access': async () => {
      const other = await makeStaff(app, clock.now, 'social');
      await page();
      return client.post(`/staff/admin/staff/${other.user._id.toHexString()}/access`, { disabled: 'true' });
    },
    'POST /staff/admin/staff/:id/unlock': async () => {
      const other = await makeStaff(app, clock.now, 'social');
      await app.services.db.staffUsers.updateOne({ _id: other.user._id }, { $set: { lockedUntil: new Date(clock.now().getTime() + 3600_000) } });
      await page();
      return client.post(`/staff/admin/staff/${other.user._id.toHexString()}/unlock`, {});
    },
    'POST /staff/admin/campaigns': async () => (await page(), client.post('/staff/admin/campaigns', { campaign: JSON.stringify(campaign('walk-page')) })),
    'POST /staff/admin/campaigns/:slug': async () => (await page(), client.post('/staff/admin/campaigns/other', { name: 'Demo renamed', status: 'open', languages: 'be ru uk en' })),
    'POST /staff/admin/campaigns/:slug/logo': () => multipart(client, '/staff/admin/campaigns/other/logo', {}, { field: 'logo', filename: 'logo.png', content: makePng(16, 16) }),
    'POST /staff/admin/campaigns/:slug/consent': async () => (await page(), client.post('/staff/admin/campaigns/other/consent', { consent: JSON.stringify(demoCampaign.consent) })),
    'POST /staff/admin/campaigns/:slug/links': async () => (await page(), client.post('/staff/admin/campaigns/other/links', { organisation: 'Miners', country: 'BY' })),
    'POST /staff/admin/campaigns/:slug/links/:linkId/revoke': async () => (await page(), client.post(`/staff/admin/campaigns/other/links/${await linkId('other')}/revoke`, {})),
    'POST /staff/api/campaigns': async () => (await page(), json(client, '/staff/api/campaigns', campaign('walk-api'))),
    'POST /staff/api/campaigns/:slug': async () => (await page(), json(client, '/staff/api/campaigns/other', { name: 'Demo by the API' })),
    'POST /staff/api/campaigns/:slug/consent': async () => (await page(), json(client, '/staff/api/campaigns/other/consent', { consent: demoCampaign.consent })),
    'POST /staff/api/campaigns/:slug/logo': () => multipart(client, '/staff/api/campaigns/other/logo', {}, { field: 'logo', filename: 'logo.png', content: makePng(20, 20) }),
    'POST /staff/api/campaigns/:slug/links': async () => (await page(), json(client, '/staff/api/campaigns/other/links', { organisation: 'Teachers', country: 'UA' })),
    'POST /staff/api/campaigns/:slug/links/:linkId/revoke': async () => (await page(), json(client, `/staff/api/campaigns/other/links/${await linkId('other')}/revoke`, {})),
    'POST /staff/admin/feeds': async () => (await page(), client.post('/staff/admin/feeds', { campaign: 'demo', team: 'Social team', use: 'social' })),
    'POST /staff/admin/feeds/:id/revoke': async () => {
      const feed = (await app.services.db.feedTokens.findOne({ revokedAt: null }).lean())!;
      await page();
      return client.post(`/staff/admin/feeds/${feed._id.toHexString()}/revoke`, {});
    },
    'POST /staff/admin/webhooks': async () => (await page(), client.post('/staff/admin/webhooks', { campaign: 'demo', team: 'Social team', use: 'social', url: 'http://127.0.0.1:9/clips' })),
    'POST /staff/admin/webhooks/:id/disable': async () => {
      const hook = (await app.services.db.webhooks.findOne({ disabledAt: null }).lean())!;
      await page();
      return client.post(`/staff/admin/webhooks/${hook._id.toHexString()}/disable`, {});
    },
    'POST /staff/review/:id/claim': async () => (await page(), client.post(`/staff/review/${(await clipInReview(app)).id}/claim`, {})),
    'POST /staff/review/:id/approve': async () => {
      const { id } = await clipInReview(app);
      await client.post(`/staff/review/${id}/claim`, { _csrf: (await page(), client.csrf()) });
      return client.post(`/staff/review/${id}/approve`, Object.fromEntries(CHECKLIST.map((item) => [item, 'clear'])));
    },
    'POST /staff/review/:id/reject': async () => (await page(), client.post(`/staff/review/${(await clipInReview(app)).id}/reject`, { template: 'identifiable', note: '' })),
    'POST /staff/review/:id/undo': async () => {
      // Approved through the state operation itself (no audit entry of its own), so the entry counted is the undo's.
      const { id } = await clipInReview(app);
      await approve(app.services.db.submissions, id, { by: admin.user._id.toHexString() });
      await page();
      return client.post(`/staff/review/${id}/undo`, {});
    },
    'POST /staff/review/:id/withdraw': async () => (await page(), client.post(`/staff/review/${(await clipInReview(app)).id}/withdraw`, { confirm: 'yes', reason: 'asked by the union' })),
    'POST /staff/queue/bulk': async () => (await page(), client.post('/staff/queue/bulk', { ids: (await clipInReview(app)).id, action: 'reject', template: 'identifiable' })),
    'POST /staff/review/:id/captions': async () => (await page(), client.post(`/staff/review/${(await clipInReview(app)).id}/captions`, { lang: 'be', start: '00:00.000', end: '00:01.500', text: 'Салідарнасць' })),
    'POST /staff/review/:id/captions/upload': async () => {
      const { id } = await clipInReview(app);
      return multipart(client, `/staff/review/${id}/captions/upload`, { lang: 'be' }, { field: 'file', filename: 'captions.srt', content: Buffer.from('1\n00:00:00,000 --> 00:00:01,500\nСалідарнасць\n') });
    },
    'POST /staff/review/:id/protect': async () => (await page(), client.post(`/staff/review/${await clipWithMaster()}/protect`, {})),
    'POST /staff/review/:id/faces': async () => {
      const id = await clipWithMaster();
      const db = app.services.db;
      await db.submissions.updateOne({ _id: id }, { $set: { protection: { face: true, voice: false, card: false, by: 'contributor', at: new Date() }, 'outputs.protectedMaster': (await db.submissions.findById(id).lean())!.outputs.preview } });
      await db.faceTracks.create({ _id: id, detector: { name: 'walk', version: '1', settings: {} }, settings: { detectFps: 5, frameFps: 25, margin: 0.3, holdSeconds: 0.25, maxGapSeconds: 0.6 }, width: 320, height: 240, durationSeconds: 2, masks: [], version: 1, renderedVersion: 1 });
      await page();
      return client.post(`/staff/review/${id}/faces`, { version: '1', boxId: '', boxStart: '0', boxEnd: '1', boxX: '10', boxY: '10', boxW: '20', boxH: '20' });
    },
    // Action reports (issue 18).
    'POST /staff/review/reports/:id/claim': async () => (await page(), client.post(`/staff/review/reports/${(await reportInReview(app)).id}/claim`, {})),
    'POST /staff/review/reports/:id/approve': async () => {
      const made = await reportInReview(app);
      await page();
      return client.post(`/staff/review/reports/${made.id}/approve`, clearChecklist(made.photoIds));
    },
    'POST /staff/review/reports/:id/reject': async () => (await page(), client.post(`/staff/review/reports/${(await reportInReview(app)).id}/reject`, { template: 'identifiable', note: '' })),
    'POST /staff/review/reports/:id/photos/:photoId/mask': async () => {
      const made = await reportInReview(app);
      await page();
      return client.post(`/staff/review/reports/${made.id}/photos/${made.photoIds[0]!}/mask`, { x: '0', y: '0', w: '50', h: '50' });
    },
    'POST /staff/review/reports/:id/withdraw': async () => (await page(), client.post(`/staff/review/reports/${(await reportInReview(app)).id}/withdraw`, { confirm: 'yes', reason: 'asked by the union' })),
    'POST /staff/review/reports/:id/photos/:photoId/exclude': async () => {
      const made = await reportInReview(app);
      await page();
      return client.post(`/staff/review/reports/${made.id}/photos/${made.photoIds[0]!}/exclude`, { excluded: 'yes' });
    },
    'POST /staff/review/:id/original': async () => {
      const { id } = await clipInReview(app);
      await page();
      return client.post(`/staff/review/${id}/original`, {});
    },
  };

  test('the walk finds the state-changing routes, and each one, done once, appends to the audit log', async () => {
    const walked = stateChangingRoutes(createApp(app.deps));
    expect(walked.length).toBeGreaterThanOrEqual(30);
    // A new route must be added to the table (and so be audited).
    expect(walked.filter((route) => !Object.hasOwn(ROUTES, route) && !Object.hasOwn(NOTHING_STORED, route))).toEqual([]);
    const unaudited: string[] = [];
    for (const route of walked.filter((r) => !Object.hasOwn(NOTHING_STORED, r))) {
      const before = await entries();
      const answer = await ROUTES[route]!();
      expect([route, answer.status < 400 ? "ok" : `${answer.status} ${answer.html.slice(0, 300)}`]).toEqual([route, "ok"]);
      // A download is logged once its last byte was handed to the connection: a moment after the client has it.
      const audited = await waitUntil(async () => (await entries()) > before, { timeoutMs: 2_000, intervalMs: 20, what: `an audit entry for ${route}` }).catch(() => false);
      if (!audited) unaudited.push(route);
    }
    expect(unaudited).toEqual([]);
  });

  test('every CLI command that changes something appends to the audit log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-walk-'));
    const file = async (name: string, content: string | Buffer) => {
      await writeFile(join(dir, name), content);
      return join(dir, name);
    };
    const failed = await clipInReview(app);
    await app.services.db.submissions.updateOne({ _id: failed.id }, { $set: { status: 'failed' } });
    const png = await file('brand.png', makePng(32, 32));
    await runCli(['campaigns', 'link', 'other', 'Nurses', 'PL'], app.services, () => undefined, { config: app.config });
    const locked = await makeStaff(app, clock.now, 'moderator', { email: 'locked-cli@example.org' });
    await app.services.db.staffUsers.updateOne({ _id: locked.user._id }, { $set: { lockedUntil: new Date(Date.now() + 3600_000) } });
    const COMMANDS: Record<string, () => Promise<string[]>> = {
      'campaigns create': async () => ['campaigns', 'create', await file('c.json', JSON.stringify(campaign('walk-cli')))],
      'campaigns update': async () => ['campaigns', 'update', 'other', await file('u.json', JSON.stringify({ name: 'Demo by the CLI' }))],
      'campaigns consent': async () => ['campaigns', 'consent', 'other', await file('consent.json', JSON.stringify(demoCampaign.consent))],
      'campaigns logo': async () => ['campaigns', 'logo', 'other', png],
      'campaigns open': async () => ['campaigns', 'open', 'other'],
      'campaigns close': async () => ['campaigns', 'close', 'other'],
      'campaigns link': async () => ['campaigns', 'link', 'other', 'Dockers', 'DE'],
      'campaigns revoke-link': async () => ['campaigns', 'revoke-link', 'other', await linkId('other')],
      'campaigns set-watermark': async () => ['campaigns', 'set-watermark', 'other', png],
      'campaigns set-end-card': async () => ['campaigns', 'set-end-card', 'other', png, '2'],
      'campaigns clear-watermark': async () => ['campaigns', 'clear-watermark', 'other'],
      'campaigns clear-end-card': async () => ['campaigns', 'clear-end-card', 'other'],
      'submissions requeue': async () => ['submissions', 'requeue', failed.id],
      'reports rebuild-tallies': async () => ['reports', 'rebuild-tallies', 'demo'],
      'staff create-admin': async () => ['staff', 'create-admin', 'cli-admin@example.org'],
      'staff reset-2fa': async () => ['staff', 'reset-2fa', admin.email],
      'staff unlock': async () => ['staff', 'unlock', 'locked-cli@example.org'],
      'backup --out': async () => ['backup', '--out', join(dir, 'backup'), '--objects', 'list'],
    };
    const commands = cliCommands();
    expect(commands.length).toBeGreaterThanOrEqual(20);
    // Every command is either a change (in the table) or a read, by name: a new command must be put in one.
    expect(commands.filter((c) => !Object.hasOwn(COMMANDS, c) && !CLI_READS.includes(c) && !Object.hasOwn(CLI_AUDITED_ELSEWHERE, c) && !Object.hasOwn(CLI_FILES_ONLY, c))).toEqual([]);
    const unaudited: string[] = [];
    for (const command of commands.filter((c) => Object.hasOwn(COMMANDS, c))) {
      const before = await entries();
      const lines: string[] = [];
      const code = await runCli(await COMMANDS[command]!(), app.services, (line) => lines.push(line), { config: app.config, askSecret: async () => 'a long cli admin password' });
      expect([command, code, lines.join('\n')]).toEqual([command, 0, expect.any(String)]);
      if ((await entries()) <= before) unaudited.push(command);
    }
    expect(unaudited).toEqual([]);
    expect((await runCli(['audit', 'verify'], app.services, () => undefined, { config: app.config }))).toBe(0);
  });
});
