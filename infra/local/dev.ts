import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { initSigningFolder } from '../../shared/provenance/signing-files';
import { IDENTITY_FILES } from '../../shared/provenance/signing-identity';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../shared/config';
import { connectDatabase } from '../../shared/db';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from './demo-campaign.json';
import { startLocalServices } from './services';

/**
 * `npm start`: the whole pipeline on local defaults. Starts FerretDB, Redis and MinIO on their usual
 * loopback ports with data in .local/, creates the bucket, seeds the demo campaign, then runs the server
 * and the worker. Ctrl-C stops everything.
 */
const ROOT = resolve(__dirname, '..', '..', '..');

function portOf(url: string, fallback: number): number {
  const port = new URL(url).port;
  return port ? Number(port) : fallback;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = join(ROOT, '.local', 'data');
  await mkdir(dataDir, { recursive: true });
  const log = (line: string) => process.stdout.write(`[local] ${line}\n`);

  const services = await startLocalServices({
    dataDir,
    ports: {
      mongo: portOf(config.mongo.url, 27017),
      redis: portOf(config.redis.url, 6379),
      s3: portOf(config.s3.endpoint ?? 'http://127.0.0.1:9000', 9000),
    },
    database: new URL(config.mongo.url).pathname.slice(1) || 'solidarity',
    log,
  });

  await createObjectStorage(config.s3, config.upload).ensureBucket();
  const db = await connectDatabase(services.mongoUrl);
  if (!(await db.campaigns.exists({ slug: demoCampaign.slug }))) {
    await createCampaign(db, demoCampaign as NewCampaign, new Date());
    log(`seeded the demo campaign "${demoCampaign.slug}"`);
  }
  await db.close();

  // Releases are signed (C2PA): a local identity, made once, unless C2PA_* point at another one.
  const provenanceDir = join(ROOT, '.local', 'provenance');
  if (!config.provenance.chainFile && !existsSync(join(provenanceDir, IDENTITY_FILES.chain))) {
    await initSigningFolder(provenanceDir, { organisation: 'Local development (not a campaign)' });
    log(`made a local signing identity in ${provenanceDir} (npm run cli -- provenance init makes a real one)`);
  }
  const env = {
    ...process.env,
    C2PA_SIGNING_CHAIN_FILE: config.provenance.chainFile ?? join(provenanceDir, IDENTITY_FILES.chain),
    C2PA_SIGNING_KEY_FILE: config.provenance.keyFile ?? join(provenanceDir, IDENTITY_FILES.key),
    C2PA_TRUST_ANCHOR_FILE: config.provenance.trustAnchorFile ?? join(provenanceDir, IDENTITY_FILES.rootCert),
  };
  const children: ChildProcess[] = ['server', 'worker'].map((name) =>
    spawn(process.execPath, [join(ROOT, 'dist', name, 'main.js')], { stdio: 'inherit', env }),
  );

  const base = `http://${config.http.host}:${config.http.port}`;
  log(`server: ${base}  (API description: ${base}/api/openapi.json)`);
  log(`try:    curl ${base}/api/campaigns/demo`);
  log(`pages:  ${base}/c/demo (contributors), ${base}/staff (staff: npm run cli -- staff create-admin <email>)`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)))));
    await services.stop();
    process.exit(code);
  };
  for (const child of children) {
    child.once('exit', (code) => {
      if (!stopping) {
        log(`a process exited (code ${String(code)}): stopping everything`);
        void stop(1);
      }
    });
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
