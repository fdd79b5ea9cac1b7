import { createHmac, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type Redis from 'ioredis';
import { AppError, queueUnavailable } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

/**
 * Rate limits per client, kept in Redis so that every server process counts against one budget: three
 * replicas behind a balancer give a client what one gives, not three times as much. A client is known by
 * HMAC-SHA256 of its address under a random key of the day, kept in Redis for every process to share
 * (`clientKeys`): the address itself never reaches Redis, a log or the database, and once a day's key has
 * expired its hashes cannot be linked to the next day's (nor tested against addresses).
 * Counters are fixed windows, one small Redis hash per client and limit, each expiring with its window.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** How long a process keeps the day's key before asking Redis again (a Redis that lost it gets one back). */
const KEY_CACHE_MS = 5 * 60 * 1000;
/** A Redis answer this late counts as Redis being away (the connection already fails fast when it is down). */
const REDIS_TIMEOUT_MS = 2000;

/** One client, one address: ::ffff:a.b.c.d is a.b.c.d, and an IPv6 client owns (at least) a /64. */
export function clientAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`;
}

/** Where the limits live: the app's Redis connection, keys under `<QUEUE_PREFIX>:limits:`. */
export interface LimitStore {
  redis: Redis;
  prefix: string;
}

export function limitStore(redis: Redis, queuePrefix: string): LimitStore {
  return { redis, prefix: `${queuePrefix}:limits` };
}

/** A Redis command that does not answer in time fails like one refused. */
export async function withinRedisTimeout<T>(command: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([command, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The day's key: 32 random bytes under `<prefix>:client-key:<UTC day number>`, made by whichever process asks
 * first (SET NX; the others read it). It expires an hour after its day ends (a process whose clock is a little
 * behind still finds it), so a day's hashes can be linked to addresses only while that day lasts.
 */
async function dayKey(store: LimitStore, day: number, now: number): Promise<Buffer> {
  const name = `${store.prefix}:client-key:${day}`;
  const mine = randomBytes(32).toString('base64');
  const ttlMs = Math.max(HOUR_MS, (day + 1) * DAY_MS - now + HOUR_MS);
  const taken = await withinRedisTimeout(store.redis.set(name, mine, 'PX', ttlMs, 'NX'));
  const value = taken === 'OK' ? mine : await withinRedisTimeout(store.redis.get(name));
  if (!value) throw new Error(`the client key of day ${day} is missing in Redis`);
  return Buffer.from(value, 'base64');
}

/**
 * The keyed hash of a client's address under the day's key, shared by every process through Redis. The key
 * is cached for a few minutes; a Redis that cannot be reached makes the promise reject (the caller decides).
 */
export function clientKeys(store: LimitStore, clock: () => number = Date.now): (address: string) => Promise<string> {
  let cached: { day: number; until: number; key: Promise<Buffer> } | null = null;
  const keyOf = (now: number): Promise<Buffer> => {
    const day = Math.floor(now / DAY_MS);
    if (cached && cached.day === day && now < cached.until) return cached.key;
    const key = dayKey(store, day, now);
    const entry = { day, until: now + KEY_CACHE_MS, key };
    cached = entry;
    // A failure is not kept: the next request asks Redis again.
    void key.catch(() => {
      if (cached === entry) cached = null;
    });
    return key;
  };
  return async (address) => {
    const key = await keyOf(clock());
    return createHmac('sha256', key).update(clientAddress(address)).digest('base64url');
  };
}

/**
 * One window of one counter, atomically: the hash holds the count (`n`) and when its window ends (`until`, on
 * the app's clock, so tests can move time); a window that has ended starts again at 0. `hit` counts and sets
 * the key to expire when its window ends; `peek` only reads. Answers the count and the milliseconds left.
 */
const WINDOW_SCRIPT = `
local now = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'n', 'until')
local count = tonumber(state[1]) or 0
local ends = tonumber(state[2]) or 0
if ends <= now then
  count = 0
  ends = now + tonumber(ARGV[2])
