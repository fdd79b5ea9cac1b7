import { randomBytes } from 'node:crypto';
import { sealPlainTotpSecrets } from '../../server/services/totp-secrets';
import type { StaffUser } from '../../shared/models/staff-user.model';
import { loginAs, makeStaff, testClock, type TestStaff } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

/** TOTP secrets are stored encrypted with a key outside the database; plain ones from before still work. */
describe('second-factor secrets at rest', () => {
  let app: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex') }, clock.now);
  });

  afterAll(async () => {
    await app.close();
  });

  const stored = async (staff: TestStaff) => (await app.services.db.staffUsers.findById(staff.user._id).lean<StaffUser>())!.totp.secret!;
  const setStored = (staff: TestStaff, secret: string) => app.services.db.staffUsers.updateOne({ _id: staff.user._id }, { $set: { 'totp.secret': secret } });

  test('when someone sets up TOTP, then the database holds the secret sealed (AES-256-GCM), never the key an app would need, and codes work', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator');
    const value = await stored(moderator);
    expect(value).toMatch(/^enc:v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(value).not.toContain(moderator.secret!);
    expect(JSON.stringify(await app.services.db.staffUsers.findById(moderator.user._id).lean())).not.toContain(moderator.secret!);
    await loginAs(app, clock, moderator);
  });

  test('when a secret was stored in the clear before the key, then it still works, and is sealed at its next use', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator');
    await setStored(moderator, moderator.secret!);
    await loginAs(app, clock, moderator);
    expect(await stored(moderator)).toMatch(/^enc:v1:/);
    await loginAs(app, clock, moderator);
  });

  test('when the server starts with the key, then every plain secret is sealed', async () => {
    const people = await Promise.all([0, 1].map(() => makeStaff(app, clock.now, 'admin')));
    for (const person of people) await setStored(person, person.secret!);
    expect(await sealPlainTotpSecrets(app.services.db)).toBe(2);
    for (const person of people) expect(await stored(person)).toMatch(/^enc:v1:/);
    expect(await sealPlainTotpSecrets(app.services.db)).toBe(0);
    await loginAs(app, clock, people[0]!);
  });

  test("when someone with write access copies their own sealed secret onto an admin's account, then it does not open there", async () => {
    const admin = await makeStaff(app, clock.now, 'admin');
    const intruder = await makeStaff(app, clock.now, 'moderator');
    await setStored(admin, await stored(intruder));
    await expect(loginAs(app, clock, { ...admin, secret: intruder.secret })).rejects.toThrow(/code refused: 500/);
  });
});
