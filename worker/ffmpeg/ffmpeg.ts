import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import type { ProbeOutput } from './media-info';
import { lowerSessionPriority } from './session-priority';

/**
 * The only module that runs ffmpeg and ffprobe, and the only one that imports fluent-ffmpeg.
 * Steps build plain argument arrays (pure functions, asserted by unit tests); this module runs them:
 * niced (the process and its session: lowerSessionPriority), as the leader of their own process group (so a timeout or a shutdown kills everything they
 * started), with a hard time limit, and with progress read from ffmpeg's stats line.
 */

export interface FfmpegCommand {
  /** Options that apply to the whole run (log level, filter graph, thread count…). */
  globalArgs: string[];
  inputs: Array<{ args: string[]; path: string }>;
  outputs: Array<{ args: string[]; path: string }>;
}

export interface RunLimits {
  ffmpegPath: string;
  ffprobePath: string;
  niceness: number;
  timeoutSeconds: number;
  /**
   * The job's folder: while a run lasts, a `pgid-<n>` file there names its process group, so the sweep of
   * a worker that was killed outright (worker/work-dirs.ts) can kill what it left running.
   */
  groupDir?: string;
}

export class FfmpegError extends Error {
  constructor(
    /** failed: ffmpeg refused the file; unavailable: it could not run, or something else killed it. */
    readonly kind: 'failed' | 'timeout' | 'aborted' | 'unavailable',
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** `setsid` makes ffmpeg the leader of a new process group without forking (same pid), so -pid reaches it all. */
const SETSID = 'setsid';

/**
 * The exact argument list ffmpeg receives for a command, in the order fluent-ffmpeg assembles it
 * (input options and inputs, then -y, then each output's options and path).
 */
export function commandArgs(command: FfmpegCommand): string[] {
  return [
    ...command.inputs.flatMap((input, i) => [...(i === 0 ? command.globalArgs : []), ...input.args, '-i', input.path]),
    '-y',
    ...command.outputs.flatMap((output) => [...output.args, output.path]),
  ];
}

function options(args: string[]): string[] {
  // fluent-ffmpeg splits a lone "-flag value" string on its space; with two or more arguments it never splits.
  if (args.length === 1 && /\s/.test(args[0] ?? '')) throw new Error(`ambiguous ffmpeg option: ${args[0] ?? ''}`);
  return args;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal); // setsid had not run yet: the process is still in our group
    } catch {
      /* already gone */
    }
  }
}

/**
 * ffmpeg's own limit, kept by the kernel (RLIMIT_CPU): a backstop for a run whose worker died before the
 * sweep could kill it. In CPU seconds, so it allows every core busy for the whole wall-clock timeout and
 * never stops a run the timeout would let finish.
 */
export function backstopArgs(limits: Pick<RunLimits, 'timeoutSeconds'>, cores: number = availableParallelism()): string[] {
  return ['-timelimit', String(limits.timeoutSeconds * Math.max(1, cores))];
}

export const GROUP_FILE_PREFIX = 'pgid-';

/** Records (or, with remove, forgets) a running process group in the job's folder. */
function recordGroup(limits: RunLimits, pid: number | undefined, remove = false): void {
  if (!limits.groupDir || !pid) return;
  const path = join(limits.groupDir, `${GROUP_FILE_PREFIX}${pid}`);
  void (remove ? rm(path, { force: true }) : writeFile(path, '')).catch(() => undefined);
}

const TIME = /time=\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;

/**
 * At level info ffmpeg dumps each file's format ("Input #0, …" / "Output #0, …", then indented
 * "Metadata:" blocks with tags such as a GPS position or a phone model). Such lines are never kept, so
 * no log line or error made from ffmpeg's output can carry them. Returns a stateful line filter.
 */
export function formatDumpFilter(): (line: string) => boolean {
  let inDump = false;
  return (line) => {
    if (/^(?:Input|Output) #\d|^Stream mapping:/.test(line)) {
      inDump = true;
      return false;
    }
    if (inDump && /^\s/.test(line)) return false;
    inDump = false;
    return true;
  };
}

