import Redis from 'ioredis';
import { clientKeys, limitStore, WindowCounter, type LimitStore } from '../../server/middleware/rate-limit';
import { createLoginLimiter } from '../../server/web/login-limiter';
import { createLogger } from '../../shared/logger';
import { StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, testServices } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';

/**
 * The per-client limits and the login limits, counted in the real Redis the tests start: windows, expiry,
 * Retry-After, one day's key shared by every process, and what each limit does when Redis cannot be reached.
 * (Three server processes sharing one budget: test/e2e/limits-across-instances.test.ts.)
 */

const DAY_MS = 24 * 3600 * 1000;
/** A loopback port where nothing listens. */
const DEAD = 'redis://127.0.0.1:9';

/** An account as the login limiter sees it. */
const user = (unlockedAt: Date | null = null) => ({ id: '65f0c0ffee0000000000beef', unlockedAt });

let redis: Redis;
let runs = 0;
/** A store of its own for each test: its own key prefix on the shared Redis. */
function store(): LimitStore {
  runs += 1;
  return limitStore(redis, `limits-test-${process.pid}-${runs}`);
}

beforeAll(() => {
  redis = new Redis(testServices().redisUrl);
});
afterAll(() => {
  redis.disconnect();
});

describe('WindowCounter in Redis', () => {
  test('when a key passes the limit, then it is refused until its window ends, with the seconds left; other keys are counted apart', async () => {
    const counter = new WindowCounter(store(), 'test', 2, 60_000);
    expect((await counter.hit('a', 0)).allowed).toBe(true);
    expect((await counter.hit('a', 1000)).allowed).toBe(true);
    expect(await counter.hit('a', 2000)).toEqual({ allowed: false, retryAfterSeconds: 58 });
    expect((await counter.hit('b', 2000)).allowed).toBe(true);
    expect((await counter.hit('a', 60_000)).allowed).toBe(true);
  });

  test('when two processes count one client (two counters on one store), then they share its budget; a counter of another name does not', async () => {
    const shared = store();
    const here = new WindowCounter(shared, 'uploads', 3, 60_000);
    const there = new WindowCounter(shared, 'uploads', 3, 60_000);
    const other = new WindowCounter(shared, 'requests', 3, 60_000);
    const seen = [];
    for (let i = 0; i < 6; i += 1) seen.push((await (i % 2 === 0 ? here : there).hit('client', 1000 + i)).allowed);
    expect(seen).toEqual([true, true, true, false, false, false]);
    expect((await other.hit('client', 1010)).allowed).toBe(true);
  });

  test('when a client is only looked at (peek), then nothing is counted; past the limit, peek says when to come back', async () => {
    const counter = new WindowCounter(store(), 'test', 2, 60_000);
    expect(await counter.peek('a', 0)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    await counter.hit('a', 0);
    expect(await counter.peek('a', 500)).toEqual({ allowed: true, retryAfterSeconds: 60 });
    await counter.hit('a', 1000);
    expect(await counter.peek('a', 1000)).toEqual({ allowed: false, retryAfterSeconds: 59 });
    expect(await counter.peek('a', 61_000)).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  test('when a window ends, then its key expires in Redis by itself (memory is bounded without sweeps)', async () => {
    const limits = store();
    const long = new WindowCounter(limits, 'long', 5, 600_000);
    await long.hit('someone', Date.now());
    const ttl = await redis.pttl(`${limits.prefix}:long:someone`);
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);

    const short = new WindowCounter(limits, 'short', 5, 1500);
    for (let i = 0; i < 20; i += 1) await short.hit(`client${i}`, Date.now());
    expect((await redis.keys(`${limits.prefix}:short:*`)).length).toBe(20);
    await waitUntil(async () => (await redis.keys(`${limits.prefix}:short:*`)).length === 0, { timeoutMs: 5_000, intervalMs: 50, what: 'the short window keys to expire' });
  });
});

describe('clientKeys: one key of the day, shared through Redis', () => {
  test('when two processes hash one address, then they agree; the hash contains nothing of the address, and neither does Redis', async () => {
    const limits = store();
    const now = Date.UTC(2026, 11, 7, 12);
    const one = clientKeys(limits, () => now);
    const two = clientKeys(limitStore(redis, limits.prefix.replace(/:limits$/, '')), () => now);
    const hash = await one('203.0.113.7');
    expect(await two('::ffff:203.0.113.7')).toBe(hash);
    expect(await one('203.0.113.8')).not.toBe(hash);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('203');
    const keys = await redis.keys(`${limits.prefix}:*`);
    expect(keys).toEqual([`${limits.prefix}:client-key:${Math.floor(now / DAY_MS)}`]);
    const stored = `${keys.join(' ')} ${(await Promise.all(keys.map((key) => redis.get(key)))).join(' ')}`;
    expect(stored).not.toContain('203.0.113');
  });

  test('when the day changes, then the key is another one; a day\'s key expires an hour after its day ends', async () => {
    const limits = store();
    let now = Date.UTC(2026, 11, 7, 23, 0);
    const keyOf = clientKeys(limits, () => now);
    const today = await keyOf('203.0.113.7');
    const day = Math.floor(now / DAY_MS);
    const ttl = await redis.pttl(`${limits.prefix}:client-key:${day}`);
    // Set on a clock at 23:00 of its day: an hour to midnight, then one more.
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 5_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000);
    now += 59 * 60_000;
    expect(await keyOf('203.0.113.7')).toBe(today);
    now += 2 * 60_000;
    expect(await keyOf('203.0.113.7')).not.toBe(today);
    expect(await redis.exists(`${limits.prefix}:client-key:${day + 1}`)).toBe(1);
  });

  test('when Redis has lost the day\'s key (a restart without persistence), then a process makes a new one within minutes and the others follow', async () => {
    const limits = store();
    let now = Date.UTC(2026, 11, 7, 10);
    const one = clientKeys(limits, () => now);
    const two = clientKeys(limits, () => now);
    const before = await one('203.0.113.7');
    await redis.del(`${limits.prefix}:client-key:${Math.floor(now / DAY_MS)}`);
    now += 6 * 60_000;
    const after = await two('203.0.113.7');
    expect(after).not.toBe(before);
    expect(await one('203.0.113.7')).toBe(after);
  });
});

describe('login limits in Redis', () => {
  test('when refused logins from one address pass the limit, then every process refuses it with 429 and the seconds left', async () => {
    const limits = store();
    const options = { perAddress: 3, maxFailures: 5, lockoutMs: 15 * 60_000, clock: () => Date.UTC(2026, 11, 7, 10) };
    const here = createLoginLimiter(limits, options);
    const there = createLoginLimiter(limits, options);
    const address = await here.addressKey('203.0.113.7');
    expect(await there.addressKey('203.0.113.7')).toBe(address);
    const at = new Date(Date.UTC(2026, 11, 7, 10));
    await here.refused(address, at);
    await there.refused(address, at);
    await here.check(address, at);
    await there.refused(address, at);
    await expect(here.check(address, new Date(at.getTime() + 60_000))).rejects.toMatchObject({ code: 'too_many_attempts', status: 429, details: { retryAfterSeconds: 14 * 60 } });
    await expect(there.check(address, new Date(at.getTime() + 15 * 60_000))).resolves.toBeUndefined();
  });

  test('when wrong passwords for one account come from one address through several processes, then the account is locked from there only; an unlock ends it', async () => {
    const limits = store();
    const options = { perAddress: 100, maxFailures: 3, lockoutMs: 15 * 60_000 };
    const processes = [createLoginLimiter(limits, options), createLoginLimiter(limits, options), createLoginLimiter(limits, options)];
    const there = await processes[0]!.addressKey('203.0.113.9');
    const office = await processes[0]!.addressKey('198.51.100.7');
    const at = new Date(Date.UTC(2026, 11, 7, 10));
    const locks = [];
    for (const limiter of processes) locks.push(await limiter.guard(there).failed(user(), at));
    expect(locks.slice(0, 2)).toEqual([null, null]);
    expect(locks[2]).toEqual(new Date(at.getTime() + 15 * 60_000));
    for (const limiter of processes) expect(await limiter.guard(there).lockedFor(user(), new Date(at.getTime() + 60_000))).toBe(14 * 60);
    expect(await processes[1]!.guard(office).lockedFor(user(), at)).toBe(0);
    // An admin's unlock (after the lock was made) ends it; failures before it do not count towards the next.
    const unlocked = user(new Date(at.getTime() + 1000));
    expect(await processes[2]!.guard(there).lockedFor(unlocked, new Date(at.getTime() + 2000))).toBe(0);
    expect(await processes[0]!.guard(there).failed(unlocked, new Date(at.getTime() + 3000))).toBeNull();
    // A login that succeeds clears the count; the lock's key expires by itself (a day after the last failure).
    const key = `${limits.prefix}:login-lock:${user().id}:${there}`;
    expect(await redis.pttl(key)).toBeGreaterThan(DAY_MS - 10_000);
    await processes[1]!.guard(there).succeeded(user());
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('when Redis cannot be reached', () => {
  test('then the counters and the day\'s key fail (at once), and the login limiter answers 503 sessions_unavailable: it fails closed', async () => {
    const dead = new Redis(DEAD, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    dead.on('error', () => undefined);
    try {
      const limits = limitStore(dead, 'dead');
      await expect(clientKeys(limits)('203.0.113.7')).rejects.toThrow();
      await expect(new WindowCounter(limits, 'test', 1, 1000).hit('a', 0)).rejects.toThrow();
      const limiter = createLoginLimiter(limits, { perAddress: 3, maxFailures: 3, lockoutMs: 60_000 });
      await expect(limiter.addressKey('203.0.113.7')).rejects.toMatchObject({ code: 'sessions_unavailable', status: 503 });
      await expect(limiter.check('somebody', new Date())).rejects.toMatchObject({ code: 'sessions_unavailable', status: 503 });
      await expect(limiter.guard('somebody').lockedFor(user(), new Date())).rejects.toMatchObject({ code: 'sessions_unavailable' });
    } finally {
      dead.disconnect();
    }
  });

  test('then an app answers reads under /api (the request limit fails open), refuses uploads at once with 503 and Retry-After, and refuses logins with 503', async () => {
    const dead = new Redis(DEAD, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    dead.on('error', () => undefined);
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', name: 'server', destination: { write: (line: string) => void lines.push(line) } });
    const app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, undefined, () => ({ redis: dead, logger }));
    try {
      await seedDemoCampaign(app.deps);
      expect((await fetch(`${app.baseUrl}/api/campaigns/demo`)).status).toBe(200);
      const upload = await fetch(`${app.baseUrl}/api/submissions`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--\r\n' });
      expect({ status: upload.status, code: ((await upload.json()) as { code: string }).code, retryAfter: upload.headers.get('retry-after') }).toEqual({ status: 503, code: 'queue_unavailable', retryAfter: '30' });
      const tus = await fetch(`${app.baseUrl}/tus`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '1000' } });
      expect({ status: tus.status, retryAfter: tus.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '30' });

      const client = new StaffClient(app.baseUrl);
      await client.get('/staff/login');
      const login = await client.post('/staff/login', { email: 'someone@example.org', password: 'whatever password' });
      expect({ status: login.status, retryAfter: login.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '30' });
      // Said once per limit and route, not once per request (multipart and tus creations share the uploads counter).
      const warned = lines.map((line) => JSON.parse(line) as { msg: string; limit?: string }).filter((line) => line.msg.startsWith('rate limit not counted'));
      expect(warned.map((line) => line.limit).sort()).toEqual(['requests', 'uploads', 'uploads']);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
