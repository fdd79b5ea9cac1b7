import { readFile, writeFile } from 'node:fs/promises';

/**
 * Gives a run's session the run's niceness. ffmpeg and ffprobe lead a session of their own (setsid), and where the
 * kernel groups processes by session for the scheduler (autogroup: Debian's kernels, on by default), a process's nice
 * counts only inside its session: each ffmpeg session then got as much CPU as the whole server's, and `nice 10` did
 * nothing (measured by bench:scale: three transcodes took half the CPU from three server processes). Writing the nice
 * to /proc/<pid>/autogroup lowers the session's share; any process may lower its own sessions' priority, none may
 * raise it back. Only once the process leads its session (setsid may not have run yet when it starts): the worker's
 * own session is never touched. Best effort — without autogroup (or /proc) there is nothing to do.
 */
export async function lowerSessionPriority(pid: number | undefined, niceness: number): Promise<'set' | 'not-a-session-leader' | 'unsupported' | 'gone'> {
  if (!pid || niceness <= 0) return 'unsupported';
  for (let tries = 0; ; tries += 1) {
    const stat: string | null = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) return 'gone';
    // Fields after the command name (in parentheses, may hold spaces): state, ppid, pgrp, session…
    const session: number = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (session === pid) break;
    if (tries >= 50) return 'not-a-session-leader';
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  try {
    await writeFile(`/proc/${pid}/autogroup`, String(niceness));
    return 'set';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'unsupported' : 'gone';
  }
}
