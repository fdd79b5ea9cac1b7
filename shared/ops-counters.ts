import type Redis from 'ioredis';

/**
 * Counters for the alerts, shared by every server and worker process through Redis: the worker has no HTTP
 * endpoint, so it counts here and the server's /metrics reads the totals (server/services/metrics.service.ts),
 * as it reads the queue's counts. One hash per queue prefix; an increment is one HINCRBY, never awaited by the
 * code that counts (a count lost while Redis is away is better than a job or a request held up by it).
 * The totals only grow (Prometheus' rate() takes a Redis flush for a counter reset).
 */
export const OPS_COUNTERS = {
  /** A job's run threw (the queue retries it, or fails it for good after its last attempt). */
  jobAttemptsFailed: 'job_attempts_failed',
  /** A job's last attempt threw: the job is failed for good. */
  jobsFailed: 'jobs_failed',
  /** A webhook delivery attempt without a 2xx answer. */
  webhookAttemptsFailed: 'webhook_attempts_failed',
  /** A webhook delivery given up: its last attempt failed, or its address was refused. */
  webhookDeliveriesFailed: 'webhook_deliveries_failed',
  /** An S3 request that failed (after the client's own retry), other than "not found" and aborts. */
  objectStorageErrors: 'object_storage_errors',
  /** The database connection reported an error, or was lost while open. */
  databaseErrors: 'database_errors',
} as const;

export type OpsCounterName = (typeof OPS_COUNTERS)[keyof typeof OPS_COUNTERS];

/** A worker's job folder (WORK_DIR), as it last reported it. */
export interface JobFolderReport {
  worker: string;
  freeBytes: number;
  sizeBytes: number;
  at: Date;
}

export interface OpsCounters {
  /** Adds one; `job` for the job counters. Never throws, never waits. */
  inc(name: OpsCounterName, job?: string): void;
  /** Every total, as `{ name, job, value }` (job: null for the counters without one). */
  read(): Promise<Array<{ name: string; job: string | null; value: number }>>;
  reportJobFolder(report: JobFolderReport): Promise<void>;
  /** The job folders reported within `maxAgeMs` of `now`; older reports (a worker gone) are removed. */
  readJobFolders(now: Date, maxAgeMs: number): Promise<JobFolderReport[]>;
}

export function createOpsCounters(redis: Redis, prefix: string): OpsCounters {
  const countersKey = `${prefix}:ops:counters`;
  const foldersKey = `${prefix}:ops:job-folders`;
  return {
    inc(name, job) {
      redis.hincrby(countersKey, job ? `${name}:${job}` : name, 1).catch(() => undefined);
    },

    async read() {
      const all = await redis.hgetall(countersKey);
      return Object.entries(all).map(([field, value]) => {
        const at = field.indexOf(':');
        return { name: at < 0 ? field : field.slice(0, at), job: at < 0 ? null : field.slice(at + 1), value: Number(value) };
      });
    },

    async reportJobFolder(report) {
      await redis.hset(foldersKey, report.worker, JSON.stringify({ ...report, at: report.at.getTime() }));
    },

    async readJobFolders(now, maxAgeMs) {
      const out: JobFolderReport[] = [];
      for (const [worker, raw] of Object.entries(await redis.hgetall(foldersKey))) {
        const report = JSON.parse(raw) as { freeBytes: number; sizeBytes: number; at: number };
        if (now.getTime() - report.at > maxAgeMs) {
          await redis.hdel(foldersKey, worker);
          continue;
        }
        out.push({ worker, freeBytes: report.freeBytes, sizeBytes: report.sizeBytes, at: new Date(report.at) });
      }
      return out;
    },
  };
}

/** Wraps a job handler: a run that throws is counted (and a last attempt's as a job failed for good), then rethrown. */
export function countFailures<J extends { name: string; attempt: number; maxAttempts: number }>(counters: OpsCounters, run: (job: J) => Promise<void>): (job: J) => Promise<void> {
  return async (job) => {
    try {
      await run(job);
    } catch (error) {
      counters.inc(OPS_COUNTERS.jobAttemptsFailed, job.name);
      if (job.attempt >= job.maxAttempts) counters.inc(OPS_COUNTERS.jobsFailed, job.name);
      throw error;
    }
  };
}
