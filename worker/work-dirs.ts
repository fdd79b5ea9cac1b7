import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Each job works in a folder of its own, named after the worker process, and removes it in `finally`.
 * A worker that was killed outright cannot; the next worker on the machine sweeps such folders away.
 */
const PREFIX = 'job-';

export function workRoot(configured: string | undefined): string {
  return configured ?? tmpdir();
}

export function makeJobDir(root: string): Promise<string> {
  return mkdtemp(join(root, `${PREFIX}${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the job folders of worker processes that no longer run. Returns how many. */
export async function sweepStaleJobDirs(root: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = Number(/^job-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) {
      await rm(join(root, name), { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
