import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initSigningFolder } from '../../shared/provenance/signing-files';
import { IDENTITY_FILES } from '../../shared/provenance/signing-identity';
import { startLocalServices, type LocalServices } from '../../infra/local/services';

/** Benchmarks run against the same real local services as the tests, on free ports with throw-away data. */
export async function startBenchServices(): Promise<{ services: LocalServices; env: NodeJS.ProcessEnv; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'solidarity-bench-'));
  // Benchmarks run as production, which refuses the local default credentials: these services get their own.
  const s3Credentials = { accessKeyId: `bench-${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('hex') };
  const services = await startLocalServices({ dataDir, s3Credentials });
  // Releases are signed: a throw-away identity for the bench (WorkerDeps.signing: benchSigning(config)).
  const provenanceDir = join(dataDir, 'provenance');
  await initSigningFolder(provenanceDir, { organisation: 'Bench Federation' });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PUBLIC_URL: 'http://127.0.0.1:3000',
    LOG_LEVEL: 'warn',
    MONGO_URL: services.mongoUrl,
    REDIS_URL: services.redisUrl,
    S3_ENDPOINT: services.s3.endpoint,
    S3_REGION: services.s3.region,
    S3_ACCESS_KEY_ID: services.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    S3_BUCKET: 'bench',
    // Production also wants the keys kept outside the database: throw-away ones for the bench.
    AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
    TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    C2PA_SIGNING_CHAIN_FILE: join(provenanceDir, IDENTITY_FILES.chain),
    C2PA_SIGNING_KEY_FILE: join(provenanceDir, IDENTITY_FILES.key),
    C2PA_TRUST_ANCHOR_FILE: join(provenanceDir, IDENTITY_FILES.rootCert),
  };
  return {
    services,
    env,
    async stop() {
      await services.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const ROOT = resolve(__dirname, '..', '..', '..');

/**
 * Starts a built entry point (dist/…) as its own process; `ready` resolves once it is usable. It runs with
 * the bench's own node flags, so `node --cpu-prof dist/test/bench/….js` profiles the server too.
 */
export async function startProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  args: string[] = [],
  readyWithinMs = 30_000,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, join(ROOT, 'dist', entry), ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + readyWithinMs;
  while (!(await ready().catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with code ${String(child.exitCode)}`);
    if (Date.now() > deadline) throw new Error(`${entry} did not become ready in ${readyWithinMs / 1000} s`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** The peak resident memory of a process over its whole life so far, in bytes (Linux: VmHWM). */
export function peakRssOf(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Resets a process's peak resident memory (VmHWM) to its resident memory now (Linux ≥ 4.0: `5` written to
 * /proc/<pid>/clear_refs), so the peak read afterwards is that of the work that follows — not of the login's
 * scrypt (N = 2^17, r = 8: 128 MiB for a moment), nor of start-up.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Samples a process's RSS every 50 ms while `work` runs; returns the work's result and the peak. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 50);
  try {
    const result = await work();
    peak = Math.max(peak, rssOf(pid));
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

let clockTicks: number | undefined;

/** CPU-seconds (user + system, all threads) a process has used so far (Linux: /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** The CPU-seconds a process spends while `work` runs, and the work's result. */
export async function withCpuSeconds<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = cpuSecondsOf(pid);
  const result = await work();
  return { result, cpuSeconds: cpuSecondsOf(pid) - before };
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function formatRatio(name: string, value: number, target: string): string {
  return `${name.padEnd(58)} ${value.toFixed(3).padStart(8)}   (target ${target})`;
}

/** Wall-clock seconds a piece of work takes. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
