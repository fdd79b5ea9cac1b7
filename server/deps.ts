import type Redis from 'ioredis';
import type { Config } from '../shared/config';
import type { Database } from '../shared/db';
import type { Logger } from '../shared/logger';
import type { JobQueue } from '../shared/queue/queue';
import type { ObjectStorage } from '../shared/storage/object-storage';
import type { Lifecycle } from './middleware/stopping';
import type { Metrics } from './services/metrics.service';

/** Everything the server needs, passed explicitly: tests build the same object against the real local services. */
export interface ServerDeps {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  queue: JobQueue;
  storage: ObjectStorage;
  /** Staff sessions live here. */
  redis: Redis;
  /** Prometheus metrics on a registry of this app's own (services/metrics.service.ts). */
  metrics: Metrics;
  /** The clock, so tests can check opening dates without waiting for them. */
  now(): Date;
  /** Set when the process is stopping (main.ts, on SIGTERM): uploads are refused, /readyz says 503. */
  lifecycle?: Lifecycle;
}
