import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { WORKER_JOB_SETS, type WorkerJobSet } from './queue/job-sets';

/**
 * The one place that reads the environment. Parsed once at start-up, validated, frozen.
 * Defaults are the local services that `npm start` runs (see infra/local).
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  /** The longest one request may take to arrive whole (a 2 GiB upload at 100 KB/s takes about 6 hours); stalled or trickling bodies are cut off much sooner (UPLOAD_IDLE_SECONDS). */
  HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(60).default(8 * 3600),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Reverse proxies in front of the server whose X-Forwarded-For is believed (used only for the rate limits' keyed hash). */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** Requests per client (any /api route) and uploads per client in one window, counted in Redis (one budget across server processes); clients are told apart by a keyed hash of the address. */
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(600),
  RATE_LIMIT_REQUESTS: z.coerce.number().int().positive().default(1200),
  RATE_LIMIT_UPLOADS: z.coerce.number().int().positive().default(20),

  MONGO_URL: z.string().startsWith('mongodb').default('mongodb://127.0.0.1:27017/solidarity'),
  REDIS_URL: z.string().startsWith('redis').default('redis://127.0.0.1:6379'),
  /** Prefix of every queue key in Redis; lets several deployments (or test runs) share one Redis. */
  QUEUE_PREFIX: z.string().min(1).default('solidarity'),
  /** How long a worker's hold on a job lasts without renewal; a worker that died loses its job after this. */
  QUEUE_LOCK_SECONDS: z.coerce.number().int().min(2).max(600).default(60),

  S3_ENDPOINT: z.url().optional().default('http://127.0.0.1:9000'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(3).default('solidarity-clips'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('solidarity'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).default('solidarity-local-secret'),
  S3_FORCE_PATH_STYLE: bool.default(true),

  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(2 * GiB),
  SUBTITLE_MAX_BYTES: z.coerce.number().int().positive().default(1 * MiB),
  /**
   * S3 multipart part size; memory per upload is about part size × UPLOAD_PARTS_IN_FLIGHT (32 MiB by default).
   * Every part costs the server about 1–2 ms of CPU in the S3 client whatever its size: 16 MiB rather than
   * 8 MiB takes about 0.1 CPU-second off each GiB uploaded (bench:upload), for twice the memory.
   */
  UPLOAD_PART_BYTES: z.coerce.number().int().min(5 * MiB).default(16 * MiB),
  UPLOAD_PARTS_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(2),
  /** Uploads received at once by one server process (not shared across processes); more get 503 with Retry-After. Memory is about this × part size × parts in flight. */
  UPLOAD_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(20),
  /** An upload whose body brings less than 1 KiB in this time (a stalled or trickling client) is cut off. */
  UPLOAD_IDLE_SECONDS: z.coerce.number().positive().default(30),
  /** A resumable (tus) upload left unfinished this long is removed by the cleanup timer. */
  UPLOAD_RESUMABLE_EXPIRY_SECONDS: z.coerce.number().int().min(60).default(24 * 3600),

  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(1),
  /** Which jobs this worker takes: `all`, `all-but-webhooks` (the media workers: no internet needed) or `deliver-webhook` (the webhook sender). */
  WORKER_JOBS: z.enum(WORKER_JOB_SETS).default('all'),
  FACE_DETECT_THREADS: z.coerce.number().int().min(1).max(16).optional(),
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  /** Nice level of every ffmpeg run, so the API on the same machine stays responsive. */
  FFMPEG_NICENESS: z.coerce.number().int().min(0).max(19).default(10),
  /** Hard limit for one ffmpeg run; the whole process group is killed past it. */
  FFMPEG_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(1800),
  WORK_DIR: z.string().optional(),

  MEDIA_MAX_DURATION_SECONDS: z.coerce.number().positive().default(600),
  MEDIA_MAX_PIXELS: z.coerce.number().int().positive().default(4096 * 2304),
  MEDIA_MAX_FPS: z.coerce.number().positive().default(240),
  MEDIA_MAX_STREAMS: z.coerce.number().int().positive().default(16),

  /** Days the raw original (which still carries GPS, device and time tags) is kept after a clip is approved. */
  ORIGINAL_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(30),
  /** …and after it is rejected or withdrawn (shorter: nothing more will be made from it). */
  ORIGINAL_RETENTION_DAYS_DECLINED: z.coerce.number().min(0).max(3650).default(7),
  // A protected clip's raw original and unprotected master, after approval: 0 = at once (its release starts).
  PROTECTED_UNMASKED_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(0),

  /** Staff sessions end after this long without a request (OWASP: 15–30 min for sensitive applications). */
  STAFF_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  /** …and this long after login whatever happens. */
  STAFF_SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(24 * 7).default(12),
  /** Failed logins in a row from one address before the account is locked from that address, and for how long. */
  STAFF_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** Failed logins in a row from all addresses together before the account is locked for everyone (guessing spread over many addresses). */
  STAFF_ACCOUNT_MAX_FAILURES: z.coerce.number().int().min(1).max(10_000).default(50),
  STAFF_LOCKOUT_MINUTES: z.coerce.number().int().min(1).default(15),
  /** Refused logins one client address (req.ip: mind `trust proxy` behind a proxy) may have per 15 minutes, whatever the account (counted in Redis under a keyed hash, shared by every server process). */
  STAFF_LOGIN_ATTEMPTS_PER_CLIENT: z.coerce.number().int().min(1).default(20),
  /** log2 of scrypt's cost N (r=8, p=1). 17 is OWASP's recommendation; lower values only with NODE_ENV=test. */
  STAFF_SCRYPT_LOG2_COST: z.coerce.number().int().min(10).max(20).default(17),
  /** How long an invitation link stays valid. */
  STAFF_INVITE_HOURS: z.coerce.number().int().min(1).max(24 * 14).default(72),

  /** How long a moderator's claim on a clip lasts (renewed when they claim it again). */
  REVIEW_CLAIM_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  /**
   * How long an approved clip waits before its release job starts (a delayed job): while it waits, the moderator
   * may undo the approval and nothing has left the system. 0: released at once (no undo of an approval is offered).
   */
  RELEASE_HOLD_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** When set, a Prometheus scraper may read /metrics with `Authorization: Bearer <this>` (admins always can, signed in). */
  METRICS_BEARER_TOKEN: z.string().min(32, 'at least 32 characters').optional(),
  /** Webhooks may be sent to this machine's loopback addresses (127.0.0.0/8, ::1): tests and development only, refused in production. */
  WEBHOOK_ALLOW_LOOPBACK: bool.default(false),

  /**
   * The audit log's anchor outside the database: every entry carries an HMAC of its hash under this key, so
   * someone who can write the database cannot rewrite history and recompute the hashes. A secret of at least
   * 32 characters, or a file holding it (a mounted secret). Required in production.
   */
  AUDIT_HMAC_KEY: z.string().min(32, 'at least 32 characters').optional(),
  AUDIT_HMAC_KEY_FILE: z.string().min(1).optional(),
  /** The key TOTP secrets are encrypted with (AES-256-GCM): 32 bytes as 64 hex digits, or a file holding them. Required in production. */
  TOTP_ENCRYPTION_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hexadecimal digits (32 bytes)').optional(),
  TOTP_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),

  /**
   * C2PA signing of releases (npm run cli -- provenance init): the signing certificate chain (leaf then
   * intermediate, PEM) and its private key (PKCS#8 PEM, a mounted secret). Read by the worker only; the worker
   * refuses to start without them. The key is never stored in the database or S3.
   */
  C2PA_SIGNING_CHAIN_FILE: z.string().min(1).optional(),
  C2PA_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** The largest file /verify takes (bytes); it is read by the worker and never kept. */
  VERIFY_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(300 * 1024 * 1024),
  /** The longest video /verify checks (seconds). */
  VERIFY_MAX_SECONDS: z.coerce.number().int().min(10).max(3600).default(600),
  /** Files one client may send to /verify in a rate-limit window. */
  RATE_LIMIT_VERIFY: z.coerce.number().int().min(1).default(10),
  /** The deployment's root certificate (PEM, public): what /verify trusts, and what the signing chain must lead to. */
  C2PA_TRUST_ANCHOR_FILE: z.string().min(1).optional(),
}).superRefine((env, ctx) => {
  if (env.STAFF_SCRYPT_LOG2_COST < 17 && env.NODE_ENV !== 'test') {
    ctx.addIssue({ code: 'custom', path: ['STAFF_SCRYPT_LOG2_COST'], message: 'below 17 is allowed only with NODE_ENV=test' });
  }
});

