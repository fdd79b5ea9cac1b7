import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasWholeMessage, HOST, httpStatus, isOkReply, opMsgPing, pickPorts, tcpExchange } from './probes';
import { localBinaryPaths } from './versions';

/**
 * Starts the project's local services (MongoDB-compatible FerretDB on SQLite, Redis, S3-compatible
 * MinIO) as child processes bound to 127.0.0.1, for `npm start` and the test setup. Several sets can
 * run side by side: each gets its own data dir and, unless told otherwise, free ports.
 * The binaries come from `bash infra/local/install.sh`.
 */

export interface LocalServices {
  mongoUrl: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** SIGTERM all children, wait for them to exit (SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Each service gets a subfolder (and a `<name>.log`); created if missing. */
  dataDir: string;
  /** 0 or missing = pick a free loopback port. */
  ports?: { mongo?: number; redis?: number; s3?: number };
  /** Default 'solidarity'. */
  database?: string;
  /** The local MinIO's credentials; default the fixed local ones (benchmarks, which run as production, pass their own). */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  log?: (line: string) => void;
}

/** Fixed credentials of the local MinIO; it only listens on loopback. */
export const MINIO_ROOT_USER = 'solidarity';
export const MINIO_ROOT_PASSWORD = 'solidarity-local-secret';
export const S3_REGION = 'us-east-1';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const SETUP_HINT = 'run `bash infra/local/install.sh` (or `npm run setup`)';

type ServiceName = 'redis' | 'ferretdb' | 'minio';

interface ServiceSpec {
  name: ServiceName;
  bin: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  port: number;
  /** One readiness probe; resolves true when the service answers at the protocol level. */
  probe: () => Promise<boolean>;
}

export async function startLocalServices(opts: StartOptions): Promise<LocalServices> {
  const log = opts.log ?? (() => undefined);
  const dataDir = resolve(opts.dataDir);
  const database = opts.database ?? 'solidarity';
  const credentials = opts.s3Credentials ?? { accessKeyId: MINIO_ROOT_USER, secretAccessKey: MINIO_ROOT_PASSWORD };
  const bins = localBinaryPaths();

  const missing = (['ferretdb', 'minio', 'redisServer'] as const).filter((k) => !existsSync(bins[k]));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.map((k) => bins[k]).join(', ')}: ${SETUP_HINT}`);
  }

  const ports = await pickPorts({
    mongo: opts.ports?.mongo ?? 0,
    redis: opts.ports?.redis ?? 0,
    s3: opts.ports?.s3 ?? 0,
  });

  const specs = [
    redisSpec(bins.redisServer, dataDir, ports.redis),
    ferretdbSpec(bins.ferretdb, dataDir, ports.mongo),
    minioSpec(bins.minio, dataDir, ports.s3, credentials),
  ];
  const children: ChildProcess[] = [];
  const stopAll = once(() => Promise.all(children.map(stopChild)).then(() => undefined));

  const results = await Promise.allSettled(specs.map((spec) => startService(spec, children, log)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    const first = failures[0];
    throw first instanceof Error ? first : new Error(String(first));
  }

  return {
    mongoUrl: `mongodb://${HOST}:${ports.mongo}/${database}`,
    redisUrl: `redis://${HOST}:${ports.redis}`,
    s3: {
      endpoint: `http://${HOST}:${ports.s3}`,
      region: S3_REGION,
      ...credentials,
    },
    stop: once(async () => {
      await stopAll();
      log('local services stopped');
    }),
  };
}

/**
 * One MinIO alone (tests that stop and restart S3 under a running server): started again with the same
 * `dataDir` and `port`, it serves what it held.
 */
export async function startLocalMinio(opts: { dataDir: string; port?: number }): Promise<{ endpoint: string; port: number; stop(): Promise<void> }> {
  const dataDir = resolve(opts.dataDir);
  const { s3: port } = await pickPorts({ s3: opts.port ?? 0 });
  const children: ChildProcess[] = [];
  const stop = once(() => Promise.all(children.map(stopChild)).then(() => undefined));
  try {
    await startService(minioSpec(localBinaryPaths().minio, dataDir, port, { accessKeyId: MINIO_ROOT_USER, secretAccessKey: MINIO_ROOT_PASSWORD }), children, () => undefined);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint: `http://${HOST}:${port}`, port, stop };
}

// --- the three services -----------------------------------------------------------------------

function redisSpec(bin: string, dataDir: string, port: number): ServiceSpec {
  const dir = ensureDir(join(dataDir, 'redis'));
  const logFile = join(dataDir, 'redis.log');
  return {
    name: 'redis',
    bin,
    // No config file: everything on the command line, so nothing from /etc/redis applies.
    args: [
      '--port', String(port),
      '--bind', HOST,
      '--dir', dir,
      // Queue jobs survive a restart of `npm start`.
      '--appendonly', 'yes',
      // Bull needs every key kept: fail writes rather than silently evict jobs.
      '--maxmemory-policy', 'noeviction',
      // No RDB snapshots: the AOF is enough, and no fork()s during tests.
      '--save', '',
      '--protected-mode', 'yes',
      '--daemonize', 'no',
      '--logfile', logFile,
    ],
    env: baseEnv(dir),
    cwd: dir,
    logFile,
    port,
    probe: async () => {
      const reply = await tcpExchange(port, Buffer.from('PING\r\n'), (b) => b.includes('\r\n'));
      return reply.toString().startsWith('+PONG'); // -LOADING while the AOF is replayed
    },
  };
}

