import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import Bull from 'bull';
import { Router } from 'express';
import type { WorkerJobSet } from './job-sets';

/**
 * The job queue: the only module that imports bull, so replacing it later touches this file alone.
 * Payloads carry ids only; handlers reload the document, so a retry sees the current state.
 */

export const QUEUE_NAME = 'submissions';
/**
 * Webhook deliveries have a bull queue of their own: a bull worker takes every job of its queue and fails the ones it
 * has no handler for ("Missing process handler"), so the webhook sender (the only process that needs the internet,
 * WORKER_JOBS=deliver-webhook) and the media workers (all-but-webhooks) must take from different queues.
 */
export const WEBHOOK_QUEUE_NAME = 'webhooks';

export interface JobPayloads {
  'process-submission': { submissionId: string };
  'release-submission': { submissionId: string };
  'takedown-submission': { submissionId: string };
  'deliver-webhook': { deliveryId: string };
  /** Re-renders the review preview with a moderator's caption version burned in. */
  /** `render`: 0 for the save's own render, n for its n-th redraw (the protected preview under it was drawn again). */
  'caption-preview': { captionVersionId: string; render?: number };
  /**
   * Draws a protected clip's preview and protected master again after its face masks were edited (or protection
   * switched on); with `part: 'master'`, only the protected master, after processing drew the preview (so the clip
   * is in review sooner).
   */
  'protect-clip': { submissionId: string; trackVersion: number; part?: 'master' };
  /** Checks a file sent to /verify (shared/provenance/verify-check.ts): its signature, then its content. */
  'verify-file': { checkId: string };
}

export type JobName = keyof JobPayloads;

/** The bull queue a job goes to (Redis keys `<QUEUE_PREFIX>:<queue>:wait` and so on). */
export function queueOf(name: JobName): typeof QUEUE_NAME | typeof WEBHOOK_QUEUE_NAME {
  return name === 'deliver-webhook' ? WEBHOOK_QUEUE_NAME : QUEUE_NAME;
}

/** The job names a worker with WORKER_JOBS=`set` takes, out of `all`. */
export function jobNamesOf(set: WorkerJobSet, all: readonly JobName[]): JobName[] {
  if (set === 'all') return [...all];
  return all.filter((name) => (queueOf(name) === WEBHOOK_QUEUE_NAME) === (set === 'deliver-webhook'));
}

const HOUR = 3600;

/** One release job per submission (its own id space: the processing job's id is the submission id). */
export function releaseJobId(submissionId: string): string {
  return `release-${submissionId}`;
}

export function captionPreviewJobId(captionVersionId: string, render = 0): string {
  return render > 0 ? `caption-preview-${captionVersionId}-r${render}` : `caption-preview-${captionVersionId}`;
}

export function protectJobId(submissionId: string, trackVersion: number, part?: 'master'): string {
  return part === 'master' ? `protect-master-${submissionId}-${trackVersion}` : `protect-${submissionId}-${trackVersion}`;
}

export function takedownJobId(submissionId: string): string {
  return `takedown-${submissionId}`;
}

