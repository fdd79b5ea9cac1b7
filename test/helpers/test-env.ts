import { once } from 'node:events';
import { join } from 'node:path';
import { IDENTITY_FILES } from '../../shared/provenance/signing-identity';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { connectCoreServices, type CoreServices } from '../../shared/startup-checks';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { Registry } from 'prom-client';
import { createApp } from '../../server/app';
import { createHttpServer } from '../../server/http-server';
import { createMetrics } from '../../server/services/metrics.service';
import type { ServerDeps } from '../../server/deps';
import type { TusUploads } from '../../server/upload/tus-upload';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';

export interface TestServices {
  mongoUrl: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  /** The run's C2PA signing identity (shared/provenance/signing-files.ts). */
  provenanceDir: string;
}

export function testServices(): TestServices {
  const raw = process.env.TEST_SERVICES;
  if (!raw) throw new Error('TEST_SERVICES is not set: run the tests with `npm test` (jest global setup starts the services)');
  return JSON.parse(raw) as TestServices;
}

let counter = 0;

/** A configuration of its own for one test file: its own database, bucket and queue prefix on the shared services. */
export function testEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const services = testServices();
  counter += 1;
  const unique = `t${process.pid}x${counter}x${Date.now().toString(36)}`;
  const mongo = new URL(services.mongoUrl);
  mongo.pathname = `/${unique}`;
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MONGO_URL: mongo.toString(),
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: unique,
    S3_ENDPOINT: services.s3.endpoint,
    S3_REGION: services.s3.region,
    S3_ACCESS_KEY_ID: services.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    S3_BUCKET: unique.toLowerCase(),
    PORT: '0',
    // Every test client is 127.0.0.1: the rate limits are tested where they are the subject.
    RATE_LIMIT_REQUESTS: '1000000',
    RATE_LIMIT_UPLOADS: '1000000',
    // Releases start at once unless a test is about the hold (undo): test/integration/undo.test.ts.
    RELEASE_HOLD_SECONDS: '0',
    C2PA_SIGNING_CHAIN_FILE: join(services.provenanceDir, IDENTITY_FILES.chain),
    C2PA_SIGNING_KEY_FILE: join(services.provenanceDir, IDENTITY_FILES.key),
    C2PA_TRUST_ANCHOR_FILE: join(services.provenanceDir, IDENTITY_FILES.rootCert),
    ...overrides,
  };
}

export interface TestApp {
  baseUrl: string;
  /** The environment this app's config came from: give it to a worker process to share the same services. */
  env: NodeJS.ProcessEnv;
  config: Readonly<Config>;
  deps: ServerDeps;
  services: CoreServices;
  server: Server;
  /** The app's resumable uploads (its sweep, as main.ts runs it). */
  tus: TusUploads;
  close(): Promise<void>;
}

/** The real app on port 0, against the real services; the bucket is created first. */
export async function startTestApp(
  overrides: Record<string, string> = {},
  now: () => Date = () => new Date(),
  replace: (config: Readonly<Config>) => Partial<ServerDeps> = () => ({}),
): Promise<TestApp> {
  const env = testEnv(overrides);
  const config = loadConfig(env);
  await createObjectStorage(config.s3, config.upload).ensureBucket();
  const services = await connectCoreServices(config);
  const deps: ServerDeps = {
    config,
    logger: createLogger({ level: config.logLevel, name: 'server' }),
    db: services.db,
    queue: services.queue,
    storage: services.storage,
    redis: services.redis,
    metrics: createMetrics(new Registry(), { db: services.db, queue: services.queue, counters: services.counters, now }),
    now,
    lifecycle: { stopping: false },
    ...replace(config),
  };
  const app = createApp(deps);
  const server = createHttpServer(app, config).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    env,
    config,
    deps,
    services,
    server,
    tus: app.locals.tus as TusUploads,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    },
  };
}

export async function seedDemoCampaign(deps: Pick<ServerDeps, 'db'>, overrides: Partial<NewCampaign> = {}) {
  return createCampaign(deps.db, { ...(demoCampaign as NewCampaign), ...overrides }, new Date());
}

/** The consent field a contributor's page sends for the demo campaign. */
export function demoConsent(language = 'en', statements = ['record', 'publish', 'risk'], version = 1): string {
  return JSON.stringify({ version, language, statements });
}
