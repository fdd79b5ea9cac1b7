import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lowerSessionPriority } from '../../worker/ffmpeg/session-priority';

/**
 * ffmpeg runs in a session of its own (setsid); where the kernel schedules sessions as groups (autogroup), the nice of
 * the process alone did nothing against the server's processes, so the session's nice is set too
 * (worker/ffmpeg/session-priority.ts, run by worker/ffmpeg/ffmpeg.ts) — and never that of a session the run does not lead (the worker's).
 */

const AUTOGROUP = existsSync('/proc/self/autogroup');
const started: ChildProcess[] = [];

function sleeper(detached: boolean): ChildProcess {
  const child = spawn('sleep', ['30'], { detached, stdio: 'ignore' });
  started.push(child);
  return child;
}

function autogroupNice(pid: number): number {
  return Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
}

afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
});

(AUTOGROUP ? test : test.skip)('when a run leads its own session, then its session gets the run\'s niceness', async () => {
  const run = sleeper(true);
  expect(autogroupNice(run.pid!)).toBe(0);
  expect(await lowerSessionPriority(run.pid, 10)).toBe('set');
  expect(autogroupNice(run.pid!)).toBe(10);
});

(AUTOGROUP ? test : test.skip)('when a process shares the worker\'s session, then that session is left alone', async () => {
  const before = autogroupNice(process.pid);
  const child = sleeper(false);
  expect(await lowerSessionPriority(child.pid, 10)).toBe('not-a-session-leader');
  expect(autogroupNice(process.pid)).toBe(before);
});

test('when there is nothing to do, then it says why and never throws', async () => {
  expect(await lowerSessionPriority(undefined, 10)).toBe('unsupported');
  expect(await lowerSessionPriority(process.pid, 0)).toBe('unsupported');
  const gone = spawn('true');
  await new Promise((resolve) => gone.once('exit', resolve));
  expect(await lowerSessionPriority(gone.pid, 10)).toBe('gone');
});
