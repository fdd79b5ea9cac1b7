import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Submission } from '../../shared/submissions/submission.model';
import type { TestApp } from './test-env';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** A work folder of the test's own, so what runs in it can be told from every other ffmpeg on the machine. */
export function ownWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'solidarity-e2e-'));
}

/** Real worker processes (dist/worker/main.js) on a test app's services; killed at the end. */
export function workerProcesses(getApp: () => TestApp) {
  const started: ChildProcess[] = [];
  return {
    /** `env`: variables of this worker's own on top of the app's (its WORK_DIR, say). */
    start(env: NodeJS.ProcessEnv = {}): ChildProcess {
      const worker = spawn(process.execPath, [join(ROOT, 'dist', 'worker', 'main.js')], {
        env: { ...getApp().env, ...env },
        stdio: ['ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
      });
      started.push(worker);
      return worker;
    },
    async kill(worker: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
      if (worker.exitCode !== null || worker.signalCode !== null) return;
      const exited = once(worker, 'exit');
      worker.kill(signal);
      await exited;
    },
    async stopAll(): Promise<void> {
      await Promise.all(
        started.splice(0).map(async (w) => {
          if (w.signalCode === null && w.exitCode === null) {
            const exited = once(w, 'exit');
            w.kill('SIGCONT');
            w.kill('SIGKILL');
            await exited;
          }
        }),
      );
    },
  };
}

/** Kills (by pid) whatever still runs in a test's work folder — a stopped or orphaned ffmpeg — and removes it. */
export async function cleanWorkDir(workDir: string): Promise<void> {
  for (const pid of await processesIn(workDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  await rm(workDir, { recursive: true, force: true });
}

/** The job folders in a work folder, by the pid of the worker that made them. */
export async function jobFolders(workDir: string): Promise<Array<{ path: string; workerPid: number }>> {
  const names = await readdir(workDir).catch(() => [] as string[]);
  return names.flatMap((name) => {
    const match = /^job-(\d+)-/.exec(name);
    return match ? [{ path: join(workDir, name), workerPid: Number(match[1]) }] : [];
  });
}

/** Pids of the processes whose command line names this folder (ffmpeg reads and writes only in its job folder). */
export async function processesIn(folder: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', folder]).catch(() => ({ stdout: '' }));
  const pids = stdout.split('\n').filter(Boolean).map(Number);
  const alive = await Promise.all(pids.map((pid) => running(pid)));
  return pids.filter((_, i) => alive[i]);
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
export async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return false;
  return !/^\d+ \(.*\) Z/.test(stat);
}

export async function loadSubmission(app: TestApp, id: string): Promise<Submission> {
  return (await app.services.db.submissions.findById(id).lean<Submission>())!;
}
