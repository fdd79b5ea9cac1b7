import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../../shared/db';
import { OPS_COUNTERS, type OpsCounters } from '../../shared/ops-counters';
import type { JobQueue } from '../../shared/queue/queue';
import { SUBMISSION_STATES } from '../../shared/submissions/submission-states';
import type { Submission } from '../../shared/submissions/submission.model';

/**
 * Prometheus metrics of the server, on a registry of its own (passed in the deps: no module singletons).
 *
 * - Counted by this process as things happen: uploads and their bytes.
 * - Read when scraped: jobs per queue state (Redis), clips waiting for review (the small review
 *   collection), and the durations of the last finished jobs (the queue keeps them).
 * - Read when scraped from Redis: the age of the oldest waiting job per job name (the 1 000 oldest jobs read),
 *   the counters every process keeps there for the alerts (failed jobs, webhook deliveries, S3 and database
 *   errors: shared/ops-counters.ts) and the workers' job folders as they last reported them (every 30 s).
 * - Read from the database at most once a minute (a scan of `submissions`, which FerretDB cannot
 *   answer from an index): submissions per state, rejections per code, and when the clips in processing or
 *   releasing started (for the age of the oldest).
 * The alerts on these are infra/prometheus/alerts.yml; the dashboard infra/grafana/solidarity-clips.json.
 */
export interface Metrics {
  registry: Registry;
  uploads: Counter;
  uploadBytes: Counter;
}

const DB_EVERY_MS = 60_000;
const QUANTILES = [0.5, 0.9, 0.99];

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A worker's job folder report older than this is a worker gone: left out. */
export const JOB_FOLDER_REPORT_MAX_AGE_MS = 5 * 60_000;
const OLDEST_WAITING_READ = 1_000;
/** Clips in processing or releasing read for their start (there are a few at any time; a backlog waits in `received`). */
const MOVING_READ = 1_000;

/** One read shared by the collects of one scrape, which prom-client runs at once: a read still running is reused. */
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= read().finally(() => {
      running = null;
    });
    return running;
  };
}

