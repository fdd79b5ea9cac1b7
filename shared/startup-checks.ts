import Redis from 'ioredis';
import type { Config } from './config';
import { connectDatabase, type Database } from './db';
import { checkImageLibrary } from './images/clean-image';
import { createOpsCounters, OPS_COUNTERS, type OpsCounters } from './ops-counters';
import { createJobQueue, type JobQueue } from './queue/queue';
import { createObjectStorage, type ObjectStorage } from './storage/object-storage';

/** A dependency is missing or misconfigured: the process refuses to start and says which and why. */
export class StartupError extends Error {}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Redis must keep the queue across restarts (AOF on) and must never evict a job to make room
 * (`maxmemory-policy noeviction`): otherwise a clip could silently never be processed.
 * Uses INFO, which managed Redis services allow, rather than CONFIG GET, which many forbid.
 */
export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = `${await redis.info('persistence')}\n${await redis.info('memory')}`;
    const value = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const problems: string[] = [];
    if (value('aof_enabled') !== '1') problems.push('append-only persistence is off (set "appendonly yes")');
    if (value('maxmemory_policy') !== 'noeviction') {
      problems.push(`maxmemory-policy is "${value('maxmemory_policy') ?? 'unknown'}" (set "maxmemory-policy noeviction")`);
    }
    if (problems.length > 0) throw new StartupError(`Redis at ${redactUrl(url)} is not safe for the job queue: ${problems.join('; ')}.`);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`Redis is not reachable at ${redactUrl(url)}: ${describe(error)}. Is it running? (npm start runs one locally.)`);
  } finally {
    redis.disconnect();
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export interface CoreServices {
  db: Database;
  queue: JobQueue;
  storage: ObjectStorage;
  /** A plain Redis connection (staff sessions); the queue keeps its own. */
  redis: Redis;
  /** The counters the alerts read, shared by all processes through Redis (shared/ops-counters.ts). */
  counters: OpsCounters;
  close(): Promise<void>;
}

/** The image library the uploaded pictures are cleaned with (shared/images/clean-image.ts) works here. */
export async function checkImages(): Promise<void> {
  try {
    await checkImageLibrary();
  } catch (error) {
    throw new StartupError(`Uploaded pictures cannot be cleaned: ${describe(error)}. Reinstall with npm ci (sharp's prebuilt binaries come from npm).`);
  }
}

/** Connects to the database, Redis and S3, checking each; throws a StartupError that says what is wrong. */
export async function connectCoreServices(config: Readonly<Config>, onQueueError?: (error: Error) => void): Promise<CoreServices> {
  await checkRedis(config.redis.url);
  // Fails fast while Redis is away (like the queue), so a staff page gets a clear 503 instead of hanging.
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (error) => onQueueError?.(error));
  await redis.connect();
  const counters = createOpsCounters(redis, config.redis.queuePrefix);

  let db: Database;
  try {
    db = await connectDatabase(config.mongo.url, config.keys, () => counters.inc(OPS_COUNTERS.databaseErrors));
  } catch (error) {
    redis.disconnect();
    throw new StartupError(`The database is not reachable at ${redactUrl(config.mongo.url)}: ${describe(error)}. (npm start runs one locally.)`);
  }

  const storage = createObjectStorage(config.s3, config.upload, () => counters.inc(OPS_COUNTERS.objectStorageErrors));
  try {
    await storage.checkBucket();
  } catch (error) {
    await db.close();
    redis.disconnect();
    throw new StartupError(
      `The bucket "${config.s3.bucket}" is not reachable at ${config.s3.endpoint ?? 'AWS S3'}: ${describe(error)}. ` +
        'Create it, or check S3_ENDPOINT, S3_BUCKET and the credentials.',
    );
  }

  const queue = createJobQueue({ redisUrl: config.redis.url, prefix: config.redis.queuePrefix, lockSeconds: config.redis.lockSeconds, onError: onQueueError });
  return {
    db,
    queue,
    storage,
    redis,
    counters,
    async close() {
      redis.disconnect();
      await queue.close();
      await db.close();
      storage.client.destroy();
    },
  };
}
