import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import { queueUnavailable } from '../../shared/errors';

/**
 * A tus lock that holds across server processes: a Redis key per upload (SET NX PX, renewed while held,
 * deleted only by its holder). A request that wants a held upload publishes a release request; the
 * process holding it calls tus's `requestRelease` (which ends the older request, e.g. a PATCH still
 * hanging on a dropped mobile connection), and the newcomer takes the key. Unlike @tus/server's
 * MemoryLocker (per process), two processes behind one balancer can never write one upload at once.
 */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export interface RedisLockerOptions {
  prefix: string;
  /** How long a lock lives without renewal (a crashed holder frees its uploads after this). */
  ttlMs?: number;
  /** How long to wait for a held lock before giving up (tus answers 500 ERR_LOCK_TIMEOUT). */
  acquireTimeoutMs?: number;
}

export class RedisLocker implements Locker {
  readonly ttlMs: number;
  readonly acquireTimeoutMs: number;
  /** The locks this process holds, by upload id: how to ask their request to let go. */
  readonly held = new Map<string, RequestRelease>();
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;

  constructor(
    readonly redis: Redis,
    private readonly options: RedisLockerOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
  }

  key(id: string): string {
    return `${this.options.prefix}:tus-lock:${id}`;
  }

  channel(id: string): string {
    return `${this.options.prefix}:tus-release:${id}`;
  }

  /** One subscriber connection per process, for the release requests of every upload. */
  listen(): Promise<void> {
    this.subscribed ??= (async () => {
      const subscriber = this.redis.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
      subscriber.on('error', () => undefined);
      this.subscriber = subscriber;
      await subscriber.connect().catch(() => undefined);
      await subscriber.psubscribe(`${this.options.prefix}:tus-release:*`);
      subscriber.on('pmessage', (_pattern: string, channel: string) => {
        const id = channel.slice(`${this.options.prefix}:tus-release:`.length);
        const release = this.held.get(id);
        if (release) void Promise.resolve(release()).catch(() => undefined);
      });
    })();
    return this.subscribed;
  }

  newLock(id: string): Lock {
    return new RedisLock(id, this);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = null;
    this.subscribed = null;
  }
}

class RedisLock implements Lock {
  private readonly token = randomBytes(16).toString('hex');
  private renewal: NodeJS.Timeout | undefined;
  private release: RequestRelease | undefined;

  constructor(
    private readonly id: string,
    private readonly locker: RedisLocker,
  ) {}

  async lock(stopSignal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { redis } = this.locker;
    // Not awaited: while Redis is away the subscription waits for it, and a request must not (a HEAD hung). A release
    // request sent before it is up is sent again by the newcomer at each try.
    void this.locker.listen().catch(() => undefined);
    const key = this.locker.key(this.id);
    const deadline = Date.now() + this.locker.acquireTimeoutMs;
    let wait = 20;
    for (;;) {
      if (stopSignal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
      // Redis away: 503 (a HEAD is answered 423, which tus clients retry), not a 500 nor a wait.
      const taken = await redis.set(key, this.token, 'PX', this.locker.ttlMs, 'NX').catch((error: unknown) => {
        throw queueUnavailable(error);
      });
      if (taken === 'OK') break;
      // Ask whoever holds it (in any process) to let go, then try again shortly.
      await redis.publish(this.locker.channel(this.id), 'release').catch((error: unknown) => {
        throw queueUnavailable(error);
      });
      if (Date.now() + wait > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 500);
    }
    this.release = requestRelease;
    this.locker.held.set(this.id, requestRelease);
    this.renewal = setInterval(() => {
      void redis.eval(RENEW_SCRIPT, 1, key, this.token, String(this.locker.ttlMs)).then(
        (renewed) => {
          // The lock expired (Redis unreachable for longer than its TTL) and may be someone else's now:
          // this request stops writing (what it stored stays) rather than write beside another.
          if (renewed === 0) {
            clearInterval(this.renewal);
            void Promise.resolve(requestRelease()).catch(() => undefined);
          }
        },
        () => undefined,
      );
    }, Math.max(1000, Math.floor(this.locker.ttlMs / 3)));
    this.renewal.unref();
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewal);
    if (this.locker.held.get(this.id) === this.release) this.locker.held.delete(this.id);
    await this.locker.redis.eval(RELEASE_SCRIPT, 1, this.locker.key(this.id), this.token);
  }
}
