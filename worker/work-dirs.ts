import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Each job works in a folder of its own, named after the worker process, and removes it in `finally`.
 * A worker that was killed outright cannot; the next worker on the machine sweeps such folders away.
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

/** Removes the job folders of worker processes that no longer run (on this machine: WORK_DIR is local). Returns how many. */
export async function sweepStaleJobDirs(root: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const match = /^job-(\d+)-([0-9a-f]{8})-/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    const gone = pid === process.pid ? match[2] !== INSTANCE : !alive(pid);
    if (gone) {
      await rm(join(root, name), { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
