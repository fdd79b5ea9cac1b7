import type { Express } from 'express';
import { createApp } from '../../server/app';
import { ACCESS, type Access } from '../../server/web/staff-route';
import { STAFF_ROLES, type StaffRole } from '../../shared/models/staff-user.model';
import { loginAs, makeStaff, StaffClient, testClock, type TestStaff } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

interface FoundRoute {
  path: string;
  method: string;
  access: Access | undefined;
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> } & Record<symbol, unknown>;
  handle?: { stack?: Layer[] };
}

/** Every route the app has, found by walking Express's own router (not a list kept by hand). */
function walk(stack: Layer[], out: FoundRoute[] = []): FoundRoute[] {
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods)) {
        out.push({ path: layer.route.path, method, access: layer.route[ACCESS] as Access | undefined });
      }
    } else if (layer.handle?.stack) walk(layer.handle.stack, out);
  }
  return out;
}

function staffRoutesOf(app: Express): FoundRoute[] {
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  return walk(router.stack).filter((route) => route.path.startsWith('/staff'));
}

/** The public staff routes, on purpose: a new one must be added here by someone who thought about it. */
const PUBLIC = ['GET /staff/assets/:name', 'POST /staff/language', 'GET /staff/login', 'POST /staff/login', 'GET /staff/invite/:token', 'POST /staff/invite/:token'];

describe('every staff route checks the session and the role', () => {
  let app: TestApp;
  const clock = testClock();
  const staff = {} as Record<StaffRole, TestStaff>;
  const clients = {} as Record<StaffRole, StaffClient>;
  let routes: FoundRoute[];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    for (const role of STAFF_ROLES) {
      staff[role] = await makeStaff(app, clock.now, role);
      clients[role] = await loginAs(app, clock, staff[role]);
    }
    routes = staffRoutesOf(createApp(app.deps));
    // A campaign for the campaign routes, so an admin's call reaches the handler rather than a 404.
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  function concrete(path: string): string {
    return path
      .replace(':token', 'A'.repeat(43))
      .replace(':id', staff.moderator.user._id.toHexString())
      .replace(':name', 'staff.css')
      .replace(':slug', 'demo')
      .replace(':linkId', '000000000000');
  }

  const json = { accept: 'application/json' };

  test('the walk finds the staff routes, and every one declares its access', () => {
    expect(routes.length).toBeGreaterThanOrEqual(12);
    const undeclared = routes.filter((route) => !route.access).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(undeclared).toEqual([]);
    const publicOnes = routes.filter((route) => route.access && 'public' in route.access).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(publicOnes.sort()).toEqual([...PUBLIC].sort());
  });

  test("when an asset is asked for by a name only the object's prototype has, then 404, not a server error", async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const answer = await fetch(`${app.baseUrl}/staff/assets/${name}`);
      expect([name, answer.status]).toEqual([name, 404]);
    }
  });

  test('when a non-public staff route is called without a session, then it is refused (GET: to the login page, which leads back; others: 401)', async () => {
    const anonymous = new StaffClient(app.baseUrl);
    await anonymous.get('/staff/login'); // has a pre-login CSRF token, so only the missing session can refuse
    const seen: string[] = [];
    for (const route of routes.filter((r) => r.access && !('public' in r.access))) {
      const path = concrete(route.path);
      const answer = route.method === 'get' ? await anonymous.get(path, json) : await anonymous.post(path, {}, json);
      seen.push(`${route.method} ${route.path} ${answer.status}`);
      // The login leads back to the page asked for (not to the start page, where it leads anyway, nor to a login step).
      const login = path === '/staff' || /^\/staff\/(login|totp)\//.test(path) ? '/staff/login' : `/staff/login?${new URLSearchParams({ next: path }).toString()}`;
      if (route.method === 'get') expect([route.path, answer.status, answer.location]).toEqual([route.path, 303, login]);
      else expect([route.path, answer.status, JSON.parse(answer.html).code]).toEqual([route.path, 401, 'not_logged_in']);
    }
    expect(seen.length).toBeGreaterThanOrEqual(7);
  });

  test('when a role route is called by each role it does not name, then 403; by a role it names, then not refused', async () => {
    let refusals = 0;
    for (const route of routes.filter((r) => r.access && 'roles' in r.access)) {
      const allowed = (route.access as { roles: readonly StaffRole[] }).roles;
      for (const role of STAFF_ROLES) {
        const client = clients[role];
        await client.get('/staff'); // a page of this session, for its CSRF token
        const path = concrete(route.path);
        const answer = route.method === 'get' ? await client.get(path, json) : await client.post(path, {}, json);
        if (allowed.includes(role)) {
          expect([route.path, role, [401, 403].includes(answer.status) || answer.location?.startsWith('/staff/login') === true]).toEqual([route.path, role, false]);
          // staff pages never land in a browser's or a proxy's cache
          expect([route.path, answer.headers.get('cache-control')]).toEqual([route.path, 'no-store']);
        } else {
          expect([route.path, role, answer.status, JSON.parse(answer.html).code]).toEqual([route.path, role, 403, 'forbidden']);
          refusals += 1;
        }
      }
    }
    expect(refusals).toBeGreaterThanOrEqual(8);
  });

  test('when a state-changing route is called by a role it names but without the CSRF token (or with a wrong one), then 403 csrf_invalid', async () => {
    const stateChanging = routes.filter((r) => r.method !== 'get' && r.access && 'roles' in r.access);
    for (const route of stateChanging) {
      const role = (route.access as { roles: readonly StaffRole[] }).roles[0]!;
      const client = clients[role];
      await client.get('/staff');
      for (const token of ['', 'A'.repeat(43)]) {
        const answer = await client.request('POST', concrete(route.path), token ? { _csrf: token } : {}, json);
        expect([route.path, token.length, answer.status, JSON.parse(answer.html).code]).toEqual([route.path, token.length, 403, 'csrf_invalid']);
      }
    }
    // The campaign routes are among them (a route added without the check fails here).
    expect(stateChanging.filter((r) => r.path.includes('campaigns')).length).toBeGreaterThanOrEqual(11);
  });

  test('when a route of a login stage is called with a full session, then it is refused', async () => {
    for (const route of routes.filter((r) => r.access && 'stage' in r.access)) {
      const client = clients.admin;
      await client.get('/staff');
      const answer = route.method === 'get' ? await client.get(concrete(route.path), json) : await client.post(concrete(route.path), { code: '123456' }, json);
      expect([route.path, [303, 401].includes(answer.status)]).toEqual([route.path, true]);
    }
  });
});
