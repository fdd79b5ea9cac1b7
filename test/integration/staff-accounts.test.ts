import { runCli } from '../../server/cli/cli';
import { auditFor } from '../../server/services/audit.service';
import { acceptInvite, createInvite, maySeeCampaign } from '../../server/services/staff.service';
import { base32Decode, hotp, totpStep } from '../../server/services/totp.service';
import { loginAs, makeStaff, PASSWORD, StaffClient, testClock, type TestStaff } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

describe('staff accounts: invitations, roles, second factor', () => {
  let app: TestApp;
  const clock = testClock();
  let admin: TestStaff;
  let adminClient: StaffClient;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    admin = await makeStaff(app, clock.now, 'admin');
    adminClient = await loginAs(app, clock, admin);
  });

  afterAll(async () => {
    await app.close();
  });

  async function invite(form: Record<string, string>) {
    await adminClient.get('/staff/admin/staff');
    return adminClient.post('/staff/admin/invites', form);
  }

  function linkIn(html: string): string {
    return new URL(/data-testid="invite-link">([^<]+)</.exec(html)![1]!.trim()).pathname;
  }

  test('when a moderator is invited, then the link works once, needs matching passwords of 12+ characters, and leads to TOTP set-up before any page', async () => {
    const created = await invite({ email: 'Mod@Example.org', role: 'moderator', campaigns: 'demo' });
    expect(created.status).toBe(201);
    const path = linkIn(created.html);
    expect(path).toMatch(/^\/staff\/invite\/[\w-]{43}$/);
    const token = path.split('/').pop()!;
    expect(await app.services.db.staffInvites.exists({ tokenHash: token })).toBeNull(); // only its hash is stored

    const invitee = new StaffClient(app.baseUrl);
    expect((await invitee.get(path)).html).toContain('mod@example.org');
    expect((await invitee.post(path, { password: 'short', repeat: 'short' })).status).toBe(400);
    expect((await invitee.post(path, { password: PASSWORD, repeat: `${PASSWORD}!` })).status).toBe(400);
    expect(await invitee.post(path, { password: PASSWORD, repeat: PASSWORD })).toMatchObject({ status: 303, location: '/staff/totp/enrol' });
    // not in yet: the second factor comes first
    expect(await invitee.get('/staff')).toMatchObject({ status: 303, location: '/staff/totp/enrol' });
    const enrol = await invitee.get('/staff/totp/enrol');
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
    expect(enrol.html).toContain('otpauth://totp/');
    expect(enrol.html).toContain('<svg');
    expect((await invitee.post('/staff/totp/enrol', { code: '000000' === hotp(base32Decode(secret), totpStep(clock.now())) ? '111111' : '000000' })).status).toBe(401);
    expect(await invitee.post('/staff/totp/enrol', { code: hotp(base32Decode(secret), totpStep(clock.now())) })).toMatchObject({ status: 303, location: '/staff' });
    expect((await invitee.get('/staff')).html).toContain('Your campaigns: demo.');

    const user = (await app.services.db.staffUsers.findOne({ email: 'mod@example.org' }).lean())!;
    expect(user).toMatchObject({ role: 'moderator', campaigns: ['demo'] });
    expect(user.totp.secret).toBe(secret);
    // used: the link is dead
    const late = new StaffClient(app.baseUrl);
    expect((await late.get(path)).status).toBe(404);
  });

  test('when an invitation has expired, names an unknown campaign or an existing address, then it is refused', async () => {
    const expiring = linkIn((await invite({ email: 'late@example.org', role: 'social' })).html);
    clock.advance(73 * 3600_000);
    adminClient = await loginAs(app, clock, admin); // the admin's own session ended meanwhile
    expect((await new StaffClient(app.baseUrl).get(expiring)).status).toBe(404);
    expect((await invite({ email: 'x@example.org', role: 'moderator', campaigns: 'demo, nowhere' })).status).toBe(400);
    expect((await invite({ email: admin.email, role: 'moderator' })).status).toBe(409);
    expect((await invite({ email: 'not an address', role: 'moderator' })).status).toBe(400);
    expect((await invite({ email: 'y@example.org', role: 'superuser' })).status).toBe(400);
  });

  test('when two people use one invitation at the same moment, then exactly one account is made', async () => {
    const by = { id: admin.user._id.toHexString(), email: admin.email };
    const { token } = await createInvite(app.services.db, app.config.staff, by, { email: 'twice@example.org', role: 'social', campaigns: [] }, clock.now());
    const results = await Promise.allSettled([1, 2, 3].map(() => acceptInvite(app.services.db, app.config.staff, token, PASSWORD, clock.now())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await app.services.db.staffUsers.countDocuments({ email: 'twice@example.org' })).toBe(1);
  });

  test('when a social-team member logs in, then a password is enough; their campaigns limit what they may see', async () => {
    const social = await makeStaff(app, clock.now, 'social', { campaigns: ['demo'], totp: false });
    const client = await loginAs(app, clock, social);
    expect((await client.get('/staff')).html).toContain('Social team');
    expect(maySeeCampaign(social.user, 'demo')).toBe(true);
    expect(maySeeCampaign(social.user, 'other')).toBe(false);
    expect(maySeeCampaign({ role: 'moderator', campaigns: [] }, 'other')).toBe(true);
    expect(maySeeCampaign({ role: 'admin', campaigns: ['demo'] }, 'other')).toBe(true);
  });

  test('when an admin changes someone\'s role, then their sessions end, the new role applies and it is audited', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator');
    const client = await loginAs(app, clock, moderator);
    expect((await client.get('/staff')).status).toBe(200);
    await adminClient.get('/staff/admin/staff');
    const id = moderator.user._id.toHexString();
    expect(await adminClient.post(`/staff/admin/staff/${id}/role`, { role: 'social', campaigns: 'demo' })).toMatchObject({ status: 303, location: '/staff/admin/staff?done=role' });
    expect(await client.get('/staff')).toMatchObject({ status: 303, location: '/staff/login' });
    expect((await app.services.db.staffUsers.findById(id).lean())!).toMatchObject({ role: 'social', campaigns: ['demo'] });
    expect((await auditFor(app.services.db, { kind: 'staff', id })).map((e) => [e.action, e.details])).toContainEqual(['role_changed', expect.objectContaining({ from: 'moderator', to: 'social' })]);
    // an admin cannot change their own role
    await adminClient.get('/staff/admin/staff');
    expect((await adminClient.post(`/staff/admin/staff/${admin.user._id.toHexString()}/role`, { role: 'social' })).status).toBe(400);
  });

  test('when an admin disables an account, then its sessions end and it cannot log in until enabled again', async () => {
    const social = await makeStaff(app, clock.now, 'social', { totp: false });
    const client = await loginAs(app, clock, social);
    const id = social.user._id.toHexString();
    await adminClient.get('/staff/admin/staff');
    expect(await adminClient.post(`/staff/admin/staff/${id}/access`, { disabled: 'true' })).toMatchObject({ status: 303, location: '/staff/admin/staff?done=access' });
    expect(await client.get('/staff')).toMatchObject({ status: 303, location: '/staff/login' });
    await client.get('/staff/login');
    expect((await client.post('/staff/login', { email: social.email, password: PASSWORD })).status).toBe(401);
    await adminClient.get('/staff/admin/staff');
    await adminClient.post(`/staff/admin/staff/${id}/access`, { disabled: 'false' });
    expect(await client.post('/staff/login', { email: social.email, password: PASSWORD })).toMatchObject({ status: 303, location: '/staff' });
    expect((await auditFor(app.services.db, { kind: 'staff', id })).map((e) => e.action)).toEqual(['account_disabled', 'account_enabled']);
  });

  test('when a phone is lost, then the command line resets the second factor, ends the sessions, and the next login sets up a new one', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator');
    const client = await loginAs(app, clock, moderator);
    const lines: string[] = [];
    expect(await runCli(['staff', 'reset-2fa', moderator.email], app.services, (l) => lines.push(l), { config: app.config })).toBe(0);
    expect(await client.get('/staff')).toMatchObject({ status: 303, location: '/staff/login' });
    const again = new StaffClient(app.baseUrl);
    await again.get('/staff/login');
    expect(await again.post('/staff/login', { email: moderator.email, password: PASSWORD })).toMatchObject({ status: 303, location: '/staff/totp/enrol' });
  });

  test('when an address or name holds markup, then the pages show it as text', async () => {
    const by = { id: admin.user._id.toHexString(), email: admin.email };
    const { token } = await createInvite(app.services.db, app.config.staff, by, { email: '"><script>alert(1)</script>@example.org', role: 'social', campaigns: [] }, clock.now());
    const page = await new StaffClient(app.baseUrl).get(`/staff/invite/${token}`);
    expect(page.html).not.toContain('<script>alert(1)');
    expect(page.html).toContain('&lt;script>alert(1)&lt;/script>');
  });
});
