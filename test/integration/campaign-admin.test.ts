import { execFile } from 'node:child_process';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createApp } from '../../server/app';
import { runCli } from '../../server/cli/cli';
import { ACCESS } from '../../server/web/staff-route';
import type { Campaign } from '../../shared/models/campaign.model';
import type { AuditEntry } from '../../shared/models/audit-entry.model';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { structureProblems } from '../helpers/image-structure';
import { makeJpegWithExif, makePng, SVG_LOGO } from '../helpers/images';
import { corners, heicFile, phonePhoto, PLACE, QUADRANTS, quadrantsRaw, SECRET, zipWith } from '../helpers/photos';
import { multipartBody } from '../helpers/multipart';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { smallMp4 } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';

const run = (command: string, args: string[]) => promisify(execFile)(command, args, { encoding: 'latin1', maxBuffer: 1 << 20 });

/**
 * Campaigns managed by admins, over HTTP against the real services: the JSON API (and the page's forms
 * where they differ), the checks (specific errors), consent versions, the logo, union links, the audit
 * log, and the contributors' page showing the result. The CLI runs the same services at the end.
 */
describe('campaigns managed by admins', () => {
  let app: TestApp;
  const clock = testClock();
  let adminClient: StaffClient;
  let moderatorClient: StaffClient;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    adminClient = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin', { email: 'ana@example.org' }));
    moderatorClient = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator'));
  });

  afterAll(async () => {
    await app.close();
  });

  async function api(client: StaffClient, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    await client.get('/staff'); // a page of this session, for its CSRF token
    const answer = await client.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
      accept: 'application/json',
      'x-csrf-token': client.csrf(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    return { status: answer.status, json: JSON.parse(answer.html) as Record<string, unknown> };
  }

  async function upload(client: StaffClient, path: string, file: Buffer, name: string, accept = 'application/json') {
    await client.get('/staff');
    const { body, contentType } = multipartBody({ _csrf: client.csrf() }, [{ field: 'logo', filename: name, content: file }]);
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${app.baseUrl}${path}`, { method: 'POST', body: new Uint8Array(body), redirect: 'manual', headers: { cookie, 'content-type': contentType, accept } });
    return { status: response.status, text: await response.text(), location: response.headers.get('location') };
  }

  const load = async (slug: string) => (await app.services.db.campaigns.findOne({ slug }).lean<Campaign>())!;
  const audited = async (action: AuditEntry['action']) => (await app.services.db.auditEntries.find({ action }).lean<AuditEntry[]>()).map((e) => ({ by: e.actor.email, on: e.target?.id, details: e.details }));
  const page = async (path: string, lang: string) => (await fetch(`${app.baseUrl}${path}`, { headers: { 'accept-language': lang } })).text();
  const errorsOf = (json: Record<string, unknown>) => (json.errors as Array<{ field: string; message: string }>).map((e) => `${e.field}: ${e.message}`);

  const newCampaign = {
    ...demoCampaign,
    slug: 'miners',
    name: 'Miners 2026',
    titles: { be: 'Салідарнасць з шахцёрамі', en: 'Solidarity with the miners' },
    prompts: { be: 'Скажыце некалькі слоў падтрымкі.', en: 'Say a few words of support.' },
  };

  test('when a non-admin uses the campaign API, then 403; without the CSRF token, then 403 csrf_invalid', async () => {
    expect((await api(moderatorClient, 'GET', '/staff/api/campaigns')).status).toBe(403);
    const post = await api(moderatorClient, 'POST', '/staff/api/campaigns', newCampaign);
    expect([post.status, post.json.code]).toEqual([403, 'forbidden']);
    const noToken = await adminClient.request('POST', '/staff/api/campaigns', JSON.stringify(newCampaign), { accept: 'application/json', 'content-type': 'application/json' });
    expect([noToken.status, JSON.parse(noToken.html).code]).toEqual([403, 'csrf_invalid']);
    expect(await app.services.db.campaigns.countDocuments({ slug: 'miners' })).toBe(0);
  });

  test.each([
    ['a consent text missing for a language', { languages: ['be', 'ru', 'uk', 'en', 'pl'] }, 'consent: no consent text in "pl", one of the campaign\'s languages'],
    ['a title in a language not offered', { titles: { de: 'Solidarität' } }, 'titles.de: "de" is not one of the campaign\'s languages (be, ru, uk, en)'],
    ['a colour that is not hex', { accentColour: 'red' }, 'accentColour: a colour is written #rrggbb, e.g. #a3001a'],
    ['an accent white text cannot be read on', { accentColour: '#ffcc00' }, 'accentColour: too little contrast for white button text on the accent colour: 1.51:1 (#ffffff on #ffcc00); at least 4.5:1 is needed to be readable'],
    ['closing before opening', { opensAt: '2026-06-01T00:00:00Z', closesAt: '2026-05-01T00:00:00Z' }, 'closesAt: closesAt must be after opensAt'],
    ['an unknown field', { logoUrl: 'https://cdn.example/logo.svg' }, '(body): Unrecognized key: "logoUrl"'],
  ])('when a campaign is created with %s, then 400 invalid_campaign names the field and the problem', async (_what, change, expected) => {
    const answer = await api(adminClient, 'POST', '/staff/api/campaigns', { ...newCampaign, ...change });
    expect([answer.status, answer.json.code]).toEqual([400, 'invalid_campaign']);
    expect(errorsOf(answer.json)).toContain(expected);
  });

  test('when an admin creates a campaign, then it is stored, audited, and its page shows its title and prompt in the language; the same slug again is 409', async () => {
    const created = await api(adminClient, 'POST', '/staff/api/campaigns', newCampaign);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ slug: 'miners', titles: newCampaign.titles, branding: { logo: null, accentColour: null }, consentVersions: [{ version: 1 }] });
    expect(await audited('campaign_created')).toEqual([{ by: 'ana@example.org', on: 'miners', details: { languages: ['be', 'ru', 'uk', 'en'], status: 'open' } }]);
    const be = await page('/c/miners', 'be');
    expect(be).toContain('<h1>Салідарнасць з шахцёрамі</h1>');
    expect(be).toContain('Скажыце некалькі слоў падтрымкі.');
    // Russian has no title: the first language's (Belarusian) is shown, not an empty heading.
    expect(await page('/c/miners?lang=ru', 'ru')).toContain('<h1 lang="be">Салідарнасць з шахцёрамі</h1>');
    expect(await page('/c/miners?lang=en', 'en')).toContain('<h1>Solidarity with the miners</h1>');
    const again = await api(adminClient, 'POST', '/staff/api/campaigns', newCampaign);
    expect([again.status, again.json.code]).toEqual([409, 'campaign_exists']);
  });

  test('when fields are updated, then only those change; consent is refused as a field; a language without consent text is refused', async () => {
    const before = await load('miners');
    const updated = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { titles: { be: 'Новая назва', en: 'New title' }, closesAt: '2030-01-01T00:00:00Z', hashtags: ['Miners', '#Solidarity'] });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ titles: { be: 'Новая назва', en: 'New title' }, prompts: newCampaign.prompts, closesAt: '2030-01-01T00:00:00.000Z', hashtags: ['#Miners', '#Solidarity'], status: 'open' });
    expect((await load('miners')).consentVersions).toEqual(before.consentVersions);
    expect(await audited('campaign_updated')).toEqual([{ by: 'ana@example.org', on: 'miners', details: { fields: ['closesAt', 'hashtags', 'titles'] } }]);

    const consent = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { consent: [] });
    expect([consent.status, consent.json.code]).toEqual([400, 'invalid_campaign']);
    expect(errorsOf(consent.json)[0]).toMatch(/^consent: consent is never edited: publish a new consent version/);
    const language = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { languages: ['be', 'pl'] });
    expect(errorsOf(language.json)).toContain('languages: the current consent (version 1) has no text in "pl": publish a consent version with it first');
    const empty = await api(adminClient, 'POST', '/staff/api/campaigns/miners', {});
    expect(errorsOf(empty.json)).toEqual(['(body): nothing to change: give at least one field']);
    const closed = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { status: 'closed' });
    expect(closed.json.open).toBe(false);
    expect(await page('/c/miners', 'en')).toContain('data-testid="closed"');
    await api(adminClient, 'POST', '/staff/api/campaigns/miners', { status: 'open' });
  });

  test('when colours are set, then the page links a stylesheet of this server with them; low contrast is refused with the ratio', async () => {
    const low = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { backgroundColour: '#333333' });
    expect(errorsOf(low.json)).toContain('backgroundColour: too little contrast for text on the background: 1.43:1 (#16161a on #333333); at least 4.5:1 is needed to be readable');
    const ok = await api(adminClient, 'POST', '/staff/api/campaigns/miners', { accentColour: '#0B5394', backgroundColour: '#FFF8E7' });
    expect(ok.json.branding).toMatchObject({ accentColour: '#0b5394', backgroundColour: '#fff8e7' });
    const html = await page('/c/miners', 'en');
    const href = /<link rel="stylesheet" href="(\/c\/miners\/theme\.css\?v=[0-9a-f]{8})"\/>/.exec(html)?.[1];
    expect(href).toBeDefined();
    const css = await fetch(`${app.baseUrl}${href}`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toBe(':root { --accent: #0b5394; --bg: #fff8e7; }\n');
    // The campaign without colours links no stylesheet of its own.
    expect(await page('/c/demo', 'en')).not.toContain('theme.css');
  });

  test('when a JPEG logo with EXIF is uploaded, then it is stored without the EXIF, served by this server, and shown on the page; SVG and text are refused clearly', async () => {
    const jpeg = await makeJpegWithExif(120, 60, 'GPS 53.90 27.56 Minsk');
    const set = await upload(adminClient, '/staff/api/campaigns/miners/logo', jpeg, 'logo.jpg');
    expect(set.status).toBe(201);
    const branding = JSON.parse(set.text) as { logo: { url: string; width: number; height: number; contentType: string } };
    expect(branding.logo).toMatchObject({ width: 120, height: 60, contentType: 'image/jpeg' });
    const served = await fetch(`${app.baseUrl}${branding.logo.url}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(bytes.includes('Minsk')).toBe(false);
    expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    // What is served still decodes, whole: ffmpeg reads every pixel of it without a complaint.
    const file = join(await mkdtemp(join(tmpdir(), 'logo-')), 'served.jpg');
    await writeFile(file, bytes);
    const decoded = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect(decoded.stderr).toBe('');
    expect(Buffer.byteLength(decoded.stdout, 'latin1')).toBe(120 * 60 * 3);
    const html = await page('/c/miners', 'be');
    expect(html).toContain(`<img class="logo" src="${branding.logo.url}" width="120" height="60" alt data-testid="logo"/>`);
    expect(await audited('campaign_logo_set')).toEqual([{ by: 'ana@example.org', on: 'miners', details: { type: 'image/jpeg', bytes: bytes.length, width: 120, height: 60 } }]);

    const svg = await upload(adminClient, '/staff/api/campaigns/miners/logo', SVG_LOGO, 'logo.png');
    expect([svg.status, JSON.parse(svg.text).code, JSON.parse(svg.text).title]).toEqual([415, 'logo_unsupported_type', 'SVG logos are refused: an SVG file can carry script. Please send the logo as PNG, JPEG or WebP.']);
    const text = await upload(adminClient, '/staff/api/campaigns/miners/logo', Buffer.from('just some words'), 'logo.webp');
    expect([text.status, JSON.parse(text.text).code]).toEqual([415, 'logo_unsupported_type']);
    // On the page, the refusal is shown beside the logo form; the logo is unchanged.
    const onPage = await upload(adminClient, '/staff/admin/campaigns/miners/logo', SVG_LOGO, 'logo.svg', 'text/html');
    expect(onPage.status).toBe(415);
    expect(onPage.text).toContain('The logo must be a PNG, JPEG or WebP image. SVG is refused: it can carry script.');
    expect((await load('miners')).branding!.logo!.contentType).toBe('image/jpeg');
    // A new logo replaces the old one, whose address then answers 404 and whose object is gone.
    const png = await upload(adminClient, '/staff/admin/campaigns/miners/logo', makePng(32, 32, { text: 'secret' }), 'logo.png', 'text/html');
    expect([png.status, png.location]).toEqual([303, '/staff/admin/campaigns/miners?done=logo#logo']);
    expect((await fetch(`${app.baseUrl}${branding.logo.url}`)).status).toBe(404);
    expect(await app.services.storage.list(`campaigns/${(await load('miners'))._id.toHexString()}/`)).toHaveLength(1);
  });

  test('when a logo from a phone carries GPS, a maker note, a thumbnail, XMP with a place, is turned by EXIF and has a ZIP appended, then what is stored and served is a bare upright JPEG', async () => {
    const input = Buffer.concat([await phonePhoto(quadrantsRaw(96, 64), 6), zipWith('where.txt', `${SECRET} ${PLACE}`)]);
    expect(input.length).toBeLessThan(100 * 1024);
    const set = await upload(adminClient, '/staff/api/campaigns/miners/logo', input, 'logo.jpg');
    expect(set.status).toBe(201);
    const branding = JSON.parse(set.text) as { logo: { url: string; width: number; height: number; contentType: string; bytes: number } };
    expect(branding.logo).toMatchObject({ width: 96, height: 64, contentType: 'image/jpeg' });
    const served = Buffer.from(await (await fetch(`${app.baseUrl}${branding.logo.url}`)).arrayBuffer());
    expect(served.length).toBe(branding.logo.bytes);
    // Its bytes walked: SOI, JFIF without a thumbnail, tables, one frame, one scan, EOI, nothing after.
    expect(structureProblems(served)).toEqual([]);
    for (const secret of [SECRET, PLACE, 'Pixel 8', 'Exif', 'http://ns.adobe.com', 'Photoshop', 'PK']) expect(served.includes(secret)).toBe(false);
    const c = await corners(served);
    expect([c.width, c.height]).toEqual([96, 64]);
    expect(c.topLeft.every((v, i) => Math.abs(v - QUADRANTS.topLeft[i]!) <= 30) && c.bottomRight.every((v, i) => Math.abs(v - QUADRANTS.bottomRight[i]!) <= 30)).toBe(true);
    // ffmpeg (the protected clips' card, the end card) reads every pixel of it without a complaint.
    const file = join(await mkdtemp(join(tmpdir(), 'logo-')), 'card-image');
    await writeFile(file, served);
    const decoded = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect([decoded.stderr, Buffer.byteLength(decoded.stdout, 'latin1')]).toEqual(['', 96 * 64 * 3]);
    // A HEIC from an iPhone is refused with its reason.
    const heic = await upload(adminClient, '/staff/api/campaigns/miners/logo', await heicFile(), 'logo.heic');
    expect([heic.status, JSON.parse(heic.text).code, JSON.parse(heic.text).title]).toEqual([415, 'logo_unsupported_type', 'HEIC/HEIF images cannot be read here. Please send the logo as PNG, JPEG or WebP.']);
  });

  test('when a consent version is published, then a clip sent under v1 still shows v1 to moderators, v1 is unchanged, and new uploads need v2', async () => {
    const v1Clip = await clipInReview(app, { language: 'be' });
    const v1 = (await load('demo')).consentVersions[0];
    const v2Texts = demoCampaign.consent.map((text) => ({ ...text, statements: text.statements.map((s) => ({ ...s, text: `${s.text} (v2)` })) }));
    const bad = await api(adminClient, 'POST', '/staff/api/campaigns/demo/consent', { consent: v2Texts.filter((t) => t.language !== 'uk') });
    expect(errorsOf(bad.json)).toEqual(['consent: no consent text in "uk", one of the campaign\'s languages']);
    const published = await api(adminClient, 'POST', '/staff/api/campaigns/demo/consent', { consent: v2Texts });
    expect(published.status).toBe(201);
    expect(published.json.version).toBe(2);

    const after = await load('demo');
    expect(after.consentVersions.map((v) => v.version)).toEqual([1, 2]);
    expect(after.consentVersions[0]).toEqual(v1);
    // The review page shows what the contributor agreed to: version 1's words, not version 2's.
    await adminClient.get(`/staff/review/${v1Clip.id}`);
    const consentList = /<ul lang="be" data-testid="consent">([\s\S]*?)<\/ul>/.exec(adminClient.lastHtml)![1]!;
    const beV1 = demoCampaign.consent.find((t) => t.language === 'be')!.statements[0]!.text;
    expect(consentList).toContain(beV1);
    expect(consentList).not.toContain('(v2)');
    // Uploads: version 1 is now outdated; version 2 is taken; the page offers version 2.
    const send = (version: number) =>
      smallMp4().then((video) => postMultipart(`${app.baseUrl}/api/submissions`, { campaign: 'demo', organisation: 'U', country: 'BY', language: 'en', title: 'x', consent: demoConsent('en', ['record', 'publish', 'risk'], version) }, [{ field: 'video', filename: 'a.mp4', content: video }]));
    expect(((await send(1)).json as { code: string }).code).toBe('consent_outdated');
    expect((await send(2)).status).toBe(202);
    expect(await page('/c/demo?lang=en', 'en')).toContain(`${demoCampaign.consent[0]!.statements[0]!.text} (v2)`);
    expect(await audited('consent_published')).toEqual([{ by: 'ana@example.org', on: 'demo', details: { version: 2, languages: ['en', 'be', 'ru', 'uk'] } }]);
  });

  test('when two consent versions are published at once, then they get different numbers', async () => {
    const texts = demoCampaign.consent;
    const [a, b] = await Promise.all([api(adminClient, 'POST', '/staff/api/campaigns/demo/consent', { consent: texts }), api(adminClient, 'POST', '/staff/api/campaigns/demo/consent', { consent: texts })]);
    expect([a.status, b.status].sort()).toEqual([201, 201]);
    expect([a.json.version, b.json.version].sort()).toEqual([3, 4]);
    expect((await load('demo')).consentVersions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });

  test('when a union link is made through the API, then its URL is given once and works; revoked, its page is refused; both are audited', async () => {
    const made = await api(adminClient, 'POST', '/staff/api/campaigns/miners/links', { organisation: 'Незалежны прафсаюз гарнякоў', country: 'by' });
    expect(made.status).toBe(201);
    const url = made.json.url as string;
    expect(url).toMatch(new RegExp(`^${app.baseUrl}/c/miners/u/[\\w-]{24}$`));
    expect(await page(new URL(url).pathname, 'be')).toContain('<bdi>Незалежны прафсаюз гарнякоў</bdi> · BY'); // isolated
    const listed = await api(adminClient, 'GET', '/staff/api/campaigns/miners');
    expect(JSON.stringify(listed.json)).not.toContain('tokenHash');
    expect(JSON.stringify(listed.json)).not.toContain(new URL(url).pathname.split('/').pop());
    const bad = await api(adminClient, 'POST', '/staff/api/campaigns/miners/links', { organisation: 'X', country: 'Belarus' });
    expect(bad.status).toBe(400);
    const revoked = await api(adminClient, 'POST', `/staff/api/campaigns/miners/links/${made.json.id as string}/revoke`);
    expect(revoked.status).toBe(200);
    expect((await fetch(url)).status).toBe(403);
    expect((await api(adminClient, 'POST', '/staff/api/campaigns/miners/links/000000000000/revoke')).json.code).toBe('link_not_found');
    expect((await audited('union_link_created')).at(-1)).toMatchObject({ by: 'ana@example.org', on: 'miners', details: { country: 'BY' } });
    expect((await audited('union_link_revoked')).at(-1)).toMatchObject({ by: 'ana@example.org', on: 'miners', details: { link: made.json.id } });
  });

  test('when the admin page is used, then a field change and a union link go through the same checks, and the link is shown once', async () => {
    await adminClient.get('/staff/admin/campaigns');
    expect(adminClient.lastHtml).toContain('href="/staff/admin/campaigns/miners"');
    await adminClient.get('/staff/admin/campaigns/miners');
    const form = { name: 'Miners 2026', status: 'open', languages: 'be, ru, uk, en', 'title.be': 'Загаловак', 'title.en': 'Heading', 'prompt.be': 'Пра што', opensAt: '', closesAt: '2030-01-01T00:00', hashtags: '#Miners', accentColour: '#ffcc00', backgroundColour: '' };
    const refused = await adminClient.post('/staff/admin/campaigns/miners', form);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('too little contrast for white button text on the accent colour');
    const saved = await adminClient.post('/staff/admin/campaigns/miners', { ...form, accentColour: '#0b5394' });
    expect([saved.status, saved.location]).toEqual([303, '/staff/admin/campaigns/miners?done=saved']);
    const campaign = await load('miners');
    expect(campaign.titles).toEqual([{ language: 'be', text: 'Загаловак' }, { language: 'en', text: 'Heading' }]);
    expect(campaign.prompts).toEqual([{ language: 'be', text: 'Пра што' }]);
    expect(campaign.closesAt).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(campaign.branding).toMatchObject({ accentColour: '#0b5394', backgroundColour: null });

    const missing = await adminClient.get('/staff/admin/campaigns/no-such-one');
    expect([missing.status, missing.html.includes('There is no campaign &quot;no-such-one&quot;.')]).toEqual([404, true]);
    await adminClient.get('/staff/admin/campaigns/miners');
    const link = await adminClient.post('/staff/admin/campaigns/miners/links', { organisation: 'Union of Radio Workers', country: 'UA' });
    expect(link.status).toBe(201);
    const shown = /data-testid="union-link">([^<]+)</.exec(link.html)![1]!;
    expect(shown).toMatch(/\/c\/miners\/u\//);
    await adminClient.get('/staff/admin/campaigns/miners');
    expect(adminClient.lastHtml).not.toContain(shown);
  });

  test('when the router is walked, then every campaign API route is in the OpenAPI document with its method, and admin-only', async () => {
    interface Layer { route?: { path: string; methods: Record<string, boolean> } & Record<symbol, unknown>; handle?: { stack?: Layer[] } }
    const found: string[] = [];
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route?.path.startsWith('/staff/api/campaigns')) {
          for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')} ${JSON.stringify(layer.route[ACCESS])}`);
        } else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((createApp(app.deps) as unknown as { router: { stack: Layer[] } }).router.stack);
    const doc = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const described = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/staff/api/campaigns'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path} {"roles":["admin"]}`));
    expect(found.sort()).toEqual(described.sort());
    expect(found.length).toBe(8);
  });

  test('when a campaign in the database predates titles and branding, then its page, its API and an update still work', async () => {
    const { _id: _drop, ...old } = (await load('demo'));
    const raw = { ...old, slug: 'old-one', unionLinks: [] } as Record<string, unknown>;
    delete raw.titles;
    delete raw.prompts;
    delete raw.branding;
    await app.services.db.campaigns.collection.insertOne(raw);
    expect(await page('/c/old-one?lang=en', 'en')).toContain(`<h1>${demoCampaign.name}</h1>`);
    const read = await fetch(`${app.baseUrl}/api/campaigns/old-one`);
    expect(await read.json()).toMatchObject({ titles: {}, branding: { logo: null, accentColour: null } });
    const changed = await api(adminClient, 'POST', '/staff/api/campaigns/old-one', { accentColour: '#0b5394', titles: { en: 'Old, renamed' } });
    expect(changed.status).toBe(200);
    expect(await page('/c/old-one?lang=en', 'en')).toContain('<h1>Old, renamed</h1>');
  });

  test('when the command line updates, publishes consent, sets a logo, opens and closes, then the same checks apply and each is audited', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'campaign-cli-'));
    const lines: string[] = [];
    const cli = (...args: string[]) => runCli(args, app.services, (line) => lines.push(line), { config: app.config });
    await writeFile(join(dir, 'change.json'), JSON.stringify({ titles: { be: 'З каманднага радка' } }));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ accentColour: '#ffff00' }));
    await writeFile(join(dir, 'consent.json'), JSON.stringify(demoCampaign.consent));
    await writeFile(join(dir, 'logo.png'), makePng(16, 16));
    await writeFile(join(dir, 'logo.svg'), SVG_LOGO);
    expect(await cli('campaigns', 'update', 'miners', join(dir, 'change.json'))).toBe(0);
    await expect(cli('campaigns', 'update', 'miners', join(dir, 'bad.json'))).rejects.toThrow(/accentColour: too little contrast/);
    expect(await cli('campaigns', 'consent', 'miners', join(dir, 'consent.json'))).toBe(0);
    expect(lines.at(-1)).toBe('published consent version 2 of "miners" (en, be, ru, uk)');
    expect(await cli('campaigns', 'logo', 'miners', join(dir, 'logo.png'))).toBe(0);
    await expect(cli('campaigns', 'logo', 'miners', join(dir, 'logo.svg'))).rejects.toThrow(/SVG logos are refused/);
    expect(await cli('campaigns', 'close', 'miners')).toBe(0);
    expect((await load('miners')).status).toBe('closed');
    expect(await cli('campaigns', 'open', 'miners')).toBe(0);
    expect(await cli('campaigns', 'show', 'miners')).toBe(0);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ slug: 'miners', status: 'open', titles: { be: 'З каманднага радка' } });
    const byCli = (await app.services.db.auditEntries.find({ 'actor.email': 'command line' }).lean<AuditEntry[]>()).map((e) => e.action);
    expect(byCli.filter((action) => action !== 'admin_created')).toEqual(['campaign_updated', 'consent_published', 'campaign_logo_set', 'campaign_updated', 'campaign_updated']);
  });
});
