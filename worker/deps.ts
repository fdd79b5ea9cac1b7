import type { Config } from '../shared/config';
import type { Database } from '../shared/db';
import type { Logger } from '../shared/logger';
import type { OpsCounters } from '../shared/ops-counters';
import type { JobQueue } from '../shared/queue/queue';
import type { ObjectStorage } from '../shared/storage/object-storage';
import type { RunLimits } from './ffmpeg/ffmpeg';
import type { SigningMaterial } from '../shared/provenance/signing-files';

export interface WorkerDeps {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  queue: JobQueue;
  storage: ObjectStorage;
  /** The counters the alerts read (shared/ops-counters.ts): failed jobs, webhook deliveries. */
  counters: OpsCounters;
  limits: RunLimits;
  /**
   * The C2PA signing chain and key, and the deployment's root (shared/provenance/signing-files.ts, loaded at start-up).
   * Null only in the webhook sender (WORKER_JOBS=deliver-webhook), which never signs: `signingOf` refuses it.
   */
  signing: SigningMaterial | null;
  /** Aborted on shutdown: running ffmpeg processes are killed and the job is handed back. */
  shutdown: AbortSignal;
}

export function runLimits(config: Readonly<Config>): RunLimits {
  return {
    ffmpegPath: config.worker.ffmpegPath,
    ffprobePath: config.worker.ffprobePath,
    niceness: config.worker.niceness,
    timeoutSeconds: config.worker.timeoutSeconds,
  };
}

/** The signing material of a worker that signs or verifies (never null there: main.ts refuses to start without it). */
export function signingOf(deps: Pick<WorkerDeps, 'signing'>): SigningMaterial {
  if (!deps.signing) throw new Error('this worker has no signing files (WORKER_JOBS=deliver-webhook): it cannot release or verify');
  return deps.signing;
}
