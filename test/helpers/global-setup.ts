import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServices, type LocalServices } from '../../infra/local/services';

/**
 * Starts the real services (FerretDB, Redis, MinIO) once for the whole run, on free loopback ports with
 * throw-away data. Test files get their own database, bucket and queue prefix (test/helpers/test-env.ts).
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'solidarity-test-'));
  const services = await startLocalServices({ dataDir });
  (globalThis as { __solidarityServices?: { services: LocalServices; dataDir: string } }).__solidarityServices = {
    services,
    dataDir,
  };
  process.env.TEST_SERVICES = JSON.stringify({
    mongoUrl: services.mongoUrl,
    redisUrl: services.redisUrl,
    s3: services.s3,
    dataDir,
  });
}
