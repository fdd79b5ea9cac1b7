import { runCli } from '../../server/cli/cli';
import { secureCookies } from '../../shared/config';
import type { AuditEntry } from '../../shared/models/audit-entry.model';
import { loginAs, makeStaff, nextCode, PASSWORD, StaffClient, testClock, type TestStaff } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

const FAST = { STAFF_SCRYPT_LOG2_COST: '12' };

describe('staff login, sessions and their defences', () => {
  let app: TestApp;
  const clock = testClock();
  let admin: TestStaff;

  beforeAll(async () => {
    app = await startTestApp(FAST, clock.now);
    admin = await makeStaff(app, clock.now, 'admin');
  });

  afterAll(async () => {
    await app.close();
  });

  async function actions(): Promise<string[]> {
    return (await app.services.db.auditEntries.find().lean<AuditEntry[]>()).sort((a, b) => a._id - b._id).map((e) => e.action);
  }

  test('when an admin logs in, then the session id changes at the password and again at the code, with safe cookie flags and no-store', async () => {
    const client = new StaffClient(app.baseUrl);
    const page = await client.get('/staff/login');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<form method="post" action="/staff/login">');
    // a session id an attacker planted before login is dropped
    client.cookies.set('staff', 'planted-by-someone-else-aaaaaaaaaaaaaaaaaaaa');
    const first = await client.post('/staff/login', { email: admin.email.toUpperCase(), password: PASSWORD });
    expect(first).toMatchObject({ status: 303, location: '/staff/login/code' });
    const cookie = first.headers.getSetCookie().find((c) => c.startsWith('staff='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/); // plain http on this machine only
    const halfway = client.session();
    expect(halfway).toBeDefined();
    expect(halfway).not.toBe('planted-by-someone-else-aaaaaaaaaaaaaaaaaaaa');
    // half-way through, the staff pages are not open yet: they lead to the code
    expect(await client.get('/staff')).toMatchObject({ status: 303, location: '/staff/login/code' });

    await client.get('/staff/login/code');
    const second = await client.post('/staff/login/code', { code: await nextCode(app, clock, admin) });
    expect(second).toMatchObject({ status: 303, location: '/staff' });
    expect(client.session()).not.toBe(halfway);
    const home = await client.get('/staff');
    expect(home.status).toBe(200);
    expect(home.headers.get('cache-control')).toBe('no-store');
    expect(home.html).toContain(admin.email);
    // the old half-way id is dead
    const stale = new StaffClient(app.baseUrl);
    stale.cookies.set('staff', halfway!);
    expect((await stale.get('/staff/login/code')).status).toBe(303);
    expect(await actions()).toContain('login');
  });

  test('when a code is wrong or used a second time, then it is refused', async () => {
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login');
    await client.post('/staff/login', { email: admin.email, password: PASSWORD });
    await client.get('/staff/login/code');
    expect((await client.post('/staff/login/code', { code: '000000' === (await nextCode(app, clock, admin)) ? '111111' : '000000' })).status).toBe(401);
    const code = await nextCode(app, clock, admin);
    expect((await client.post('/staff/login/code', { code })).status).toBe(303);
    // the same code, replayed by someone who saw it, in a fresh login
    const other = new StaffClient(app.baseUrl);
    await other.get('/staff/login');
    await other.post('/staff/login', { email: admin.email, password: PASSWORD });
    await other.get('/staff/login/code');
    const replay = await other.post('/staff/login/code', { code });
    expect(replay.status).toBe(401);
    expect(replay.html).toContain('already used');
  });

  test('when a login is refused, then it takes at least a second, for an existing account as for an unknown address', async () => {
    const timed = async (email: string) => {
      const client = new StaffClient(app.baseUrl);
      await client.get('/staff/login');
      const started = Date.now();
      const answer = await client.post('/staff/login', { email, password: 'not the password at all' });
      return { status: answer.status, ms: Date.now() - started };
    };
    for (const attempt of [await timed(admin.email), await timed('nobody@example.org')]) {
      expect(attempt.status).toBe(401);
      expect(attempt.ms).toBeGreaterThanOrEqual(990);
    }
  });

  test('when several logins race with one code, then exactly one of them gets in', async () => {
    // An app of its own, so these logins do not count against the others' per-client limit.
    const app = await startTestApp(FAST, clock.now);
    const racer = await makeStaff(app, clock.now, 'admin');
    try {
      const clients = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const client = new StaffClient(app.baseUrl);
          await client.get('/staff/login');
          await client.post('/staff/login', { email: racer.email, password: PASSWORD });
          await client.get('/staff/login/code');
          return client;
        }),
      );
      const code = await nextCode(app, clock, racer);
      const answers = await Promise.all(clients.map((client) => client.post('/staff/login/code', { code })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([303, 401, 401, 401, 401, 401]);
    } finally {
      await app.close();
    }
  });

  test('when the password is wrong 5 times, then the account is locked from that address (even for the right password) until the lockout ends', async () => {
    const moderator = await makeStaff(app, clock.now, 'moderator');
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login');
    for (let i = 0; i < 5; i += 1) {
      const answer = await client.post('/staff/login', { email: moderator.email, password: `wrong password ${i}` });
      expect(answer.status).toBe(401);
    }
    const locked = await client.post('/staff/login', { email: moderator.email, password: PASSWORD });
    expect(locked.status).toBe(401);
    expect(await actions()).toContain('account_locked');
    // the page says the same for a locked account as for a wrong password or an unknown address
    const unknown = await client.post('/staff/login', { email: 'nobody@example.org', password: PASSWORD });
    expect(unknown.status).toBe(401);
    expect(unknown.html.match(/<p class="error"[^>]*>[^<]*/)![0]).toBe(locked.html.match(/<p class="error"[^>]*>[^<]*/)![0]);

    clock.advance(16 * 60_000);
    expect(await client.post('/staff/login', { email: moderator.email, password: PASSWORD })).toMatchObject({ status: 303, location: '/staff/login/code' });
  });

  test('when a state-changing request has no CSRF token, a wrong one or another session\'s, then it is refused with 403', async () => {
    const fresh = new StaffClient(app.baseUrl);
    await fresh.get('/staff/login');
    const json = { accept: 'application/json' };
    expect(await fresh.request('POST', '/staff/login', { email: admin.email, password: PASSWORD }, json)).toMatchObject({ status: 403, html: expect.stringContaining('csrf_invalid') });
    expect((await fresh.post('/staff/login', { email: admin.email, password: PASSWORD, _csrf: 'x'.repeat(43) }, json)).status).toBe(403);
    // a page from another site cannot read the cookie: without it the form's token alone is refused
    const noCookie = new StaffClient(app.baseUrl);
    expect((await noCookie.request('POST', '/staff/login', { email: admin.email, password: PASSWORD, _csrf: fresh.csrf() }, json)).status).toBe(403);

    const signedIn = await loginAs(app, clock, admin);
    const other = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
    const invite = { email: 'csrf@example.org', role: 'moderator' };
    expect((await signedIn.request('POST', '/staff/admin/invites', invite, json)).status).toBe(403);
    expect((await signedIn.post('/staff/admin/invites', { ...invite, _csrf: other.csrf() }, json)).status).toBe(403);
    expect(await app.services.db.staffInvites.exists({ email: 'csrf@example.org' })).toBeNull();
    // the header works as well as the form field
    expect((await signedIn.request('POST', '/staff/admin/invites', invite, { 'x-csrf-token': signedIn.csrf() })).status).toBe(201);
  });

  test('when a body carries an operator object or unexpected fields, then it gets 400 before any query', async () => {
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login');
    const token = client.csrf();
    const json = { 'content-type': 'application/json', accept: 'application/json' };
    for (const body of [
      { email: { $ne: null }, password: { $ne: null }, _csrf: token },
      { email: admin.email, password: { $gt: '' }, _csrf: token },
      { email: [admin.email], password: PASSWORD, _csrf: token },
      { email: admin.email, password: PASSWORD, _csrf: token, $where: '1' },
    ]) {
      const answer = await client.request('POST', '/staff/login', JSON.stringify(body), json);
      expect([answer.status, JSON.parse(answer.html).code]).toEqual([400, 'invalid_body']);
    }
    // the urlencoded spelling of the same trick is a field with a strange name: also 400
    const form = await client.request('POST', '/staff/login', `email[$ne]=x&password[$ne]=x&_csrf=${token}`, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    expect(form.status).toBe(400);
  });

  test('when a session is idle past 30 minutes, or 12 hours old however active, then it has ended', async () => {
    const client = await loginAs(app, clock, admin);
    clock.advance(29 * 60_000);
    expect((await client.get('/staff')).status).toBe(200);
    clock.advance(31 * 60_000);
    expect(await client.get('/staff')).toMatchObject({ status: 303, location: '/staff/login' });

    const busy = await loginAs(app, clock, admin);
    for (let hours = 0; hours < 11.5; hours += 0.25) {
      clock.advance(15 * 60_000);
      expect((await busy.get('/staff')).status).toBe(200);
    }
    clock.advance(31 * 60_000);
    expect(await busy.get('/staff')).toMatchObject({ status: 303, location: '/staff/login' });
  });

  test('when someone logs out, then the session no longer works', async () => {
    const client = await loginAs(app, clock, admin);
    const id = client.session()!;
    expect(await client.post('/staff/logout', {})).toMatchObject({ status: 303, location: '/staff/login?done=logout' });
    const again = new StaffClient(app.baseUrl);
    again.cookies.set('staff', id);
    expect((await again.get('/staff')).status).toBe(303);
  });

  test('when an admin is created from the command line, then the password is read, not given as an argument, and the action is audited', async () => {
    const lines: string[] = [];
    const code = await runCli(['staff', 'create-admin', 'First.Admin@Example.org'], app.services, (l) => lines.push(l), { config: app.config, askSecret: async () => 'correct horse battery staple' });
    expect(code).toBe(0);
    const user = (await app.services.db.staffUsers.findOne({ email: 'first.admin@example.org' }).lean())!;
    expect(user.role).toBe('admin');
    expect(user.passwordHash).toMatch(/^scrypt\$/);
    await expect(runCli(['staff', 'create-admin', 'short@example.org'], app.services, () => undefined, { config: app.config, askSecret: async () => 'short' })).rejects.toThrow(/at least 12/);
    expect(await actions()).toContain('admin_created');
  });
});

describe('login attempts per client', () => {
  test('when one client has more refused logins than allowed, then it gets 429 whatever the account, with Retry-After', async () => {
    const app = await startTestApp({ ...FAST, STAFF_LOGIN_ATTEMPTS_PER_CLIENT: '3' });
    try {
      const client = new StaffClient(app.baseUrl);
      await client.get('/staff/login');
      const answers = [];
      for (let i = 0; i < 5; i += 1) answers.push(await client.post('/staff/login', { email: `someone${i}@example.org`, password: 'whatever password' }));
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 429]);
      const retryAfter = Number(answers[4]!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(answers[4]!.html).toMatch(/Please try again in \d+ min/);
    } finally {
      await app.close();
    }
  });
});