type Env = z.infer<typeof schema>;

/** The names of every environment variable the project reads (the README's table and docker-compose use these). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  http: { host: string; port: number; publicUrl: string | undefined; trustProxy: number; requestTimeoutSeconds: number; drainSeconds: number; graceSeconds: number };
  rateLimit: { windowSeconds: number; requests: number; uploads: number };
  mongo: { url: string };
  redis: { url: string; queuePrefix: string; lockSeconds: number };
  s3: {
    endpoint: string | undefined;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
  };
  upload: {
    maxBytes: number;
    subtitleMaxBytes: number;
    partBytes: number;
    partsInFlight: number;
    maxInFlight: number;
    idleSeconds: number;
    tusExpirySeconds: number;
  };
  worker: {
    concurrency: number;
    /** WORKER_JOBS: the jobs this process takes (jobNamesOf in shared/queue/queue.ts). */
    jobs: WorkerJobSet;
    /** Threads of the face detector (detector-pool.ts); by default two where there are two cores or more. */
    faceThreads: number;
    ffmpegPath: string;
    ffprobePath: string;
    niceness: number;
    timeoutSeconds: number;
    workDir: string | undefined;
  };
  media: { maxDurationSeconds: number; maxPixels: number; maxFps: number; maxStreams: number };
  retention: RetentionDays;
  staff: {
    sessionIdleSeconds: number;
    sessionAbsoluteSeconds: number;
    loginMaxFailures: number;
    accountMaxFailures: number;
    lockoutSeconds: number;
    loginAttemptsPerClient: number;
    scryptLog2Cost: number;
    inviteSeconds: number;
    /** Cookies get `Secure` unless the staff pages are served over plain http on this machine (development, tests). */
    secureCookies: boolean;
  };
  /** `releaseHoldSeconds`: how long an approval waits before its release starts, undoable meanwhile (0: at once). */
  review: { claimSeconds: number; releaseHoldSeconds: number };
  metrics: { bearerToken: string | undefined };
  /** Where webhooks may be sent (shared/distribution/webhook-address.ts): https only in production; loopback only when allowed. */
  webhooks: { requireHttps: boolean; allowLoopback: boolean };
  /** Keys kept outside the database (never written to it): the audit log's HMAC key and the TOTP secrets' key. */
  keys: DataKeys;
  /** Where the C2PA signing chain, key and trust anchor are (files; read by the worker at start-up). */
  provenance: { chainFile: string | null; keyFile: string | null; trustAnchorFile: string | null };
  /** The public verification page's caps (/verify). */
  verify: { maxBytes: number; maxSeconds: number; perWindow: number };
}

