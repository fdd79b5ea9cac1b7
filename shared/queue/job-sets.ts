/**
 * Which jobs a worker takes (WORKER_JOBS), apart from queue.ts so that config.ts does not load bull: every job, all but
 * the webhook deliveries (the media workers, which need no internet), or only the webhook deliveries (the sender).
 * The choices follow the bull queues (queueOf in queue.ts): a worker takes a whole queue or none of it.
 */
export const WORKER_JOB_SETS = ['all', 'all-but-webhooks', 'deliver-webhook'] as const;
export type WorkerJobSet = (typeof WORKER_JOB_SETS)[number];
