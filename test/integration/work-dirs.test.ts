import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GROUP_FILE_PREFIX } from '../../worker/ffmpeg/ffmpeg';
import { makeJobDir, sweepStaleJobDirs } from '../../worker/work-dirs';
import { running } from '../helpers/worker-processes';
import { waitUntil } from '../helpers/wait-until';

/** The sweep, with real processes: what a dead worker left running is killed, and nothing else. */
describe('the sweep of job folders', () => {
  let root: string;
  const started: number[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'solidarity-sweep-'));
  });

  afterEach(async () => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  /** A process group standing in for ffmpeg: its leader's command line names `mention`, and it has a child. */
  function group(mention: string): number {
    const child = spawn('sh', ['-c', 'sleep 300 & wait', mention], { detached: true, stdio: 'ignore' });
    child.unref();
    started.push(child.pid!);
    return child.pid!;
  }

  async function deadPid(): Promise<number> {
    const child = spawn('true');
    await once(child, 'exit');
    return child.pid!;
  }

  test("when a worker died leaving ffmpeg running, then the sweep kills that process group and removes the folder; a live worker's folder and a reused pid are left alone", async () => {
    const dead = join(root, `job-${await deadPid()}-0123abcd-x1`);
    await mkdir(dead);
    const orphan = group(dead);
    // A pid recorded in the folder but since given to an unrelated program: its command line names another folder.
    const unrelated = group(join(root, 'elsewhere'));
    await writeFile(join(dead, `${GROUP_FILE_PREFIX}${orphan}`), '');
    await writeFile(join(dead, `${GROUP_FILE_PREFIX}${unrelated}`), '');
    const mine = await makeJobDir(root); // this live worker's own job
    const working = group(mine);
    await writeFile(join(mine, `${GROUP_FILE_PREFIX}${working}`), '');
    await waitUntil(async () => (await Promise.all([orphan, unrelated, working].map(running))).every(Boolean), { timeoutMs: 10_000, what: 'the stand-ins running' });

    expect(await sweepStaleJobDirs(root)).toEqual({ removed: 1, killed: 1 });
    await waitUntil(async () => !(await running(orphan)), { timeoutMs: 10_000, what: 'the orphaned group to die' });
    expect(await running(unrelated)).toBe(true);
    expect(await running(working)).toBe(true);
    expect(await readdir(root)).toEqual([mine.slice(root.length + 1)]);
  });
});