export function createMetrics(registry: Registry, sources: { db: Database; queue: JobQueue; counters: OpsCounters; now(): Date }): Metrics {
  collectDefaultMetrics({ register: registry, prefix: 'solidarity_server_' });
  const uploads = new Counter({ name: 'solidarity_uploads_total', help: 'Clips received and recorded by this server process', registers: [registry] });
  const uploadBytes = new Counter({ name: 'solidarity_upload_bytes_total', help: 'Bytes of the clips received by this server process', registers: [registry] });

  new Gauge({
    name: 'solidarity_jobs',
    help: 'Jobs in the queue, by queue state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await sources.queue.counts();
      for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
    },
  });
  new Gauge({
    name: 'solidarity_review_queue_clips',
    help: 'Clips waiting for a moderator (in review)',
    registers: [registry],
    async collect() {
      this.set(await sources.db.reviewQueue.estimatedDocumentCount());
    },
  });
  new Gauge({
    name: 'solidarity_job_duration_seconds',
    help: 'Run time of the last finished jobs (up to 500), by quantile',
    labelNames: ['job', 'quantile'],
    registers: [registry],
    async collect() {
      const durations = await sources.queue.recentDurations(500);
      for (const [job, seconds] of Object.entries(durations)) {
        const sorted = [...seconds].sort((a, b) => a - b);
        for (const q of QUANTILES) this.set({ job, quantile: String(q) }, quantile(sorted, q));
      }
    },
  });

  new Gauge({
    name: 'solidarity_oldest_waiting_job_age_seconds',
    help: 'How long the oldest waiting job of each job name has waited for a worker, in seconds',
    labelNames: ['job'],
    registers: [registry],
    async collect() {
      const ages = await sources.queue.oldestWaiting(OLDEST_WAITING_READ, sources.now());
      this.reset();
      for (const [job, seconds] of Object.entries(ages)) this.set({ job }, seconds);
    },
  });

  // Totals kept in Redis by every process (shared/ops-counters.ts): read once per scrape (the collects run together).
  const fromRedis = oncePerScrape(() => sources.counters.read());
  const counter = (name: string, key: string, help: string, labelNames: string[] = []) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const totals = (await fromRedis()).filter((total) => total.name === key);
        this.reset();
        for (const total of totals) {
          if (labelNames.length > 0) this.inc({ job: total.job ?? 'unknown' }, total.value);
          else this.inc(total.value);
        }
      },
    });
  counter('solidarity_job_attempts_failed_total', OPS_COUNTERS.jobAttemptsFailed, 'Job runs that threw (retried, or failed for good after the last attempt), by job name, all workers', ['job']);
  counter('solidarity_jobs_failed_total', OPS_COUNTERS.jobsFailed, 'Jobs failed for good (their last attempt threw), by job name, all workers', ['job']);
  counter('solidarity_webhook_delivery_attempts_failed_total', OPS_COUNTERS.webhookAttemptsFailed, 'Webhook delivery attempts without a 2xx answer, all workers');
  counter('solidarity_webhook_deliveries_failed_total', OPS_COUNTERS.webhookDeliveriesFailed, 'Webhook deliveries given up (last attempt failed, or the address refused), all workers');
  counter('solidarity_object_storage_errors_total', OPS_COUNTERS.objectStorageErrors, 'S3 requests that failed (not counting "not found" and aborts), all processes');
  counter('solidarity_database_errors_total', OPS_COUNTERS.databaseErrors, 'Database connection errors and connections lost, all processes');

  const folders = oncePerScrape(() => sources.counters.readJobFolders(sources.now(), JOB_FOLDER_REPORT_MAX_AGE_MS));
  new Gauge({
    name: 'solidarity_job_folder_free_bytes',
    help: "Free bytes (for unprivileged users) on the filesystem of each worker's job folder (WORK_DIR), as last reported",
    labelNames: ['worker'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const folder of await folders()) this.set({ worker: folder.worker }, folder.freeBytes);
    },
  });
  new Gauge({
    name: 'solidarity_job_folder_used_ratio',
    help: "Used fraction (0-1) of the filesystem of each worker's job folder (WORK_DIR), as last reported",
    labelNames: ['worker'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const folder of await folders()) this.set({ worker: folder.worker }, folder.sizeBytes > 0 ? 1 - folder.freeBytes / folder.sizeBytes : 0);
    },
  });

  // Database-wide figures: read at most once a minute, whatever the scrape interval.
  type Moving = Pick<Submission, 'status' | 'processing' | 'release'>;
  let last: { at: number; states: Map<string, number>; since: Map<string, Date>; rejections: Map<string, number> } | null = null;
  const databaseFigures = async () => {
    const now = sources.now().getTime();
    if (last && now - last.at < DB_EVERY_MS) return last;
    const [states, rejections, moving] = await Promise.all([
      sources.db.submissions.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]),
      sources.db.submissions.aggregate<{ _id: string | null; n: number }>([{ $match: { status: 'rejected' } }, { $group: { _id: '$rejection.code', n: { $sum: 1 } } }]),
      // The clips in processing or releasing (a few at any time) and when they started: FerretDB has no $min in $group.
      sources.db.submissions
        .find({ status: { $in: ['processing', 'releasing'] } })
        .select({ status: 1, 'processing.startedAt': 1, 'release.startedAt': 1 })
        .limit(MOVING_READ)
        .lean<Moving[]>(),
    ]);
    const since = new Map<string, Date>();
    for (const clip of moving) {
      const at = clip.status === 'processing' ? clip.processing?.startedAt : clip.release?.startedAt;
      const earliest = since.get(clip.status);
      if (at && (!earliest || at < earliest)) since.set(clip.status, new Date(at));
    }
    last = { at: now, states: new Map(states.map((s) => [s._id, s.n])), since, rejections: new Map(rejections.map((r) => [r._id ?? 'unknown', r.n])) };
    return last;
  };
  new Gauge({
    name: 'solidarity_oldest_clip_in_state_seconds',
    help: 'How long the oldest clip in processing (or releasing) has been at it, in seconds; 0 when none (its start read from the database at most once a minute)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { since } = await databaseFigures();
      const now = sources.now().getTime();
      for (const state of ['processing', 'releasing']) {
        const at = since.get(state);
        this.set({ state }, at ? Math.max(0, (now - at.getTime()) / 1000) : 0);
      }
    },
  });
  new Gauge({
    name: 'solidarity_submissions',
    help: 'Submissions by state (read from the database at most once a minute)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { states } = await databaseFigures();
      for (const state of SUBMISSION_STATES) this.set({ state }, states.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'solidarity_rejections',
    help: 'Rejected submissions by rejection code (read from the database at most once a minute)',
    labelNames: ['code'],
    registers: [registry],
    async collect() {
      const { rejections } = await databaseFigures();
      this.reset();
      for (const [code, n] of rejections) this.set({ code }, n);
    },
  });

  return { registry, uploads, uploadBytes };
}
