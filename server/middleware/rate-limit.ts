import { createHmac, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../shared/errors';

/**
 * Rate limits per client, in this process's memory only. A client is known by HMAC-SHA256 of its address
 * under a random key that exists only in memory and is replaced every day: the address itself is never
 * stored, logged or kept, and yesterday's hashes cannot be linked to today's.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

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

/** The keyed hash of a client's address; the key is random, in memory, and rotated daily. */
export function clientKeys(clock: () => number = Date.now): (address: string) => string {
  let key = randomBytes(32);
  let since = clock();
  return (address) => {
    if (clock() - since >= DAY_MS) {
      key = randomBytes(32);
      since = clock();
    }
    return createHmac('sha256', key).update(clientAddress(address)).digest('base64url');
  };
}

/**
 * Counts hits per key in fixed windows; entries of past windows are swept once per window. Memory is bounded:
 * past `maxKeys` clients in one window (a flood from many addresses), the oldest entry makes room.
 */
export class WindowCounter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 200_000,
  ) {}

  hit(key: string, now: number): { allowed: boolean; retryAfterSeconds: number } {
    if (now >= this.nextSweep) {
      for (const [k, entry] of this.hits) if (entry.resetAt <= now) this.hits.delete(k);
      this.nextSweep = now + this.windowMs;
    }
    let entry = this.hits.get(key);
    if (!entry || entry.resetAt <= now) {
      this.hits.delete(key);
      if (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.hits.set(key, entry);
    }
    entry.count += 1;
    return { allowed: entry.count <= this.limit, retryAfterSeconds: Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) };
  }

  /** Whether one more hit would be allowed, without counting it. */
  peek(key: string, now: number): { allowed: boolean; retryAfterSeconds: number } {
    const entry = this.hits.get(key);
    if (!entry || entry.resetAt <= now) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: entry.count < this.limit, retryAfterSeconds: Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) };
  }

  get size(): number {
    return this.hits.size;
  }
}

/** Refuses a client past `limit` requests in a window: 429 with Retry-After (the connection is closed if a body is on its way). */
export function rateLimit(options: {
  limit: number;
  windowSeconds: number;
  keyOf: (address: string) => string;
  message: string;
  clock?: () => number;
}) {
  const counter = new WindowCounter(options.limit, options.windowSeconds * 1000);
  const clock = options.clock ?? Date.now;
  return (req: Request, res: Response, next: NextFunction): void => {
    // req.ip follows `trust proxy` (TRUST_PROXY); it is hashed here and goes nowhere else.
    const verdict = counter.hit(options.keyOf(req.ip ?? req.socket.remoteAddress ?? ''), clock());
    if (verdict.allowed) {
      next();
      return;
    }
    res.set('Retry-After', String(verdict.retryAfterSeconds));
    next(new AppError('too_many_requests', 429, options.message));
  };
}
