import { AppError } from '../../shared/errors';
import { clientKeys, WindowCounter } from '../middleware/rate-limit';
import type { LoginGuard } from '../services/staff.service';

/**
 * Login limits, in memory: the address is only ever held as the rate limits' keyed hash
 * (server/middleware/rate-limit.ts: a random in-memory key, rotated daily), never stored or logged.
 *
 * - Per address, only refused logins count (a wrong address, password or code: one login is one count, its
 *   two steps are not two), `perAddress` in 15-minute windows, then 429 with Retry-After: an office behind
 *   one NAT address logs in as often as it likes, and someone trying account after account is stopped.
 * - Per account AND address, `maxFailures` wrong passwords or codes in a row lock that account for
 *   `lockoutMs` from that address only (`guard(address)`, given to the staff service): someone who knows a
 *   colleague's address cannot lock them out from elsewhere. An admin's unlock (the account's `unlockedAt`)
 *   ends such locks in every process.
 */
export function createLoginLimiter(options: { perAddress: number; maxFailures: number; lockoutMs: number; windowMs?: number; maxKeys?: number }) {
  const keyOf = clientKeys();
  const windowMs = options.windowMs ?? 15 * 60_000;
  const refused = new WindowCounter(options.perAddress, windowMs);
  const maxKeys = options.maxKeys ?? 100_000;
  const locks = new Map<string, { failures: number; lockedUntil: number; lockedAt: number; lastAt: number }>();
  const sweep = (now: number) => {
    if (locks.size < maxKeys) return;
    for (const [key, entry] of locks) if (entry.lockedUntil <= now && now - entry.lastAt > options.lockoutMs) locks.delete(key);
    while (locks.size >= maxKeys) locks.delete(locks.keys().next().value as string);
  };
  const tooMany = (retryAfterSeconds: number) =>
    new AppError('too_many_attempts', 429, 'Too many refused logins from here. Please wait and try again.', { details: { retryAfterSeconds, minutes: Math.ceil(retryAfterSeconds / 60) } });
  return {
    /** The keyed hash this request's address is known by. */
    addressKey(address: string | undefined): string {
      return keyOf(address ?? 'unknown');
    },
    /** Throws 429 (details.retryAfterSeconds) when this address has had too many refused logins lately. */
    check(addressKey: string, now: Date): void {
      const verdict = refused.peek(addressKey, now.getTime());
      if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds);
    },
    /** Counts one refused login of this address. */
    refused(addressKey: string, now: Date): void {
      refused.hit(addressKey, now.getTime());
    },
    /** The per-account locks as seen from one address, for the staff service. */
    guard(addressKey: string): LoginGuard {
      const keyFor = (userId: string) => `${userId}|${addressKey}`;
      return {
        lockedFor(user, now) {
          const entry = locks.get(keyFor(user.id));
          if (!entry || entry.lockedUntil <= now.getTime()) return 0;
          if (user.unlockedAt && user.unlockedAt.getTime() >= entry.lockedAt) {
            locks.delete(keyFor(user.id));
            return 0;
          }
          return Math.ceil((entry.lockedUntil - now.getTime()) / 1000);
        },
        failed(user, now) {
          const at = now.getTime();
          sweep(at);
          const key = keyFor(user.id);
          const entry = locks.get(key) ?? { failures: 0, lockedUntil: 0, lockedAt: 0, lastAt: at };
          // Failures before an admin's unlock do not count towards the next lock.
          if (user.unlockedAt && user.unlockedAt.getTime() >= entry.lastAt) entry.failures = 0;
          entry.failures += 1;
          entry.lastAt = at;
          locks.set(key, entry);
          if (entry.failures < options.maxFailures) return null;
          entry.failures = 0;
          entry.lockedAt = at;
          entry.lockedUntil = at + options.lockoutMs;
          return new Date(entry.lockedUntil);
        },
        succeeded(user) {
          locks.delete(keyFor(user.id));
        },
      };
    },
  };
}