export interface DataKeys {
  audit: Buffer | null;
  totp: Buffer | null;
}

/** How long raw originals are kept after the moderation decision (shared/submissions/retention.ts). */
export interface RetentionDays {
  approvedDays: number;
  declinedDays: number;
  /** A protected clip's original and unprotected master, after approval (0: as its release starts). */
  protectedDays: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const keys = readKeys(e);
  if (e.NODE_ENV === 'production') {
    const unsafe = unsafeForProduction(env, e);
    if (!keys.audit) unsafe.push('AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE): not set; the audit log needs its key outside the database');
    if (!keys.totp) unsafe.push('TOTP_ENCRYPTION_KEY (or TOTP_ENCRYPTION_KEY_FILE): not set; second-factor secrets must not be stored in the clear');
    if (unsafe.length > 0) {
      throw new ConfigError(`Refusing to run in production with local defaults:\n${unsafe.map((line) => `  ${line}`).join('\n')}`);
    }
  }
  return deepFreeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: { host: e.HOST, port: e.PORT, publicUrl: e.PUBLIC_URL, trustProxy: e.TRUST_PROXY, requestTimeoutSeconds: e.HTTP_REQUEST_TIMEOUT_SECONDS, drainSeconds: e.SHUTDOWN_DRAIN_SECONDS, graceSeconds: e.SHUTDOWN_GRACE_SECONDS },
    rateLimit: { windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS, requests: e.RATE_LIMIT_REQUESTS, uploads: e.RATE_LIMIT_UPLOADS },
    mongo: { url: e.MONGO_URL },
    redis: { url: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX, lockSeconds: e.QUEUE_LOCK_SECONDS },
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    },
    upload: {
      maxBytes: e.UPLOAD_MAX_BYTES,
      subtitleMaxBytes: e.SUBTITLE_MAX_BYTES,
      partBytes: e.UPLOAD_PART_BYTES,
      partsInFlight: e.UPLOAD_PARTS_IN_FLIGHT,
      maxInFlight: e.UPLOAD_MAX_IN_FLIGHT,
      idleSeconds: e.UPLOAD_IDLE_SECONDS,
      tusExpirySeconds: e.UPLOAD_RESUMABLE_EXPIRY_SECONDS,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      jobs: e.WORKER_JOBS,
      faceThreads: e.FACE_DETECT_THREADS ?? Math.max(1, Math.min(2, availableParallelism())),
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      niceness: e.FFMPEG_NICENESS,
      timeoutSeconds: e.FFMPEG_TIMEOUT_SECONDS,
      workDir: e.WORK_DIR,
    },
    media: {
      maxDurationSeconds: e.MEDIA_MAX_DURATION_SECONDS,
      maxPixels: e.MEDIA_MAX_PIXELS,
      maxFps: e.MEDIA_MAX_FPS,
      maxStreams: e.MEDIA_MAX_STREAMS,
    },
    retention: { approvedDays: e.ORIGINAL_RETENTION_DAYS, declinedDays: e.ORIGINAL_RETENTION_DAYS_DECLINED, protectedDays: e.PROTECTED_UNMASKED_RETENTION_DAYS },
    staff: {
      sessionIdleSeconds: e.STAFF_SESSION_IDLE_MINUTES * 60,
      sessionAbsoluteSeconds: e.STAFF_SESSION_ABSOLUTE_HOURS * 3600,
      loginMaxFailures: e.STAFF_LOGIN_MAX_FAILURES,
      accountMaxFailures: e.STAFF_ACCOUNT_MAX_FAILURES,
      lockoutSeconds: e.STAFF_LOCKOUT_MINUTES * 60,
      loginAttemptsPerClient: e.STAFF_LOGIN_ATTEMPTS_PER_CLIENT,
      scryptLog2Cost: e.STAFF_SCRYPT_LOG2_COST,
      inviteSeconds: e.STAFF_INVITE_HOURS * 3600,
      secureCookies: secureCookies(e.PUBLIC_URL, e.NODE_ENV),
    },
    review: { claimSeconds: e.REVIEW_CLAIM_MINUTES * 60, releaseHoldSeconds: e.RELEASE_HOLD_SECONDS },
    metrics: { bearerToken: e.METRICS_BEARER_TOKEN },
    webhooks: { requireHttps: e.NODE_ENV === 'production', allowLoopback: e.WEBHOOK_ALLOW_LOOPBACK },
    keys,
    verify: { maxBytes: e.VERIFY_MAX_BYTES, maxSeconds: e.VERIFY_MAX_SECONDS, perWindow: e.RATE_LIMIT_VERIFY },
    provenance: { chainFile: e.C2PA_SIGNING_CHAIN_FILE ?? null, keyFile: e.C2PA_SIGNING_KEY_FILE ?? null, trustAnchorFile: e.C2PA_TRUST_ANCHOR_FILE ?? null },
  });
}