/** Runs one ffmpeg command; resolves with the last 40 lines of its log (where filters print their summaries). */
export async function runFfmpeg(
  command: FfmpegCommand,
  limits: RunLimits,
  run: { durationSeconds?: number | null; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  await loadCapabilities(limits.ffmpegPath);
  return new Promise<string>((resolve, reject) => {
    if (run.signal?.aborted) {
      reject(new FfmpegError('aborted', 'ffmpeg was not started: the job is stopping', ''));
      return;
    }
    const cmd = ffmpeg({ stdoutLines: 40 });
    cmd.setFfmpegPath(SETSID);
    if (limits.niceness > 0) cmd.renice(limits.niceness);
    command.inputs.forEach((input, i) => {
      cmd.input(input.path);
      // The real ffmpeg binary is setsid's first argument; fluent-ffmpeg puts the first input's options first.
      const args = i === 0 ? [limits.ffmpegPath, ...backstopArgs(limits), ...command.globalArgs, ...input.args] : input.args;
      if (args.length > 0) cmd.inputOptions(...options(args));
    });
    for (const output of command.outputs) {
      cmd.output(output.path);
      if (output.args.length > 0) cmd.outputOptions(...options(output.args));
    }

    let pid: number | undefined;
    let stopped: FfmpegError['kind'] | null = null;
    const stderr: string[] = [];
    const keepLine = formatDumpFilter();
    const timer = setTimeout(() => {
      stopped = 'timeout';
      killGroup(pid, 'SIGKILL');
    }, limits.timeoutSeconds * 1000);
    const onAbort = () => {
      stopped = 'aborted';
      killGroup(pid, 'SIGKILL');
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (error: FfmpegError | null) => {
      clearTimeout(timer);
      recordGroup(limits, pid, true);
      run.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(stderr.join('\n'));
    };

    cmd.on('start', () => {
      pid = (cmd as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
      recordGroup(limits, pid);
      void lowerSessionPriority(pid, limits.niceness);
      if (stopped) killGroup(pid, 'SIGKILL');
    });
    cmd.on('stderr', (line: string) => {
      const match = TIME.exec(line);
      if (match && run.onProgress && run.durationSeconds) {
        const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
        run.onProgress(Math.min(1, seconds / run.durationSeconds));
      }
      if (!keepLine(line)) return;
      stderr.push(line);
      if (stderr.length > 40) stderr.shift();
    });
    cmd.on('error', (error: Error) => {
      const tail = stderr.filter((line) => !TIME.test(line)).slice(-10).join('\n');
      if (stopped === 'timeout') finish(new FfmpegError('timeout', `ffmpeg ran longer than ${limits.timeoutSeconds} s and was stopped`, tail));
      else if (stopped === 'aborted') finish(new FfmpegError('aborted', 'ffmpeg was stopped: the job is stopping', tail));
      else if ((error as NodeJS.ErrnoException).code || /killed with signal/.test(error.message) || /No space left/i.test(tail)) {
        finish(new FfmpegError('unavailable', `ffmpeg could not run: ${error.message}`, tail));
      } else finish(new FfmpegError('failed', `${error.message}${tail ? `: ${tail}` : ''}`, tail));
    });
    cmd.on('end', () => finish(null));
    cmd.run();
  });
}

/**
 * Runs ffprobe and returns its JSON. Run directly rather than through fluent-ffmpeg's ffprobe, which
 * parses a text format that loses side data (the display matrix) and has no time limit.
 */
export function runFfprobe(args: string[], limits: RunLimits): Promise<ProbeOutput> {
  return new Promise((resolve, reject) => {
    const [command, argv] = limits.niceness > 0 ? ['nice', ['-n', String(limits.niceness), limits.ffprobePath, ...args]] : [limits.ffprobePath, args];
    // detached: ffprobe leads its own process group, so the timeout kills everything it started.
    const child = spawn(command, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    recordGroup(limits, child.pid);
    void lowerSessionPriority(child.pid, limits.niceness);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, Math.min(limits.timeoutSeconds, 60) * 1000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 64) err.push(chunk);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      recordGroup(limits, child.pid, true);
      reject(new FfmpegError('unavailable', `ffprobe could not start: ${error.message}`, ''));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      recordGroup(limits, child.pid, true);
      const stderr = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-10).join('\n');
      if (timedOut) return reject(new FfmpegError('timeout', 'ffprobe took too long and was stopped', stderr));
      if (signal) return reject(new FfmpegError('unavailable', `ffprobe was killed by ${signal}`, stderr));
      if (code !== 0) return reject(new FfmpegError('failed', `ffprobe exited with code ${String(code)}`, stderr));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as ProbeOutput);
      } catch {
        reject(new FfmpegError('failed', 'ffprobe did not return JSON', stderr));
      }
    });
  });
}

/**
 * Runs one ffmpeg command whose single output is raw frames on its stdout (`-f rawvideo … pipe:1`) and hands
 * each whole frame of `frameBytes` to `onFrame`, in order; ffmpeg's output is paused while a frame is handled,
 * so a slow consumer (the face detector) holds ffmpeg back instead of filling memory. Niced, in its own
 * process group, time-limited and abortable like every run. Resolves with the number of frames read.
 */