/** Retry, backoff, job ids and retention, in one place. */
export function jobOptions<N extends JobName>(name: N, payload: JobPayloads[N]): Bull.JobOptions {
  const ids = payload as { submissionId?: string; deliveryId?: string };
  switch (name) {
    case 'process-submission':
      return {
        // One job per submission: enqueueing twice is a no-op while the first job exists.
        jobId: ids.submissionId,
        attempts: 5,
        // 15 s, 30 s, 60 s, 120 s: rides out a short S3 or database outage.
        backoff: { type: 'exponential', delay: 15_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    case 'release-submission':
      return {
        jobId: releaseJobId(ids.submissionId!),
        // A failed render retries: 30 s, 1 min, 2 min, 4 min, 8 min.
        attempts: 6,
        backoff: { type: 'exponential', delay: 30_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    case 'takedown-submission':
      return {
        jobId: takedownJobId(ids.submissionId!),
        // A deletion must happen: many tries, 5 s doubling (rides out an S3 outage of an hour and more).
        attempts: 12,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    case 'deliver-webhook':
      return {
        jobId: `webhook-${ids.deliveryId!}`,
        // 10 s, 20 s, 40 s … about 21 minutes over 8 attempts: a receiver that is briefly down still gets it.
        attempts: 8,
        backoff: { type: 'exponential', delay: 10_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    case 'caption-preview':
      return {
        // One job per version and render: a save is rendered once (again only when the picture under it changed);
        // a newer save has a job of its own.
        jobId: captionPreviewJobId((payload as JobPayloads['caption-preview']).captionVersionId, (payload as JobPayloads['caption-preview']).render),
        attempts: 5,
        backoff: { type: 'exponential', delay: 10_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    case 'protect-clip': {
      const { submissionId, trackVersion, part } = payload as JobPayloads['protect-clip'];
      return {
        // One job per saved version (and part): a newer save has its own job, and the older one finds itself superseded.
        jobId: protectJobId(submissionId, trackVersion, part),
        attempts: 5,
        backoff: { type: 'exponential', delay: 10_000 },
        removeOnComplete: { age: 7 * 24 * HOUR, count: 10_000 },
        removeOnFail: { age: 30 * 24 * HOUR },
      };
    }
    case 'verify-file':
      return {
        jobId: `verify-${(payload as JobPayloads['verify-file']).checkId}`,
        // Someone is waiting on the page: one quick retry, then the page says it could not be checked.
        attempts: 2,
        backoff: { type: 'fixed', delay: 2_000 },
        // Its id is the answer's address: gone from Redis within the answer's hour.
        removeOnComplete: { age: HOUR, count: 1_000 },
        removeOnFail: { age: HOUR },
      };
    default:
      throw new Error(`no job options for ${String(name)}`);
  }
}

/**
 * Queue-wide settings. A job's lock is renewed at a quarter of its duration while its handler runs
 * (ffmpeg runs in a child process, so the event loop stays free): a long encode is never taken for a
 * stalled job. A worker that died loses the lock after `lockSeconds`; the stalled-job check runs every
 * quarter of that, so its job is handed on within 1¼ lock times. A stalled job is always handed on, never
 * failed ("job stalled more than allowable limit" left clips waiting minutes for the reconciler): the
 * database bounds the attempts instead (shared/submissions/processing.ts, MAX_CLAIMS), and the processing
 * lease keeps two workers off one clip.
 */
function settings(lockSeconds: number): Bull.AdvancedSettings {
  return {
    lockDuration: lockSeconds * 1000,
    lockRenewTime: (lockSeconds * 1000) / 4,
    stalledInterval: (lockSeconds * 1000) / 4,
    maxStalledCount: 1_000,
  };
}

export interface QueueJob<N extends JobName> {
  id: string;
  name: N;
  payload: JobPayloads[N];
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  reportProgress(percent: number): Promise<void>;
}

export type JobHandler<N extends JobName> = (job: QueueJob<N>) => Promise<void>;

export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export interface JobQueue {
  /**
   * Adds a job. With `replace`, a completed or failed job of the same id is removed first so it runs again.
   * With `delayMs`, the job waits that long before a worker may take it (a delayed job: an approval's hold).
   */
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options?: { replace?: boolean; delayMs?: number }): Promise<void>;
  /**
   * Removes a job that has not started (waiting or delayed). Returns what became of it: `removed`, `absent` (no
   * such job), or the state it is in and was left in (`active`, `completed`, `failed`).
   */
  cancel(jobId: string): Promise<'removed' | 'absent' | string>;
  /** Takes jobs until the queue closes; the promise rejects if the queue cannot run (Redis lost at start). */
  process<N extends JobName>(name: N, concurrency: number, handler: JobHandler<N>): Promise<void>;
  /** The state of a job in the queue, or null when the queue has none of that id. */
  jobState(jobId: string): Promise<string | null>;
  counts(): Promise<JobCounts>;
  /** Run times in seconds of the last `limit` completed jobs, by job name (for the metrics). */
  recentDurations(limit: number): Promise<Record<string, number[]>>;
  /**
   * How long, in seconds at `now`, the oldest waiting job of each job name has been waiting to be taken, read from
   * the `limit` oldest waiting jobs (for the metrics; a name with none among them has younger jobs only, or none).
   */
  oldestWaiting(limit: number, now: Date): Promise<Record<string, number>>;
  /**
   * The queue dashboard (bull-board), read-only, as an Express router to mount at `basePath`. Built here
   * so this stays the only module that touches bull. The caller puts its access check in front of it.
   */
  dashboard(basePath: string): Router;
  ping(): Promise<void>;
  /**
   * Leaves a mark in Redis (one key under the queue's prefix) and says whether it had to: true when Redis did not
   * have it — a fresh Redis, or one that lost its data (FLUSHALL, a replacement or failover without it). Then every
   * job is gone, and the database must queue its waiting clips again (worker/reconciler.ts, `requeueAfterRedisLoss`).
   */
  markRedis(): Promise<boolean>;
  /** Stops taking new jobs and waits for the running ones to settle. */
  close(): Promise<void>;
}

export function createJobQueue(options: {
  redisUrl: string;
  prefix: string;
  lockSeconds?: number;
  /** Connection problems and the like; bull keeps retrying on its own. */
  onError?: (error: Error) => void;
}): JobQueue {
  const open = (queueName: string) => {
    const queue = new Bull(queueName, options.redisUrl, { prefix: options.prefix, settings: settings(options.lockSeconds ?? 60) });
    // Without a listener, bull's 'error' events would be unhandled.
    queue.on('error', (error: Error) => options.onError?.(error));
    return queue;
  };
  const lanes = { [QUEUE_NAME]: open(QUEUE_NAME), [WEBHOOK_QUEUE_NAME]: open(WEBHOOK_QUEUE_NAME) };
  const queue = lanes[QUEUE_NAME];
  const all = Object.values(lanes);
  /** A job by id, in whichever queue has it (ids are distinct across queues: `webhook-…` are the webhooks'). */
  const findJob = async (jobId: string) => (await lanes[QUEUE_NAME].getJob(jobId)) ?? (await lanes[WEBHOOK_QUEUE_NAME].getJob(jobId));
  /**
   * One bull handler per queue ('*'), which hands each job to the handler of its name. bull adds up the concurrency of
   * named handlers (seven names at concurrency 1 ran up to seven jobs at once in one worker, each with its ffmpeg), so
   * a worker registers its names here and runs `concurrency` jobs of them at once in all, as WORKER_CONCURRENCY says.
   * A job of a name the process has no handler for fails, as bull's own named handlers do.
   */
  type LaneName = keyof typeof lanes;
  const handlers: Record<LaneName, Map<string, (job: Bull.Job) => Promise<void>>> = { [QUEUE_NAME]: new Map(), [WEBHOOK_QUEUE_NAME]: new Map() };
  const running: Partial<Record<LaneName, { concurrency: number; done: Promise<void> }>> = {};
  const takeJobs = (lane: LaneName, concurrency: number): Promise<void> => {
    const started = running[lane];
    if (started) {
      if (started.concurrency !== concurrency) throw new Error(`the ${lane} queue already runs ${started.concurrency} jobs at once; one concurrency per queue and process`);
      return started.done;
    }
    const done = lanes[lane].process('*', concurrency, async (job: Bull.Job) => {
      const handler = handlers[lane].get(job.name);
      if (!handler) throw new Error(`no handler for ${job.name} jobs in this process`);
      await handler(job);
    });
    running[lane] = { concurrency, done };
    return done;
  };
  // Webhook jobs queued before they had a queue of their own: whoever takes the submissions queue moves them over.
  handlers[QUEUE_NAME].set('deliver-webhook', async (job) => {
    await lanes[WEBHOOK_QUEUE_NAME].add('deliver-webhook', job.data, jobOptions('deliver-webhook', job.data as JobPayloads['deliver-webhook']));
  });

  return {
    async enqueue(name, payload, { replace = false, delayMs = 0 } = {}) {
      const opts = { ...jobOptions(name, payload), ...(delayMs > 0 ? { delay: Math.round(delayMs) } : {}) };
      if (replace && opts.jobId !== undefined) {
        const existing = await lanes[queueOf(name)].getJob(opts.jobId);
        if (existing) {
          const state = await existing.getState();
          if (state !== 'completed' && state !== 'failed') return; // waiting, delayed or running: it will run
          await existing.remove();
        }
      }
      // ioredis queues commands while Redis is away; an upload must get a clear answer instead of waiting.
      await withTimeout(lanes[queueOf(name)].add(name, payload, opts), 5_000, 'enqueue');
    },

    async process(name, concurrency, handler) {
      const lane = queueOf(name);
      handlers[lane].set(name, async (job: Bull.Job) => {
        await handler({
          id: String(job.id),
          name,
          payload: job.data as JobPayloads[typeof name],
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
          reportProgress: async (percent) => {
            await job.progress(Math.round(percent));
          },
        });
      });
      await takeJobs(lane, concurrency);
    },

    async cancel(jobId) {
      const job = await findJob(jobId);
      if (!job) return 'absent';
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'paused') return state;
      try {
        await job.remove();
      } catch {
        // Taken by a worker between the two reads (bull refuses to remove a locked job): it runs.
        return (await job.getState()) ?? 'active';
      }
      return 'removed';
    },

    async jobState(jobId) {
      const job = await findJob(jobId);
      return job ? await job.getState() : null;
    },

    async counts() {
      const counts = await Promise.all(all.map((q) => q.getJobCounts()));
      const sum = (key: keyof JobCounts) => counts.reduce((total, c) => total + c[key], 0);
      return { waiting: sum('waiting'), active: sum('active'), delayed: sum('delayed'), failed: sum('failed'), completed: sum('completed') };
    },

    async recentDurations(limit) {
      const out: Record<string, number[]> = {};
      for (const job of (await Promise.all(all.map((q) => q.getCompleted(0, limit - 1)))).flat()) {
        if (!job?.processedOn || !job.finishedOn) continue;
        (out[job.name] ??= []).push((job.finishedOn - job.processedOn) / 1000);
      }
      return out;
    },

    async oldestWaiting(limit, now) {
      const out: Record<string, number> = {};
      // Oldest first: the wait list is taken from its tail.
      for (const job of (await Promise.all(all.map((q) => q.getJobs(['waiting', 'paused'], 0, limit - 1, true)))).flat()) {
        if (!job) continue;
        const age = Math.max(0, (now.getTime() - waitingSince(job)) / 1000);
        out[job.name] = Math.max(out[job.name] ?? 0, age);
      }
      return out;
    },

    dashboard(basePath) {
      const adapter = new ExpressAdapter();
      adapter.setBasePath(basePath);
      // Read-only: retrying or removing jobs is the CLI's and the reconciler's job, and the dashboard's
      // own API calls carry no CSRF token.
      createBullBoard({ queues: all.map((q) => new BullAdapter(q, { readOnlyMode: true })), serverAdapter: adapter });
      const router = Router();
      // Its page links a stylesheet on fonts.googleapis.com: no third-party requests here, so the link goes
      // (the system fonts do) before the page is sent.
      router.use((_req, res, next) => {
        const send = res.send.bind(res);
        res.send = (body?: unknown) => send(typeof body === 'string' ? body.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, '') : body);
        next();
      });
      router.use(adapter.getRouter() as Router);
      return router;
    },

    async ping() {
      await withTimeout(queue.client.ping(), 2_000, 'ping');
    },

    async markRedis() {
      const answer = await withTimeout(queue.client.set(`${options.prefix}:mark`, new Date().toISOString(), 'NX'), 2_000, 'mark');
      return answer === 'OK';
    },

    async close() {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}

/**
 * When a waiting job became ready to take: its creation, after its delay (an approval's hold); for a retry, the
 * last attempt's start plus the backoff (bull records neither the failure's time nor the move to the wait list,
 * so a retry's age is over by at most its last run's length).
 */
export function waitingSince(job: Pick<Bull.Job, 'timestamp' | 'opts' | 'processedOn' | 'attemptsMade'>): number {
  const ready = job.timestamp + (job.opts.delay ?? 0);
  if (!job.processedOn || job.attemptsMade === 0) return ready;
  const backoff = job.opts.backoff;
  const delay = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 0);
  const wait = typeof backoff === 'object' && backoff.type === 'exponential' ? (2 ** job.attemptsMade - 1) * delay : delay;
  return Math.max(ready, job.processedOn + wait);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