end
if ARGV[3] == 'hit' then
  count = count + 1
  redis.call('HSET', KEYS[1], 'n', count, 'until', ends)
  redis.call('PEXPIRE', KEYS[1], ends - now)
end
return {count, ends - now}`;

export interface Verdict {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * Counts hits per client key in fixed windows, in Redis (`<prefix>:<name>:<client key>`): every process
 * shares the count. Memory is bounded without sweeps: each key expires when its window ends.
 */
export class WindowCounter {
  constructor(
    private readonly store: LimitStore,
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private async run(key: string, now: number, mode: 'hit' | 'peek'): Promise<{ count: number; leftMs: number }> {
    const answer = await withinRedisTimeout(
      this.store.redis.eval(WINDOW_SCRIPT, 1, `${this.store.prefix}:${this.name}:${key}`, String(now), String(this.windowMs), mode),
    );
    const [count, leftMs] = answer as [number, number];
    return { count, leftMs };
  }

  async hit(key: string, now: number): Promise<Verdict> {
    const { count, leftMs } = await this.run(key, now, 'hit');
    return { allowed: count <= this.limit, retryAfterSeconds: Math.max(1, Math.ceil(leftMs / 1000)) };
  }

  /** Whether one more hit would be allowed, without counting it. */
  async peek(key: string, now: number): Promise<Verdict> {
    const { count, leftMs } = await this.run(key, now, 'peek');
    if (count === 0) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: count < this.limit, retryAfterSeconds: Math.max(1, Math.ceil(leftMs / 1000)) };
  }
}

/** How long a client refused because the limits cannot be counted is asked to wait. */
export const LIMITS_UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/**
 * What a limit does while Redis cannot be reached: `allow` lets the request through uncounted (logged, at
 * most once a minute per limit); `refuse` answers 503 `queue_unavailable` with Retry-After, before any body
 * is read (the queue lives in the same Redis: an upload could not be queued anyway).
 */
export type WhenUnavailable = 'allow' | 'refuse';

/** The per-client limits of one app: one Redis store, one day's key shared by every limit. */
export interface ClientLimits {
  store: LimitStore;
  keyOf: (address: string) => Promise<string>;
  logger: Logger;
}

/** Refuses a client past `limit` requests in a window: 429 with Retry-After (the connection is closed if a body is on its way). */
export function rateLimit(
  limits: ClientLimits,
  options: {
    /** The counter's name in Redis: limits with different names are counted apart. */
    name: string;
    limit: number;
    windowSeconds: number;
    message: string;
    whenUnavailable: WhenUnavailable;
    clock?: () => number;
  },
) {
  const counter = new WindowCounter(limits.store, options.name, options.limit, options.windowSeconds * 1000);
  const clock = options.clock ?? Date.now;
  let warnedAt = -Infinity;
  const unavailable = (error: unknown, res: Response, next: NextFunction): void => {
    if (Date.now() - warnedAt >= 60_000) {
      warnedAt = Date.now();
      limits.logger.warn({ err: error, limit: options.name, whenUnavailable: options.whenUnavailable }, 'rate limit not counted: Redis is not reachable');
    }
    if (options.whenUnavailable === 'allow') {
      next();
      return;
    }
    res.set('Retry-After', String(LIMITS_UNAVAILABLE_RETRY_AFTER_SECONDS));
    next(queueUnavailable(error));
  };
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // req.ip follows `trust proxy` (TRUST_PROXY); it is hashed here and goes nowhere else.
    const address = req.ip ?? req.socket.remoteAddress ?? '';
    let verdict: Verdict;
    try {
      verdict = await counter.hit(await limits.keyOf(address), clock());
    } catch (error) {
      unavailable(error, res, next);
      return;
    }
    if (verdict.allowed) {
      next();
      return;
    }
    res.set('Retry-After', String(verdict.retryAfterSeconds));
    next(new AppError('too_many_requests', 429, options.message));
  };
}
