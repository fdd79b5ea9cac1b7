import { clipInReview } from '../helpers/review-fixtures';
import { makeStaff, PASSWORD, StaffClient, testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** A login leads back to the staff page a lapsed session was on, and never anywhere else. */
describe('logging in again leads back', () => {
  let app: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app?.close();
  });

  test('when a decision form is sent without a session, then a browser is sent to the login with the clip as next, an API client gets a 401, and nothing is decided', async () => {
    const { id } = await clipInReview(app);
    const anonymous = new StaffClient(app.baseUrl);
    await anonymous.get('/staff/login');
    const browser = await anonymous.post(`/staff/review/${id}/approve?campaign=demo`, { faces: 'clear' }, { accept: 'text/html,application/xhtml+xml' });
    expect([browser.status, browser.location]).toEqual([303, `/staff/login?next=${encodeURIComponent(`/staff/review/${id}?campaign=demo`)}`]);
    const api = await anonymous.post(`/staff/review/${id}/approve`, {}, { accept: 'application/json' });
    expect([api.status, JSON.parse(api.html).code]).toEqual([401, 'not_logged_in']);
    expect((await app.services.db.submissions.findById(id).lean<{ status: string }>())!.status).toBe('in_review');
  });

  test.each([
    ['/staff/gallery', '/staff/gallery'],
    ['https://evil.example/staff', '/staff'],
    ['//evil.example/', '/staff'],
    ['/staff/logout', '/staff'],
  ])('when the login form carries next=%s, then the login leads to %s', async (next, expected) => {
    const social = await makeStaff(app, clock.now, 'social');
    const client = new StaffClient(app.baseUrl);
    const page = await client.get(`/staff/login?next=${encodeURIComponent(next)}`);
    // Only a safe next is put in the form (escaped by the template), and the page says why the login is asked for.
    expect(page.html.includes(`name="next" value="${next}"`)).toBe(expected !== '/staff');
    const answer = await client.post('/staff/login', { email: social.email, password: PASSWORD, next });
    expect([answer.status, answer.location]).toEqual([303, expected]);
  });

  test('when a second factor is needed, then the next page is kept through the code step', async () => {
    const { totpStep, hotp, base32Decode } = await import('../../server/services/totp.service');
    const moderator = await makeStaff(app, clock.now, 'moderator');
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login');
    expect((await client.post('/staff/login', { email: moderator.email, password: PASSWORD, next: '/staff/queue?language=be' })).location).toBe('/staff/login/code');
    await client.get('/staff/login/code');
    clock.advance(30_000);
    const answer = await client.post('/staff/login/code', { code: hotp(base32Decode(moderator.secret!), totpStep(clock.now())) });
    expect([answer.status, answer.location]).toEqual([303, '/staff/queue?language=be']);
  });
});
