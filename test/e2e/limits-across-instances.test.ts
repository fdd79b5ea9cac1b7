import http from 'node:http';
import type { AuditEntry } from '../../shared/models/audit-entry.model';
import { makeStaff, PASSWORD, StaffClient } from '../helpers/staff-client';
import { serverProcesses } from '../helpers/server-processes';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * Three server processes (dist/server/main.js) on one database and one Redis, asked in turn as a round-robin
 * balancer would: one client gets the budget one process gives, not three times as much, for the uploads, the
 * /api requests, the refused logins and the lock of an account from one address. With the limits in each
 * process's memory (before the limits moved to Redis) every one of these tests fails: each process counted a
 * third of the client's requests, so the client got three times its uploads, requests and refused logins, and
 * three wrong passwords (one per process) never locked the account.
 */

const UPLOADS = 3;
const REQUESTS = 12;
const LOGINS = 4;
const MAX_FAILURES = 3;

/** One request from a client address of its own (the socket bound to a loopback address: no proxy needed). */
function send(baseUrl: string, method: string, path: string, localAddress: string, body?: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request(`${baseUrl}${path}`, { method, headers, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('limits across three server processes', () => {
  let app: TestApp;
  const servers = serverProcesses();
  let urls: string[] = [];

  beforeAll(async () => {
    // The in-process app seeds the campaign and the staff account; the three processes share its environment
    // (its database, bucket and Redis prefix).
    app = await startTestApp({
      RATE_LIMIT_UPLOADS: String(UPLOADS),
      RATE_LIMIT_REQUESTS: String(REQUESTS),
      STAFF_LOGIN_ATTEMPTS_PER_CLIENT: String(LOGINS),
      STAFF_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      STAFF_SCRYPT_LOG2_COST: '12',
    });
    await seedDemoCampaign(app.deps);
    urls = await Promise.all([0, 1, 2].map(() => servers.start(app.env)));
  }, 120_000);

  afterAll(async () => {
    await servers.stopAll();
    await app.close();
  });

  /** The i-th request goes to process i mod 3. */
  const next = (i: number) => urls[i % urls.length]!;

  test('when one client sends uploads to the three in turn, then it gets RATE_LIMIT_UPLOADS of them in all, as from one process', async () => {
    // The upload limit is checked before the body is read: a body that is not multipart is counted, then refused (415).
    const spread = [];
    for (let i = 0; i < 3 * UPLOADS; i += 1) spread.push(await send(next(i), 'POST', '/api/submissions', '127.0.0.41', 'not a clip'));
    expect(spread.map((answer) => answer.status)).toEqual([...Array<number>(UPLOADS).fill(415), ...Array<number>(2 * UPLOADS).fill(429)]);
    expect(Number(spread.at(-1)!.retryAfter)).toBeGreaterThan(0);

    const alone = [];
    for (let i = 0; i < 3 * UPLOADS; i += 1) alone.push((await send(urls[0]!, 'POST', '/api/submissions', '127.0.0.42', 'not a clip')).status);
    expect(spread.map((answer) => answer.status)).toEqual(alone);
  });

  test('when one client reads /api from the three in turn, then it gets RATE_LIMIT_REQUESTS answers in all; another client is counted apart', async () => {
    const statuses = [];
    for (let i = 0; i < 3 * REQUESTS; i += 1) statuses.push((await send(next(i), 'GET', '/api/campaigns/demo', '127.0.0.43')).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(REQUESTS);
    expect(statuses).toEqual([...Array<number>(REQUESTS).fill(200), ...Array<number>(2 * REQUESTS).fill(429)]);
    expect((await send(next(0), 'GET', '/api/campaigns/demo', '127.0.0.44')).status).toBe(200);
  });

  test('when one address has refused logins on the three in turn, then it gets STAFF_LOGIN_ATTEMPTS_PER_CLIENT of them in all, then 429 everywhere', async () => {
    const clients = urls.map((url) => new StaffClient(url, { localAddress: '127.0.0.45' }));
    for (const client of clients) await client.get('/staff/login');
    const statuses = [];
    for (let i = 0; i < LOGINS + 3; i += 1) statuses.push((await clients[i % 3]!.post('/staff/login', { email: `nobody${i}@example.org`, password: 'whatever password' })).status);
    expect(statuses).toEqual([...Array<number>(LOGINS).fill(401), 429, 429, 429]);
  }, 30_000);

  test('when wrong passwords for one account come from one address to the three in turn, then the account is locked from there after STAFF_LOGIN_MAX_FAILURES, and only from there', async () => {
    const colleague = await makeStaff(app, () => new Date(), 'moderator');
    const clients = urls.map((url) => new StaffClient(url, { localAddress: '127.0.0.46' }));
    for (const client of clients) await client.get('/staff/login');
    for (let i = 0; i < MAX_FAILURES; i += 1) expect((await clients[i % 3]!.post('/staff/login', { email: colleague.email, password: `wrong password ${i}` })).status).toBe(401);
    // Each process saw one wrong password: kept per process, nothing would be locked and this would get in.
    expect((await clients[0]!.post('/staff/login', { email: colleague.email, password: PASSWORD })).status).toBe(401);
    const locks = await app.services.db.auditEntries.find({ action: 'account_locked', 'actor.id': colleague.user._id.toHexString() }).lean<AuditEntry[]>();
    expect(locks.map((entry) => entry.details)).toEqual([expect.objectContaining({ scope: 'one address' })]);

    const office = new StaffClient(next(1), { localAddress: '127.0.0.47' });
    await office.get('/staff/login');
    expect(await office.post('/staff/login', { email: colleague.email, password: PASSWORD })).toMatchObject({ status: 303, location: '/staff/login/code' });
  }, 30_000);
});
