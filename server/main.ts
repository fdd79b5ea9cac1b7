import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { closeAndExit } from '../shared/shutdown';
import { checkImages, connectCoreServices, StartupError } from '../shared/startup-checks';
import { Registry } from 'prom-client';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import { anchorAudit } from './services/audit.service';
import { createMetrics } from './services/metrics.service';
import { sealPlainTotpSecrets } from './services/totp-secrets';
import type { TusUploads } from './upload/tus-upload';
import { sweepAbandonedReports } from './services/report.service';

/**
 * The old generation may grow to twice what the last full garbage collection left, always. V8's own factor
 * (1.1 to 4, from how busy the process was) shrinks while uploads stream: the server's ~40 MB heap then
 * sits within one young generation of its limit, and every young collection is followed by a full one,
 * 14 to 27 of them per GiB uploaded instead of 3, for 0.7 to 1.3 CPU-seconds more per GiB (bench:upload
 * with --trace-gc). The flag is read at each collection, so setting it at start takes effect.
 */
const HEAP_GROWING = '--heap-growing-percent=100';

/** The API process: check dependencies, listen, and shut down cleanly on SIGTERM. */
async function main(): Promise<void> {
  v8.setFlagsFromString(HEAP_GROWING);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'server' });
  await checkImages();
  const services = await connectCoreServices(config, (error) => logger.warn({ err: error }, 'queue error'));
  const now = () => new Date();
  // A log written before AUDIT_HMAC_KEY was set gets its first signed entry, vouching for those before it.
  const unanchored = await anchorAudit(services.db, now());
  if (unanchored && !unanchored.ok) logger.error({ badSeq: unanchored.badSeq, problem: unanchored.problem }, 'the audit log is broken: not signed; see npm run cli -- audit verify');
  // Second-factor secrets stored before TOTP_ENCRYPTION_KEY was set are sealed with it now.
  const sealed = await sealPlainTotpSecrets(services.db);
  if (sealed > 0) logger.info({ sealed }, 'second-factor secrets encrypted');
  const metrics = createMetrics(new Registry(), { db: services.db, queue: services.queue, counters: services.counters, now });
  const lifecycle = { stopping: false };
  const app = createApp({ config, logger, ...services, metrics, now, lifecycle });

  // Abandoned resumable uploads: removed once they are older than UPLOAD_RESUMABLE_EXPIRY_SECONDS (every
  // process runs this; removing an upload twice is harmless).
  const tus = app.locals.tus as TusUploads;
  const cleanup = setInterval(() => {
    tus.cleanUpExpired().then(
      (removed) => removed > 0 && logger.info({ removed }, 'removed abandoned resumable uploads'),
      (error: unknown) => logger.warn({ err: error }, 'could not clean up abandoned resumable uploads'),
    );
  }, 3600_000);
  cleanup.unref();
  // Action reports left half-sent for a day (issue 18): their photos and record go (report.service.ts).
  const reports = setInterval(() => {
    sweepAbandonedReports({ db: services.db, storage: services.storage, logger, now }).then(
      (removed) => removed > 0 && logger.info({ removed }, 'removed action reports left half-sent'),
      (error: unknown) => logger.warn({ err: error }, 'could not remove action reports left half-sent'),
    );
  }, 3600_000);
  reports.unref();
  // Complete resumable uploads whose finish failed (storage or database down at that moment) and that their
  // client did not come back for: their submission is made once the finish succeeds (idempotent, locked).
  const finishing = setInterval(() => {
    tus.finishPending().then(
      (finished) => finished > 0 && logger.info({ finished }, 'finished complete resumable uploads left without a submission'),
      (error: unknown) => logger.warn({ err: error }, 'could not look for complete resumable uploads without a submission'),
    );
  }, 60_000);
  finishing.unref();

  // Time limits on headers, whole requests and idle connections: http-server.ts.
  const server = createHttpServer(app, config).listen(config.http.port, config.http.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info({ url: `http://${config.http.host}:${port}` }, 'listening');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // At once: /readyz says 503 and new uploads are refused (503 server_stopping with Retry-After: the client sends
    // it again, to another instance); everything else is still served, each answer closing its connection. After
    // SHUTDOWN_DRAIN_SECONDS (the load balancer has seen /readyz by then) no new connection is taken; uploads still
    // arriving get SHUTDOWN_GRACE_SECONDS to finish, then they are cut (their S3 uploads aborted, nothing stored half).
    lifecycle.stopping = true;
    logger.info({ signal, drainSeconds: config.http.drainSeconds }, 'shutting down: refusing new uploads, finishing those in flight');
    setTimeout(() => {
      server.close(() => closeAndExit(services, logger));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), config.http.graceSeconds * 1000).unref();
    }, config.http.drainSeconds * 1000);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // eslint-disable-next-line no-console
  console.error(error instanceof StartupError || error instanceof Error ? `server: ${error.message}` : error);
  process.exit(1);
});