describe('login limits that let honest staff in', () => {
  let app: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    // Two offices: the address is told by X-Forwarded-For from the one trusted proxy in front.
    app = await startTestApp({ ...FAST, TRUST_PROXY: '1', STAFF_LOGIN_ATTEMPTS_PER_CLIENT: '8' }, clock.now);
  });

  afterAll(async () => {
    await app.close();
  });

  const from = (address: string) => ({ 'x-forwarded-for': address });

  async function login(staff: TestStaff, address: string, password = PASSWORD) {
    const client = new StaffClient(app.baseUrl);
    await client.get('/staff/login', from(address));
    const first = await client.post('/staff/login', { email: staff.email, password }, from(address));
    if (first.location !== '/staff/login/code') return first;
    await client.get('/staff/login/code', from(address));
    return client.post('/staff/login/code', { code: await nextCode(app, clock, staff) }, from(address));
  }

  test('when a whole office behind one address logs in with password and code, then each login counts once, and only refused ones count: nobody gets 429', async () => {
    const office = await Promise.all(Array.from({ length: 4 }, () => makeStaff(app, clock.now, 'moderator')));
    for (let round = 0; round < 2; round += 1) {
      for (const person of office) expect(await login(person, '198.51.100.7')).toMatchObject({ status: 303, location: '/staff' });
    }
  });

  test('when someone elsewhere types a colleague\'s address with wrong passwords, then the account is locked from there only; an admin unlocks it (audited)', async () => {
    const colleague = await makeStaff(app, clock.now, 'moderator');
    for (let i = 0; i < 5; i += 1) expect((await login(colleague, '203.0.113.9', `wrong password ${i}`)).status).toBe(401);
    expect((await login(colleague, '203.0.113.9')).status).toBe(401);
    // The colleague at the office is not locked out.
    expect(await login(colleague, '198.51.100.7')).toMatchObject({ status: 303, location: '/staff' });

    const admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
    await admin.get('/staff/admin/staff');
    expect(admin.lastHtml).toContain(`action="/staff/admin/staff/${colleague.user._id.toHexString()}/unlock"`);
    expect(await admin.post(`/staff/admin/staff/${colleague.user._id.toHexString()}/unlock`, {})).toMatchObject({ status: 303, location: '/staff/admin/staff?done=unlocked' });
    expect(await login(colleague, '203.0.113.9')).toMatchObject({ status: 303, location: '/staff' });
    const unlocked = await app.services.db.auditEntries.findOne({ action: 'account_unlocked', 'target.id': colleague.user._id.toHexString() }).lean<AuditEntry>();
    expect(unlocked).toMatchObject({ details: { email: colleague.email } });
  });

  test('when guesses are spread over many addresses, then the account is locked for everyone after STAFF_ACCOUNT_MAX_FAILURES, until the CLI unlocks it', async () => {
    const target = await makeStaff(app, clock.now, 'moderator');
    await app.services.db.staffUsers.updateOne({ _id: target.user._id }, { $set: { failedLogins: app.config.staff.accountMaxFailures - 1 } });
    expect((await login(target, '192.0.2.1', 'one more wrong password')).status).toBe(401);
    expect((await login(target, '198.51.100.7')).status).toBe(401);
    const lines: string[] = [];
    expect(await runCli(['staff', 'unlock', target.email], app.services, (line) => lines.push(line), { config: app.config })).toBe(0);
    expect(lines.join('')).toMatch(/unlocked/);
    expect(await login(target, '198.51.100.7')).toMatchObject({ status: 303, location: '/staff' });
  });
});

describe('secure cookies', () => {
  test('Secure is dropped only for plain http on this machine', () => {
    expect(secureCookies(undefined, 'production')).toBe(true);
    expect(secureCookies(undefined, 'development')).toBe(false);
    expect(secureCookies('https://clips.example.org', 'production')).toBe(true);
    expect(secureCookies('http://clips.example.org', 'development')).toBe(true);
    expect(secureCookies('http://localhost:3000', 'production')).toBe(false);
    expect(secureCookies('http://127.0.0.1:3000', 'test')).toBe(false);
  });
});
