import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { closeAndExit } from '../shared/shutdown';
import { connectCoreServices, StartupError } from '../shared/startup-checks';
import { loadSigning, type SigningMaterial } from '../shared/provenance/signing-files';
import { runLimits, type WorkerDeps } from './deps';
import { missingCapabilities } from './ffmpeg/ffmpeg';
import { jobNamesOf, type JobName, type QueueJob } from '../shared/queue/queue';
import { HANDLERS } from './handlers/handlers';
import { JOB_FOLDER_REPORT_EVERY_MS, reportJobFolder } from './job-folder-report';
import { countFailures } from '../shared/ops-counters';
import { reconcile, RECONCILE, requeueAfterRedisLoss } from './reconciler';
import { deleteDueOriginals, sweepVerifyChecks } from './retention';
import { sweepStaleJobDirs, workRoot } from './work-dirs';

/**
 * The worker process: check dependencies (and that ffmpeg can do the job), take jobs, reconcile, and on
 * SIGTERM stop taking work, hand the running job back (its ffmpeg is killed), close connections, exit 0.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });

  let missing: string[];
  try {
    missing = await missingCapabilities(config.worker);
  } catch (error) {
    throw new StartupError(`ffmpeg could not be run as "${config.worker.ffmpegPath}": ${(error as Error).message}. Install it (npm start does) or set FFMPEG_PATH.`);
  }
  if (missing.length > 0) throw new StartupError(`this ffmpeg lacks what the worker needs: ${missing.join(', ')}`);

  // Every release file is signed: no worker that releases or verifies runs without its signing files (checked: key,
  // chain, usages, root). The webhook sender (WORKER_JOBS=deliver-webhook) signs nothing and never holds the key.
  let signing: SigningMaterial | null = null;
  if (config.worker.jobs !== 'deliver-webhook') {
    try {
      const loaded = await loadSigning(config.provenance);
      signing = { chainPem: loaded.chainPem, keyPem: loaded.keyPem, trustAnchorPem: loaded.trustAnchorPem };
      logger.info({ signer: loaded.check.organisation, certificate: loaded.check.commonName, until: loaded.check.notAfter }, 'releases are signed');
    } catch (error) {
      throw new StartupError(`C2PA signing: ${(error as Error).message}`);
    }
  }

  // What a worker killed outright left on this machine (its running ffmpeg, its folder) goes first.
  const sweep = () => sweepStaleJobDirs(workRoot(config.worker.workDir));
  const swept = await sweep();
  const services = await connectCoreServices(config, (error) => logger.warn({ err: error }, 'queue error'));
  const stopping = new AbortController();
  const deps: WorkerDeps = { config, logger, ...services, limits: runLimits(config), shutdown: stopping.signal, signing };

  const register = <N extends JobName>(name: N) => {
    const handler = HANDLERS[name] as (deps: WorkerDeps, job: QueueJob<N>) => Promise<void>;
    // A run that throws is counted for the alerts (JobsFailing), then handed to the queue to retry or fail.
    const run = countFailures(services.counters, (job: QueueJob<N>) => handler(deps, job));
    services.queue.process(name, config.worker.concurrency, run).catch((error: unknown) => {
      logger.fatal({ err: error }, 'the queue stopped running');
      process.exit(1);
    });
  };
  // WORKER_JOBS: the media workers leave the webhook deliveries to the sender, which alone may reach the internet.
  const jobs = jobNamesOf(config.worker.jobs, Object.keys(HANDLERS) as JobName[]);
  for (const name of jobs) register(name);
  let round = 0;
  const runReconciler = () =>
    Promise.all([
      reconcile(deps, new Date(), { reviewQueue: round++ % RECONCILE.reviewQueueEveryRounds === 0 }),
      deleteDueOriginals(deps),
      sweepVerifyChecks(deps),
      sweep().then((s) => s.killed > 0 && logger.warn(s, 'killed what a dead worker left running')),
    ]).catch((error: unknown) =>
      logger.warn({ err: error }, 'reconciler failed'),
    );
  const reconciler = setInterval(() => void runReconciler(), RECONCILE.intervalMs);
  // Redis emptied or replaced (FLUSHALL, a failover without the data): every job is gone. The worker's mark is gone with
  // them, so that is seen within seconds, and every waiting clip is queued again at once, not at the next round's grace.
  const checkRedisMark = () =>
    services.queue
      .markRedis()
      .then(async (marked) => {
        if (!marked) return;
        logger.warn('Redis has lost the queue (its mark is gone): queuing every waiting clip again');
        const requeued = await requeueAfterRedisLoss(deps);
        logger.warn({ requeued }, 'queued the waiting clips again after Redis lost the queue');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not check Redis for its mark'));
  // The first mark is made before the first round (a fresh Redis is not a loss: the round below does what is needed).
  await services.queue.markRedis().catch(() => false);
  const redisMarks = setInterval(() => void checkRedisMark(), RECONCILE.redisMarkCheckMs);
  void runReconciler();
  // The job folder's free space, for the metrics (JobFolderDiskFull): the server reads the last report.
  const reportFolder = () =>
    reportJobFolder(services.counters, workRoot(config.worker.workDir)).catch((error: unknown) => logger.warn({ err: error }, 'could not report the job folder'));
  const folderReports = setInterval(() => void reportFolder(), JOB_FOLDER_REPORT_EVERY_MS);
  void reportFolder();
  logger.info({ concurrency: config.worker.concurrency, jobs, sweptJobDirs: swept.removed, killedLeftovers: swept.killed }, 'worker ready');

  const shutdown = (signal: string) => {
    if (stopping.signal.aborted) return;
    logger.info({ signal }, 'shutting down: handing back the running jobs');
    clearInterval(reconciler);
    clearInterval(redisMarks);
    clearInterval(folderReports);
    stopping.abort();
    // Closing the queue waits for the running job, which settles (hands back) once its ffmpeg is killed.
    closeAndExit(services, logger);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
