import { randomBytes } from 'node:crypto';
import { PENDING_TOTP_SECONDS } from '../../server/services/staff.service';
import { base32Decode, hotp, totpStep } from '../../server/services/totp.service';
import type { StaffUser } from '../../shared/models/staff-user.model';
import { makeStaff, StaffClient, testClock, type TestStaff } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

/** Setting up TOTP: one key per account until it is confirmed or expires, whatever page, session or device shows it. */
describe('the TOTP set-up key', () => {
  let app: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex') }, clock.now);
  });

  afterAll(async () => {
    await app.close();
  });

  /** A fresh login up to the set-up page; returns the key it shows. */
  async function enrolPage(staff: TestStaff): Promise<{ client: StaffClient; key: string }> {
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login');
    const first = await client.post('/staff/login', { email: staff.email, password: staff.password });
    expect(first.location).toBe('/staff/totp/enrol');
    const page = await client.get('/staff/totp/enrol');
    const key = /data-testid="totp-secret"[^>]*>([A-Z2-7]+)</.exec(page.html)?.[1];
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    return { client, key: key! };
  }

  test('when the set-up page is visited again, in another session or after logging in anew, then it shows the same key, and a code from it sets TOTP up', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator', { totp: false });
    const first = await enrolPage(moderator);
    const again = await first.client.get('/staff/totp/enrol');
    expect(again.html).toContain(first.key);
    const second = await enrolPage(moderator);
    expect(second.key).toBe(first.key);
    // Kept sealed, as the enrolled secret is.
    const stored = (await app.services.db.staffUsers.findById(moderator.user._id).lean<StaffUser>())!;
    expect(JSON.stringify(stored)).not.toContain(first.key);
    // The person scanned the first page; the code their app shows works on the second session's page.
    const done = await second.client.post('/staff/totp/enrol', { code: hotp(base32Decode(first.key), totpStep(clock.now())) });
    expect(done).toMatchObject({ status: 303, location: '/staff' });
    expect((await app.services.db.staffUsers.findById(moderator.user._id).lean<StaffUser>())!.totp).toMatchObject({ secret: expect.stringMatching(/^enc:v1:/), pending: null });
  });

  test('when the pending key is older than its lifetime, then a new one is shown, and a code from the old one is refused', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator', { totp: false });
    const first = await enrolPage(moderator);
    clock.advance((PENDING_TOTP_SECONDS + 60) * 1000);
    const later = await enrolPage(moderator);
    expect(later.key).not.toBe(first.key);
    const old = await later.client.post('/staff/totp/enrol', { code: hotp(base32Decode(first.key), totpStep(clock.now())) });
    expect(old.status).toBe(401);
    const good = await later.client.post('/staff/totp/enrol', { code: hotp(base32Decode(later.key), totpStep(clock.now())) });
    expect(good).toMatchObject({ status: 303, location: '/staff' });
  });
});
