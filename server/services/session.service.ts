import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { StaffRole } from '../../shared/models/staff-user.model';

/**
 * Staff sessions, kept in Redis. The cookie holds a random 256-bit id; Redis holds only its SHA-256,
 * so a copy of Redis gives no working cookie. The idle and absolute limits are checked on every read
 * against the session's own times (so the app's clock decides); the Redis key's expiry (renewed on
 * every request) is the clean-up, so nothing is left behind.
 *
 * A session moves through stages: `password` (password checked, second factor still to give),
 * `enrol` (password checked, must enrol TOTP first), `full` (may use the staff pages). The id is
 * replaced (rotated) at each step up, so an id seen before login is worth nothing after it.
 */

export type SessionStage = 'password' | 'enrol' | 'full';

export interface StaffSession {
  userId: string;
  email: string;
  role: StaffRole;
  campaigns: string[];
  stage: SessionStage;
  /** Synchronizer token: every state-changing request must carry it. */
  csrfToken: string;
  /** Unused since the key being set up is the account's (staff.service.ts, pendingTotpSecret); always null. */
  pendingTotpSecret: string | null;
  /** During login: the staff page to go back to once logged in (checked by safeNext when it was set). */
  returnTo?: string | null;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
}

export interface SessionStore {
  create(data: Omit<StaffSession, 'csrfToken' | 'createdAt' | 'lastSeenAt' | 'absoluteExpiresAt' | 'pendingTotpSecret'>, now: Date): Promise<{ id: string; session: StaffSession }>;
  /** The session, renewed for another idle period; null when unknown, idle too long or past its absolute expiry. */
  read(id: string, now: Date): Promise<StaffSession | null>;
  update(id: string, session: StaffSession): Promise<void>;
  /** A new id for the same session (the old one stops working), with changes applied. */
  rotate(id: string, session: StaffSession, changes: Partial<StaffSession>, now: Date): Promise<{ id: string; session: StaffSession }>;
  destroy(id: string): Promise<void>;
  /** Ends every session of one person (after a role change or when an account is disabled). */
  destroyAllOf(userId: string): Promise<void>;
}

export function createSessionStore(redis: Redis, options: { prefix: string; idleSeconds: number; absoluteSeconds: number }): SessionStore {
  const key = (id: string) => `${options.prefix}:staff-session:${createHash('sha256').update(id).digest('hex')}`;
  const userKey = (userId: string) => `${options.prefix}:staff-sessions-of:${userId}`;
  const ttl = (session: StaffSession, now: Date) =>
    Math.max(1, Math.min(options.idleSeconds, Math.ceil((session.absoluteExpiresAt - now.getTime()) / 1000)));

  async function save(id: string, session: StaffSession, now: Date): Promise<void> {
    await redis
      .multi()
      .set(key(id), JSON.stringify(session), 'EX', ttl(session, now))
      .sadd(userKey(session.userId), key(id))
      .expire(userKey(session.userId), options.absoluteSeconds)
      .exec();
  }

  return {
    async create(data, now) {
      const id = randomBytes(32).toString('base64url');
      const session: StaffSession = {
        ...data,
        csrfToken: randomBytes(32).toString('base64url'),
        pendingTotpSecret: null,
        createdAt: now.getTime(),
        lastSeenAt: now.getTime(),
        absoluteExpiresAt: now.getTime() + options.absoluteSeconds * 1000,
      };
      await save(id, session, now);
      return { id, session };
    },
    async read(id, now) {
      if (!/^[\w-]{43}$/.test(id)) return null;
      const raw = await redis.get(key(id));
      if (!raw) return null;
      const stored = JSON.parse(raw) as StaffSession;
      const at = now.getTime();
      if (at >= stored.absoluteExpiresAt || at - stored.lastSeenAt >= options.idleSeconds * 1000) {
        await redis.del(key(id));
        return null;
      }
      const session = { ...stored, lastSeenAt: at };
      await redis.set(key(id), JSON.stringify(session), 'EX', ttl(session, now));
      return session;
    },
    async update(id, session) {
      await redis.set(key(id), JSON.stringify(session), 'KEEPTTL');
    },
    async rotate(id, session, changes, now) {
      await redis.del(key(id));
      const next = randomBytes(32).toString('base64url');
      // A fresh CSRF token too: a token seen before the step up is worth nothing after it.
      const updated: StaffSession = { ...session, ...changes, lastSeenAt: now.getTime(), csrfToken: randomBytes(32).toString('base64url') };
      await save(next, updated, now);
      return { id: next, session: updated };
    },
    async destroy(id) {
      await redis.del(key(id));
    },
    async destroyAllOf(userId) {
      const keys = await redis.smembers(userKey(userId));
      if (keys.length > 0) await redis.del(...keys);
      await redis.del(userKey(userId));
    },
  };
}
