import { request } from 'node:http';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** A request with any Host (fetch will not send one of its own choosing), as the signed-in admin. */
function raw(app: TestApp, client: StaffClient, method: string, path: string, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${app.baseUrl}${path}`, { method, agent: false, headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('links made without PUBLIC_URL (development)', () => {
  const clock = testClock();
  let app: TestApp;
  let admin: StaffClient;
  let own: string;
  const spoofed = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    expect(app.config.http.publicUrl).toBeUndefined();
    await seedDemoCampaign(app.deps);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
    own = app.baseUrl; // http://127.0.0.1:<port>: where this server listens
  });

  afterAll(async () => {
    await app.close();
  });

  test('when an admin makes an invitation, a union link or a feed with a forged Host, then every link is to this server\'s own address', async () => {
    await admin.get('/staff/admin/staff');
    const form = (fields: Record<string, string>) => new URLSearchParams({ _csrf: admin.csrf(), ...fields }).toString();
    const invite = await raw(app, admin, 'POST', '/staff/admin/invites', form({ email: 'new@example.org', role: 'moderator' }), { ...spoofed, 'content-type': 'application/x-www-form-urlencoded' });
    expect(invite.status).toBe(201);
    expect(invite.text).toContain(`${own}/staff/invite/`);
    expect(invite.text).not.toContain('evil.example');

    const link = await raw(app, admin, 'POST', '/staff/api/campaigns/demo/links', JSON.stringify({ organisation: 'Union', country: 'BY' }), { ...spoofed, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': admin.csrf() });
    expect(link.status).toBe(201);
    expect((JSON.parse(link.text) as { url: string }).url).toMatch(new RegExp(`^${own}/c/demo/u/`));

    await admin.get('/staff/admin/distribution');
    const feed = await raw(app, admin, 'POST', '/staff/admin/feeds', form({ campaign: 'demo', team: 'Social', use: 'social' }), { ...spoofed, 'content-type': 'application/x-www-form-urlencoded' });
    expect(feed.status).toBe(201);
    const token = /\/api\/feeds\/([\w-]{43})\/releases\.json/.exec(feed.text)?.[1];
    expect(feed.text).toContain(`${own}/api/feeds/${token}/releases.json`);
    expect(feed.text).not.toContain('evil.example');

    // The feeds' own links too: absolute, to this server.
    const json = await raw(app, admin, 'GET', `/api/feeds/${token}/releases.json`, '', spoofed);
    expect((JSON.parse(json.text) as { feed_url: string }).feed_url).toBe(`${own}/api/feeds/${token}/releases.json`);
    const atom = await raw(app, admin, 'GET', `/api/feeds/${token}/releases.atom`, '', spoofed);
    expect(atom.text).toContain(`<link rel="self" href="${own}/api/feeds/${token}/releases.atom"/>`);
  });
});
