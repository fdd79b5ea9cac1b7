import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSigningFolder } from '../../shared/provenance/signing-files';
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
  // One signing identity for the run (the worker refuses to start without one): C2PA_* in testEnv().
  const provenanceDir = join(dataDir, 'provenance');
  await initSigningFolder(provenanceDir, { organisation: 'Test Federation of Unions', country: 'BE' });
  process.env.TEST_SERVICES = JSON.stringify({
    provenanceDir,
    mongoUrl: services.mongoUrl,
    redisUrl: services.redisUrl,
    s3: services.s3,
    dataDir,
  });
}
