import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GROUP_FILE_PREFIX } from './ffmpeg/ffmpeg';

/**
 * Each job works in a folder of its own, named after the worker process, and removes it in `finally`.
 * A worker that was killed outright (SIGKILL, out of memory) cannot: the next sweep on the machine (at a
 * worker's start and with each reconciler round) kills the ffmpeg it left running — whose process group
 * is recorded in the folder (`pgid-<n>`, worker/ffmpeg/ffmpeg.ts) — and removes the folder.
 */
const PREFIX = 'job-';
/** Tells this process from an earlier one with the same pid (in a container the worker is always pid 1). */
const INSTANCE = randomBytes(4).toString('hex');

export function workRoot(configured: string | undefined): string {
  return configured ?? tmpdir();
}

export function makeJobDir(root: string): Promise<string> {
  return mkdtemp(join(root, `${PREFIX}${process.pid}-${INSTANCE}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kills the process groups recorded in a dead worker's job folder. A recorded pid is killed only while its
 * command line still names this folder (ffmpeg's input and outputs are in it), so a pid the system has
 * since given to another program is left alone. Linux (/proc). Returns how many groups were killed.
 */
async function killLeftovers(dir: string): Promise<number> {
  let killed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(GROUP_FILE_PREFIX)) continue;
    const pid = Number(name.slice(GROUP_FILE_PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.includes(dir)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
      killed += 1;
    } catch {
      /* already gone */
    }
  }
  return killed;
}

/**
 * Sweeps the job folders of worker processes that no longer run (on this machine: WORK_DIR is local):
 * kills what they left running, then removes the folders.
 */
export async function sweepStaleJobDirs(root: string): Promise<{ removed: number; killed: number }> {
  const swept = { removed: 0, killed: 0 };
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const match = /^job-(\d+)-([0-9a-f]{8})-/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    const gone = pid === process.pid ? match[2] !== INSTANCE : !alive(pid);
    if (gone) {
      swept.killed += await killLeftovers(join(root, name));
      await rm(join(root, name), { recursive: true, force: true });
      swept.removed += 1;
    }
  }
  return swept;
}
