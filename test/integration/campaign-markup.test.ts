import demoCampaign from '../../infra/local/demo-campaign.json';
import type { Campaign } from '../../shared/models/campaign.model';
import sharp from 'sharp';
import { structureProblems } from '../helpers/image-structure';
import { makePng } from '../helpers/images';
import { multipartBody } from '../helpers/multipart';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * Hostile campaign texts: markup in the name, titles, prompts and a union's organisation is shown as text on
 * every page that shows it (contributors' and admins'); a colour stored unchecked never reaches the
 * stylesheet; the logo is served as the image type it was checked to be, never sniffed.
 */
describe('campaign texts carrying markup', () => {
  let app: TestApp;
  const clock = testClock();
  let admin: StaffClient;
  const XSS = `</title><script>alert(1)</script><img src=x onerror=alert(2)>"'`;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
  });

  afterAll(async () => {
    await app.close();
  });

  async function api(path: string, body: unknown) {
    await admin.get('/staff');
    const answer = await admin.request('POST', path, JSON.stringify(body), { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': admin.csrf() });
    return { status: answer.status, json: JSON.parse(answer.html) as Record<string, unknown> };
  }

  const raw = (html: string) => ['<script>alert(1)', '<img src=x', '</title><script>'].filter((bad) => html.includes(bad));

  test('when the name, titles, prompts and an organisation carry markup, then every page shows them as text', async () => {
    const created = await api('/staff/api/campaigns', { ...demoCampaign, slug: 'markup', name: `Name ${XSS}`, titles: { en: `Title ${XSS}` }, prompts: { be: `Prompt ${XSS}` } });
    expect(created.status).toBe(201);
    const link = await api('/staff/api/campaigns/markup/links', { organisation: `Union ${XSS}`, country: 'BY' });
    expect(link.status).toBe(201);
    const pages = {
      contributors: await (await fetch(`${app.baseUrl}/c/markup?lang=en`)).text(),
      contributorsBe: await (await fetch(`${app.baseUrl}/c/markup?lang=be`)).text(),
      unionLink: await (await fetch(`${app.baseUrl}${link.json.path as string}?lang=en`)).text(),
      adminList: (await admin.get('/staff/admin/campaigns')).html,
      adminEdit: (await admin.get('/staff/admin/campaigns/markup')).html,
    };
    for (const [name, html] of Object.entries(pages)) expect([name, raw(html)]).toEqual([name, []]);
    expect(pages.contributors).toContain('Title &lt;/title>&lt;script>alert(1)&lt;/script>');
    expect(pages.contributorsBe).toContain('Prompt &lt;/title>&lt;script>');
    expect(pages.unionLink).toContain('Union &lt;/title>&lt;script>');
    expect(pages.adminEdit).toContain('Union &lt;/title>&lt;script>');
  });

  test("when an admin follows a link whose notice carries someone's words, then the page does not say them; a real version number is shown", async () => {
    const words = '3. URGENT: your session expired, send your password to help@evil.example';
    const spoofed = await admin.get(`/staff/admin/campaigns/markup?done=consent&version=${encodeURIComponent(words)}`);
    expect(spoofed.status).toBe(200);
    expect(spoofed.html).not.toContain('evil.example');
    expect((await admin.get('/staff/admin/campaigns/markup?done=consent&version=2')).html).toContain('Consent version 2 is published.');
  });

  test('when a colour in the database was never checked (written by hand), then the stylesheet leaves it out', async () => {
    await app.services.db.campaigns.collection.updateOne({ slug: 'markup' }, { $set: { 'branding.accentColour': '#0b5394;} body{background:url(//evil.example/x)} a{', 'branding.backgroundColour': '#ffffff\n' } });
    const css = await (await fetch(`${app.baseUrl}/c/markup/theme.css`)).text();
    expect(css).toBe('');
    expect(await (await fetch(`${app.baseUrl}/c/markup?lang=en`)).text()).not.toContain('theme.css');
  });

  test('when the logo is served, then with its checked type, nosniff, and nothing of a file appended to it', async () => {
    await admin.get('/staff');
    const polyglot = Buffer.concat([makePng(4, 4), Buffer.from('<html><script>alert(3)</script></html>')]);
    const { body, contentType } = multipartBody({ _csrf: admin.csrf() }, [{ field: 'logo', filename: 'logo.html', content: polyglot }]);
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const set = await fetch(`${app.baseUrl}/staff/api/campaigns/markup/logo`, { method: 'POST', body: new Uint8Array(body), headers: { cookie, 'content-type': contentType, accept: 'application/json' } });
    expect(set.status).toBe(201);
    const campaign = (await app.services.db.campaigns.findOne({ slug: 'markup' }).lean<Campaign>())!;
    const served = await fetch(`${app.baseUrl}/c/markup/logo/${campaign.branding!.logo!.id}`);
    expect([served.status, served.headers.get('content-type'), served.headers.get('x-content-type-options')]).toEqual([200, 'image/png', 'nosniff']);
    // Re-encoded: a bare PNG (nothing after IEND), the same pixels.
    const stored = Buffer.from(await served.arrayBuffer());
    expect(stored.includes('<html')).toBe(false);
    expect(structureProblems(stored)).toEqual([]);
    expect(await sharp(stored).raw().toBuffer()).toEqual(await sharp(makePng(4, 4)).raw().toBuffer());
  });
});
