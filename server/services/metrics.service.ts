import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../../shared/db';
import type { JobQueue } from '../../shared/queue/queue';
import { SUBMISSION_STATES } from '../../shared/submissions/submission-states';

/**
 * Prometheus metrics of the server, on a registry of its own (passed in the deps: no module singletons).
 *
 * - Counted by this process as things happen: uploads and their bytes.
 * - Read when scraped: jobs per queue state (Redis), clips waiting for review (the small review
 *   collection), and the durations of the last finished jobs (the queue keeps them).
 * - Read from the database at most once a minute (a scan of `submissions`, which FerretDB cannot
 *   answer from an index): submissions per state and rejections per code.
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

export function createMetrics(registry: Registry, sources: { db: Database; queue: JobQueue; now(): Date }): Metrics {
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

  // Database-wide figures: read at most once a minute, whatever the scrape interval.
  let last: { at: number; states: Map<string, number>; rejections: Map<string, number> } | null = null;
  const databaseFigures = async () => {
    const now = sources.now().getTime();
    if (last && now - last.at < DB_EVERY_MS) return last;
    const [states, rejections] = await Promise.all([
      sources.db.submissions.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]),
      sources.db.submissions.aggregate<{ _id: string | null; n: number }>([{ $match: { status: 'rejected' } }, { $group: { _id: '$rejection.code', n: { $sum: 1 } } }]),
    ]);
    last = { at: now, states: new Map(states.map((s) => [s._id, s.n])), rejections: new Map(rejections.map((r) => [r._id ?? 'unknown', r.n])) };
    return last;
  };
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
