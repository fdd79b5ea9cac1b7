import type { Logger } from './logger';

/** The last step of a graceful shutdown, the same for server and worker: close connections, exit 0 (1 if closing failed). */
export function closeAndExit(services: { close(): Promise<void> }, logger: Logger): void {
  services
    .close()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      logger.error({ err: error }, 'error while closing connections');
      process.exit(1);
    });
}