export function readRawFrames(
  command: FfmpegCommand,
  frameBytes: number,
  limits: RunLimits,
  onFrame: (frame: Buffer, index: number) => Promise<void>,
  run: { signal?: AbortSignal } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(new FfmpegError('aborted', 'ffmpeg was not started: the job is stopping', ''));
    const args = [...backstopArgs(limits), ...commandArgs(command)];
    const [program, argv] = limits.niceness > 0 ? ['nice', ['-n', String(limits.niceness), limits.ffmpegPath, ...args]] : [limits.ffmpegPath, args];
    const child = spawn(program, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    recordGroup(limits, child.pid);
    void lowerSessionPriority(child.pid, limits.niceness);
    const keepLine = formatDumpFilter();
    const stderr: string[] = [];
    let stopped: FfmpegError['kind'] | null = null;
    let failure: Error | null = null;
    let pending: Buffer = Buffer.alloc(0);
    let index = 0;
    let queue = Promise.resolve();
    const stop = (kind: FfmpegError['kind']) => {
      stopped ??= kind;
      killGroup(child.pid, 'SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), limits.timeoutSeconds * 1000);
    const onAbort = () => stop('aborted');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      for (const line of text.split('\n')) {
        if (!line.trim() || !keepLine(line)) continue;
        stderr.push(line);
        if (stderr.length > 10) stderr.shift();
      }
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const frames: Buffer[] = [];
      while (pending.length >= frameBytes) {
        frames.push(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
      }
      if (frames.length === 0) return;
      child.stdout.pause();
      queue = queue
        .then(async () => {
          for (const frame of frames) {
            if (failure) return;
            await onFrame(Buffer.from(frame), index);
            index += 1;
          }
        })
        .catch((error: unknown) => {
          failure = error instanceof Error ? error : new Error(String(error));
          stop('failed');
        })
        .finally(() => child.stdout.resume());
    });
    child.on('error', (error) => {
      failure ??= new FfmpegError('unavailable', `ffmpeg could not start: ${error.message}`, '');
    });
    child.on('close', (code, signal) => {
      void queue.then(() => {
        clearTimeout(timer);
        recordGroup(limits, child.pid, true);
        run.signal?.removeEventListener('abort', onAbort);
        const tail = stderr.join('\n');
        if (failure) return reject(failure);
        if (stopped === 'timeout') return reject(new FfmpegError('timeout', `ffmpeg ran longer than ${limits.timeoutSeconds} s and was stopped`, tail));
        if (stopped === 'aborted') return reject(new FfmpegError('aborted', 'ffmpeg was stopped: the job is stopping', tail));
        if (signal) return reject(new FfmpegError('unavailable', `ffmpeg was killed by ${signal}`, tail));
        if (code !== 0) return reject(new FfmpegError('failed', `ffmpeg exited with code ${String(code)}${tail ? `: ${tail}` : ''}`, tail));
        resolve(index);
      });
    });
  });
}

/** What the worker needs from ffmpeg; a build without one of these cannot make the previews. */
export const REQUIRED_ENCODERS = ['libx264', 'aac', 'mjpeg'];
export const REQUIRED_FILTERS = ['subtitles', 'ass', 'zscale', 'tonemap', 'volume', 'alimiter', 'fps', 'scale', 'transpose', 'anullsrc'];
/** Filters fluent-ffmpeg's list leaves out (their outputs are dynamic, "A->N"): checked by a tenth of a second of use. */
export const REQUIRED_FILTERS_BY_USE = ['ebur128'];

type Listing = Record<string, unknown>;

interface Capabilities {
  encoders: Listing;
  filters: Listing;
}

/**
 * fluent-ffmpeg lists formats and encoders before every run (`ffmpeg -formats`, `-encoders`) through the
 * configured binary, which here is setsid; it caches the lists module-wide, so they are loaded once from
 * the real ffmpeg first. (fluent-ffmpeg's own cache is module state; this promise only mirrors it.)
 */
let capabilities: Promise<Capabilities> | undefined;

function loadCapabilities(ffmpegPath: string): Promise<Capabilities> {
  capabilities ??= (async () => {
    ffmpeg.setFfmpegPath(ffmpegPath);
    const list = (load: (cb: (err: Error | null, data: Listing) => void) => void) =>
      new Promise<Listing>((resolve, reject) => load((err, data) => (err ? reject(err) : resolve(data))));
    await list((cb) => ffmpeg.getAvailableFormats(cb as never));
    const encoders = await list((cb) => ffmpeg.getAvailableEncoders(cb as never));
    const filters = await list((cb) => ffmpeg.getAvailableFilters(cb as never));
    return { encoders, filters };
  })();
  capabilities.catch(() => {
    capabilities = undefined;
  });
  return capabilities;
}

function runs(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** What the worker lacks of what it needs (empty when it has everything): ffmpeg's encoders and filters, ffprobe, setsid, nice. */
export async function missingCapabilities(limits: Pick<RunLimits, 'ffmpegPath' | 'ffprobePath'>): Promise<string[]> {
  const tools = [
    [limits.ffprobePath, ['-version']],
    [SETSID, ['--version']],
    ['nice', ['--version']],
  ] as const;
  const missingTools = [];
  for (const [command, args] of tools) if (!(await runs(command, [...args]))) missingTools.push(`the program ${command}`);
  const { encoders, filters } = await loadCapabilities(limits.ffmpegPath);
  for (const name of REQUIRED_FILTERS_BY_USE) {
    const args = ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=d=0.1', '-af', name, '-f', 'null', '-'];
    if (!(await runs(limits.ffmpegPath, args))) missingTools.push(`filter ${name}`);
  }
  return [
    ...missingTools,
    ...REQUIRED_ENCODERS.filter((name) => !(name in encoders)).map((name) => `encoder ${name}`),
    ...REQUIRED_FILTERS.filter((name) => !(name in filters)).map((name) => `filter ${name}${name === 'subtitles' ? ' (libass)' : ''}`),
  ];
}
