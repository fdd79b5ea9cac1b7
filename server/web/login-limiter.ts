import { AppError } from '../../shared/errors';
import { clientKeys, WindowCounter, withinRedisTimeout, type LimitStore } from '../middleware/rate-limit';
import type { LoginGuard } from '../services/staff.service';

/**
 * Login limits, in Redis (`<QUEUE_PREFIX>:limits:…`), so every server process counts against the same
 * budget: the address is only ever held as the rate limits' keyed hash (server/middleware/rate-limit.ts: a
 * random key of the day shared through Redis), never stored or logged.
 *
 * - Per address, only refused logins count (a wrong address, password or code: one login is one count, its
 *   two steps are not two), `perAddress` in 15-minute windows, then 429 with Retry-After: an office behind
 *   one NAT address logs in as often as it likes, and someone trying account after account is stopped.
 * - Per account AND address, `maxFailures` wrong passwords or codes in a row lock that account for
 *   `lockoutMs` from that address only (`guard(address)`, given to the staff service): someone who knows a
 *   colleague's address cannot lock them out from elsewhere. An admin's unlock (the account's `unlockedAt`)
 *   ends such locks everywhere. A count of failures is forgotten a day after the last one (and the hashes
 *   change at midnight UTC anyway).
 * - Redis out of reach: fails closed, 503 `sessions_unavailable` (the sessions live in the same Redis, so no
 *   login could succeed anyway), never a login let through uncounted.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
export const LOGIN_LIMITS_RETRY_AFTER_SECONDS = 30;

/**
 * One wrong password or code for one account from one address, atomically. Failures before an admin's unlock
 * (ARGV[2], -1 for none) do not count towards the next lock; at `maxFailures` the account is locked from here.
 * The entry expires a day after the last failure, or when its lock ends if that is later. Answers the end of
 * a lock made now (ms), or 0.
 */
const FAILED_SCRIPT = `
local now = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'failures', 'lastAt', 'lockedUntil', 'lockedAt')
local failures = tonumber(state[1]) or 0
local lastAt = tonumber(state[2]) or now
local lockedUntil = tonumber(state[3]) or 0
local lockedAt = tonumber(state[4]) or 0
if tonumber(ARGV[2]) >= lastAt then failures = 0 end
failures = failures + 1
local locked = 0
if failures >= tonumber(ARGV[3]) then
  failures = 0
  lockedAt = now
  lockedUntil = now + tonumber(ARGV[4])
  locked = lockedUntil
end
redis.call('HSET', KEYS[1], 'failures', failures, 'lastAt', now, 'lockedUntil', lockedUntil, 'lockedAt', lockedAt)
redis.call('PEXPIRE', KEYS[1], math.max(lockedUntil - now, tonumber(ARGV[5])))
return locked`;

/** The login limits cannot be counted (Redis is not reachable): no login goes through uncounted. */
function unavailable(cause: unknown): AppError {
  return new AppError('sessions_unavailable', 503, 'Logins are not possible right now (the login limits cannot be counted). Please try again in a few minutes.', {
    expected: false,
    cause,
    details: { retryAfterSeconds: LOGIN_LIMITS_RETRY_AFTER_SECONDS },
  });
}

async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw unavailable(error);
  }
}

export function createLoginLimiter(
  store: LimitStore,
  options: { perAddress: number; maxFailures: number; lockoutMs: number; windowMs?: number; clock?: () => number },
) {
  const keyOf = clientKeys(store, options.clock);
  const refused = new WindowCounter(store, 'login-refused', options.perAddress, options.windowMs ?? 15 * 60_000);
  const tooMany = (retryAfterSeconds: number) =>
    new AppError('too_many_attempts', 429, 'Too many refused logins from here. Please wait and try again.', { details: { retryAfterSeconds, minutes: Math.ceil(retryAfterSeconds / 60) } });
  return {
    /** The keyed hash this request's address is known by. */
    addressKey(address: string | undefined): Promise<string> {
      return orUnavailable(keyOf(address ?? 'unknown'));
    },
    /** Throws 429 (details.retryAfterSeconds) when this address has had too many refused logins lately. */
    async check(addressKey: string, now: Date): Promise<void> {
      const verdict = await orUnavailable(refused.peek(addressKey, now.getTime()));
      if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds);
    },
    /** Counts one refused login of this address. */
    async refused(addressKey: string, now: Date): Promise<void> {
      await orUnavailable(refused.hit(addressKey, now.getTime()));
    },
    /** The per-account locks as seen from one address, for the staff service. */
    guard(addressKey: string): LoginGuard {
      const keyFor = (userId: string) => `${store.prefix}:login-lock:${userId}:${addressKey}`;
      return {
        async lockedFor(user, now) {
          const [until, at] = await orUnavailable(withinRedisTimeout(store.redis.hmget(keyFor(user.id), 'lockedUntil', 'lockedAt')));
          const lockedUntil = Number(until ?? 0);
          if (lockedUntil <= now.getTime()) return 0;
          // An admin's unlock after the lock was made ends it (the next failure starts counting afresh).
          if (user.unlockedAt && user.unlockedAt.getTime() >= Number(at ?? 0)) return 0;
          return Math.ceil((lockedUntil - now.getTime()) / 1000);
        },
        async failed(user, now) {
          const unlockedAt = user.unlockedAt ? user.unlockedAt.getTime() : -1;
          const locked = await orUnavailable(
            withinRedisTimeout(
              store.redis.eval(FAILED_SCRIPT, 1, keyFor(user.id), String(now.getTime()), String(unlockedAt), String(options.maxFailures), String(options.lockoutMs), String(DAY_MS)),
            ),
          );
          return Number(locked) > 0 ? new Date(Number(locked)) : null;
        },
        async succeeded(user) {
          await orUnavailable(withinRedisTimeout(store.redis.del(keyFor(user.id))));
        },
      };
    },
  };
}