/** A key given directly or in a file (trailing whitespace of the file ignored); both at once is a mistake. */
function keyFrom(name: string, value: string | undefined, file: string | undefined): string | null {
  if (value && file) throw new ConfigError(`Invalid configuration:\n  ${name}: set either ${name} or ${name}_FILE, not both`);
  if (!file) return value ?? null;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${name}_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
}

function readKeys(e: Env): DataKeys {
  const audit = keyFrom('AUDIT_HMAC_KEY', e.AUDIT_HMAC_KEY, e.AUDIT_HMAC_KEY_FILE);
  if (audit !== null && audit.length < 32) throw new ConfigError('Invalid configuration:\n  AUDIT_HMAC_KEY_FILE: the key must have at least 32 characters');
  const totp = keyFrom('TOTP_ENCRYPTION_KEY', e.TOTP_ENCRYPTION_KEY, e.TOTP_ENCRYPTION_KEY_FILE);
  if (totp !== null && !/^[0-9a-fA-F]{64}$/.test(totp)) throw new ConfigError('Invalid configuration:\n  TOTP_ENCRYPTION_KEY_FILE: the key must be 64 hexadecimal digits (32 bytes)');
  return { audit: audit === null ? null : Buffer.from(audit, 'utf8'), totp: totp === null ? null : Buffer.from(totp, 'hex') };
}

/** Plain http is allowed for cookies only on this machine: a loopback PUBLIC_URL, or none outside production. */
export function secureCookies(publicUrl: string | undefined, env: Env['NODE_ENV']): boolean {
  if (!publicUrl) return env === 'production';
  const url = new URL(publicUrl);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return !(url.protocol === 'http:' && loopback);
}

/** Credentials anyone can read (the local defaults above, MinIO's own) are never production secrets. */
const PUBLIC_SECRETS = new Set(['solidarity', 'solidarity-local-secret', 'minioadmin']);

function unsafeForProduction(env: NodeJS.ProcessEnv, e: Env): string[] {
  const problems: string[] = [];
  if (!env.S3_ENDPOINT) problems.push('S3_ENDPOINT: not set, so it is the local MinIO of `npm start`');
  if (PUBLIC_SECRETS.has(e.S3_ACCESS_KEY_ID)) problems.push('S3_ACCESS_KEY_ID: a default credential, set a real one');
  if (PUBLIC_SECRETS.has(e.S3_SECRET_ACCESS_KEY)) problems.push('S3_SECRET_ACCESS_KEY: a default secret, set a real one');
  if (e.WEBHOOK_ALLOW_LOOPBACK) problems.push('WEBHOOK_ALLOW_LOOPBACK: webhooks to this machine are for tests and development only');
  if (!e.PUBLIC_URL) problems.push('PUBLIC_URL: not set; invitation links, the OpenAPI server and secure cookies need the public address');
  return problems;
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    // A key's bytes cannot be frozen (a typed array with elements): the object holding it is.
    if (child && typeof child === 'object' && !Buffer.isBuffer(child)) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
