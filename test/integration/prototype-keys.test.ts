import { encodeMetadata, tusHeaders, uploadMetadata } from '../helpers/tus-requests';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** Names every plain object answers to (its prototype's), which a lookup by a request's key must not find. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'prototype'];

describe('lookups by a key from the request find own keys only', () => {
  const clock = testClock();
  let app: TestApp;
  let admin: StaffClient;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
  });

  afterAll(async () => {
    await app.close();
  });

  test.each(PROTOTYPE_NAMES)('when a request names "%s" (an asset, a language, a notice, a cookie, a metadata key), then the answer is the ordinary one, never a 500', async (name) => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.baseUrl}${path}`, { headers, redirect: 'manual' });
    // Assets of both sides: there is no such asset.
    expect((await get(`/c-assets/${encodeURIComponent(name)}`)).status).toBe(404);
    expect((await get(`/staff/assets/${encodeURIComponent(name)}`)).status).toBe(404);
    // The language, from Accept-Language and ?lang=: the default one.
    const login = await get('/staff/login', { 'accept-language': name });
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('lang="en"');
    const campaignPage = await get(`/c/demo?lang=${encodeURIComponent(name)}`, { 'accept-language': `${name}, ${name}-x;q=0.5` });
    expect(campaignPage.status).toBe(200);
    expect((await get('/s/0123456789abcdef01234567', { 'accept-language': name })).status).toBe(200);
    expect((await admin.get('/staff', { 'accept-language': name })).status).toBe(200);
    // A notice named in the address: none.
    const edit = await admin.get(`/staff/admin/campaigns/demo?done=${encodeURIComponent(name)}`);
    expect(edit.status).toBe(200);
    // A cookie of that name: just a cookie (the session still works).
    expect((await admin.get('/staff', { cookie: `${name}=x; ${[...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ')}` })).status).toBe(200);
    // A resumable upload's metadata key: an unknown field, refused as such.
    const { metadata } = uploadMetadata();
    const created = await fetch(`${app.baseUrl}/tus`, { method: 'POST', headers: { ...tusHeaders, 'Upload-Length': '1000', 'Upload-Metadata': `${encodeMetadata(metadata)},${name} eA==` } });
    expect(created.status).toBe(400);
    // A campaign body with the key: refused as a campaign, not a crash.
    await admin.get('/staff');
    const api = await admin.request('POST', '/staff/api/campaigns', `{"slug":"x","${name}":{"${name}":1}}`, { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': admin.csrf() });
    expect(api.status).toBe(400);
  });

  test('when a JSON body nests 5000 levels deep (the campaign API), then it is refused 400 problem+json before anything walks it', async () => {
    await admin.get('/staff');
    const deep = `{"slug":"deep","name":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const body of [deep, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]) {
      const answer = await admin.request('POST', '/staff/api/campaigns', body, { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': admin.csrf() });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.parse(answer.html)).toMatchObject({ code: 'body_too_deep' });
    }
    // A campaign's own depth (consent → statements → grants) is well within the limit.
    const shallow = await admin.request('POST', '/staff/api/campaigns', JSON.stringify({ slug: 'shallow', consent: [{ statements: [{ grants: [['x']] }] }] }), { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': admin.csrf() });
    expect(shallow.status).toBe(400);
    expect(JSON.parse(shallow.html)).toMatchObject({ code: 'invalid_campaign' });
  });
});