function ferretdbSpec(bin: string, dataDir: string, port: number): ServiceSpec {
  const dir = ensureDir(join(dataDir, 'ferretdb'));
  const stateDir = ensureDir(join(dataDir, 'ferretdb-state'));
  return {
    name: 'ferretdb',
    bin,
    args: [
      '--handler=sqlite',
      // A file: URL of an existing directory, ending in '/'; pathToFileURL escapes odd characters.
      `--sqlite-url=${pathToFileURL(dir).href}/`,
      `--listen-addr=${HOST}:${port}`,
      // No network calls home, and no interactive telemetry notice.
      '--telemetry=disable',
      // Keeps state.json (instance UUID, telemetry choice) out of the working directory.
      `--state-dir=${stateDir}`,
      // The debug/metrics HTTP listener defaults to 127.0.0.1:8088, which two instances would fight over.
      '--debug-addr=-',
      // Warn dumps every failed command (even the driver's routine endSessions); errors are enough.
      '--log-level=error',
    ],
    env: baseEnv(dir),
    cwd: dir,
    logFile: join(dataDir, 'ferretdb.log'),
    port,
    probe: async () => isOkReply(await tcpExchange(port, opMsgPing(), hasWholeMessage)),
  };
}

function minioSpec(bin: string, dataDir: string, port: number, credentials: { accessKeyId: string; secretAccessKey: string }): ServiceSpec {
  const dir = ensureDir(join(dataDir, 'minio'));
  const home = ensureDir(join(dataDir, 'minio-home'));
  return {
    name: 'minio',
    bin,
    args: [
      'server', dir,
      '--address', `${HOST}:${port}`,
      // TLS certs would be looked up in $HOME/.minio/certs; keep that inside the data dir.
      '--certs-dir', ensureDir(join(home, 'certs')),
      // No startup banner with the credentials in the log.
      '--quiet',
    ],
    env: {
      ...baseEnv(home),
      MINIO_ROOT_USER: credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
      MINIO_SITE_REGION: S3_REGION,
      // The web console is not needed, and would listen on yet another (random) port.
      MINIO_BROWSER: 'off',
      // No update checks or call-home: offline and quiet.
      MINIO_UPDATE: 'off',
      MINIO_CALLHOME_ENABLE: 'off',
    },
    cwd: home,
    logFile: join(dataDir, 'minio.log'),
    port,
    probe: () => httpStatus(port, '/minio/health/ready').then((s) => s === 200),
  };
}

/**
 * The children get a small fixed environment, not the parent's: a developer's FERRETDB_* or MINIO_*
 * variables (or CI=true, which MinIO reads) must not change how the local services behave.
 */
function baseEnv(home: string): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
}

// --- process handling -----------------------------------------------------------------------------

/** Children still running in this process, SIGKILLed on exit so none outlives us. */
const running = new Set<ChildProcess>();
/** Children we asked to stop, so their exit is not reported as unexpected. */
const stopping = new WeakSet<ChildProcess>();
let exitHookInstalled = false;

function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
}

async function startService(spec: ServiceSpec, children: ChildProcess[], log: (line: string) => void): Promise<void> {
  const fd = openSync(spec.logFile, 'a');
  const shown = spec.args.map((a) => (a === '' ? "''" : a)).join(' ');
  writeSync(fd, `--- ${new Date().toISOString()} starting ${spec.bin} ${shown}\n`);
  let child: ChildProcess;
  try {
    child = spawn(spec.bin, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  children.push(child);
  if (!exitHookInstalled) {
    process.once('exit', killAllNow);
    exitHookInstalled = true;
  }
  running.add(child);

  const ended = new Promise<string>((resolveEnded) => {
    child.once('error', (err) => resolveEnded(`could not be started (${err.message})`));
    child.once('exit', (code, signal) => resolveEnded(`exited (${signal ?? `code ${code}`})`));
  });
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));

  const where = `${HOST}:${spec.port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let early: string | undefined;
  void ended.then((why) => (early = why));
  for (;;) {
    if (early !== undefined) throw serviceError(spec, `${spec.name} ${early} before it was ready`);
    if (await spec.probe().catch(() => false)) break;
    if (Date.now() > deadline) {
      throw serviceError(spec, `${spec.name} not ready on ${where} after ${READY_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }
  // A probe could in theory reach someone else on that port just as our child dies; check once more.
  if (early !== undefined) throw serviceError(spec, `${spec.name} ${early} before it was ready`);
  log(`${spec.name} ready on ${where}`);
  void ended.then((why) => {
    if (!stopping.has(child)) log(`${spec.name} ${why} unexpectedly; see ${spec.logFile}`);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  stopping.add(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function serviceError(spec: ServiceSpec, message: string): Error {
  return new Error(`${message}; last lines of ${spec.logFile}:\n${tail(spec.logFile, 20)}`);
}

function tail(file: string, lines: number): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 16 * 1024);
    const buf = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}

// --- small helpers ----------------------------------------------------------------------------------

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}
