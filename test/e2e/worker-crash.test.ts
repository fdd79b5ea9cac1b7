import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GROUP_FILE_PREFIX } from '../../worker/ffmpeg/ffmpeg';
import type { Submission } from '../../shared/submissions/submission.model';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { expectOnlyRecordedOutputs, submitFile } from '../helpers/worker-env';
import { cleanWorkDir, jobFolders, ownWorkDir, processesIn, running } from '../helpers/worker-processes';
import { waitUntil } from '../helpers/wait-until';

const ROOT = join(__dirname, '..', '..');

/**
 * The worker as a real process (dist/worker/main.js, built by `npm test`'s setup), stopped in the middle
 * of an encode: killed outright, or asked to stop. Either way the clip ends processed exactly once.
 */
describe('a worker stopped mid-encode', () => {
  let app: TestApp;
  const workers: ChildProcess[] = [];
  const LOCK_SECONDS = 4;
  const workDir = ownWorkDir();

  beforeAll(async () => {
    app = await startTestApp({ QUEUE_LOCK_SECONDS: String(LOCK_SECONDS), WORKER_CONCURRENCY: '1', WORK_DIR: workDir });
    await seedDemoCampaign(app.deps);
  });

  afterEach(async () => {
    // Each test starts with no worker running.
    await Promise.all(
      workers.splice(0).filter((w) => w.exitCode === null && w.signalCode === null).map(async (w) => {
        w.kill('SIGKILL');
        await once(w, 'exit');
      }),
    );
  });

  afterAll(async () => {
    await app.close();
    await cleanWorkDir(workDir);
  });

  function startWorker(): ChildProcess {
    const worker = spawn(process.execPath, [join(ROOT, 'dist', 'worker', 'main.js')], { env: app.env, stdio: ['ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'] });
    workers.push(worker);
    return worker;
  }

  async function load(id: string): Promise<Submission> {
    return (await app.services.db.submissions.findById(id).lean<Submission>())!;
  }

  async function waitFor(id: string, check: (s: Submission) => boolean, seconds: number, what: string): Promise<Submission> {
    let last: Submission | null = null;
    return waitUntil(async () => {
      last = await load(id);
      return check(last) ? last : null;
    }, { timeoutMs: seconds * 1000, intervalMs: 200, what, seen: () => ({ status: last?.status, progress: last?.processing.progress }) });
  }

  async function expectProcessedOnce(id: string): Promise<Submission> {
    const done = await waitFor(id, (s) => s.status === 'in_review', 180, 'the clip in review');
    expect(done.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(1);
    await expectOnlyRecordedOutputs(app.services, done, ['master', 'poster', 'preview']);
    return done;
  }

  jest.setTimeout(300_000);

  /**
   * Holds a worker mid-encode: once its ffmpeg writes into the job folder's out/, that ffmpeg is stopped
   * (SIGSTOP), so a clip of a few seconds is caught in the middle as surely as a long one, and the test does not
   * wait for long encodes. Returns the held ffmpeg's pids.
   */
  async function holdMidEncode(worker: ChildProcess, id: string): Promise<number[]> {
    const { folder, ffmpeg } = await waitUntil(async () => {
      const folder = (await jobFolders(workDir)).find((f) => f.workerPid === worker.pid)?.path;
      const pids = folder ? await processesIn(`${folder}/out/`) : [];
      return folder && pids.length > 0 ? { folder, ffmpeg: pids } : null;
    }, { timeoutMs: 120_000, intervalMs: 20, what: `the encode of worker ${String(worker.pid)}` });
    for (const pid of ffmpeg) process.kill(pid, 'SIGSTOP');
    // Caught so early, the worker may not have recorded its ffmpeg's group in the folder yet: the sweep knows only recorded groups.
    await waitUntil(async () => (await Promise.all(ffmpeg.map((pid) => stat(join(folder, `${GROUP_FILE_PREFIX}${pid}`)).then(() => true, () => false)))).every(Boolean), { timeoutMs: 10_000, intervalMs: 20, what: "the worker to record its ffmpeg's process group" });
    expect((await load(id)).status).toBe('processing');
    return ffmpeg;
  }

  test('when the worker is killed with SIGKILL mid-encode and a new one starts, then the clip ends with one set of outputs and one transition to review', async () => {
    const id = await submitFile(app, await FIXTURES.shortEncode!());
    const first = startWorker();
    const held = await holdMidEncode(first, id);
    first.kill('SIGKILL');
    await once(first, 'exit');
    startWorker();
    const done = await expectProcessedOnce(id);
    expect(done.history.filter((h) => h.transition === 'processing_started').length).toBeGreaterThanOrEqual(2);
    // The dead worker's ffmpeg (still held) was killed by the new worker's sweep of job folders.
    await waitUntil(async () => (await Promise.all(held.map(running))).every((alive) => !alive), { timeoutMs: 10_000, what: "the dead worker's ffmpeg to be killed" });
  });

  test('when the worker gets SIGTERM mid-encode, then it hands the job back, exits 0, and another worker finishes the clip', async () => {
    const id = await submitFile(app, await FIXTURES.shortEncode!());
    const first = startWorker();
    await holdMidEncode(first, id);
    first.kill('SIGTERM');
    const [code] = (await once(first, 'exit')) as [number | null];
    expect(code).toBe(0);
    const handedBack = await load(id);
    expect(handedBack.history.at(-1)).toMatchObject({ transition: 'requeued', by: 'worker' });
    startWorker();
    await expectProcessedOnce(id);
  });

  test('when workers are SIGKILLed at random moments while several clips are processed, then after the last kill every clip is in review within the lock time plus one encode', async () => {
    const CLIPS = 3;
    const KILLS = 4; // more kills than clips: at least one clip loses its worker twice
    const ids: string[] = [];
    for (let i = 0; i < CLIPS; i += 1) ids.push(await submitFile(app, await FIXTURES.long!()));
    let live = ids.map(() => startWorker());
    let lastKill = 0;
    const killedAt: number[] = [];
    // The random schedule is seeded, and the seed printed: WORKER_CRASH_SEED=<seed> repeats the same waits and
    // the same picks (which worker a pick lands on still depends on which ones are at work at that moment).
    const seed = Number(process.env.WORKER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    if (!Number.isSafeInteger(seed)) throw new Error(`WORKER_CRASH_SEED must be a whole number, not ${process.env.WORKER_CRASH_SEED}`);
    const random = seededRandom(seed);
    const waits = Array.from({ length: KILLS }, () => Math.round(1000 + random() * 7000));
    process.stdout.write(`\nworker-crash kill schedule: seed ${seed} (WORKER_CRASH_SEED=${seed} repeats it), waits ${waits.join(', ')} ms\n`);
    for (let k = 0; k < KILLS; k += 1) {
      // A random moment (the wait is the schedule, not a synchronisation), then a random worker among those at
      // work on a clip (with a job folder).
      await new Promise((resolve) => setTimeout(resolve, waits[k]));
      const busy = await waitUntil(async () => {
        const pids = new Set((await jobFolders(workDir)).map((f) => f.workerPid));
        const atWork = live.filter((w) => pids.has(w.pid!));
        return atWork.length > 0 ? atWork : null;
      }, { timeoutMs: 120_000, what: 'a worker at work' });
      const victim = busy[Math.floor(random() * busy.length)]!;
      victim.kill('SIGKILL');
      await once(victim, 'exit');
      lastKill = Date.now();
      killedAt.push(lastKill);
      live = [...live.filter((w) => w !== victim), startWorker()];
    }
    const done = await waitUntil(async () => {
      const all = await Promise.all(ids.map(load));
      return all.every((s) => s.status === 'in_review') ? all : null;
    }, { timeoutMs: 240_000, what: 'every clip in review' });
    const recovery = (Date.now() - lastKill) / 1000;
    // One encode: the longest run that succeeded (its claim to its settle), measured in this same run.
    const encodes = done.map((s) => {
      const settled = s.history.find((h) => h.transition === 'processing_succeeded')!;
      const claimed = s.history.find((h) => h.transition === 'processing_started' && h.lease === settled.lease)!;
      return (settled.at.getTime() - claimed.at.getTime()) / 1000;
    });
    const oneEncode = Math.max(...encodes);
    const starts = done.map((s) => s.history.filter((h) => h.transition === 'processing_started').length);
    process.stdout.write(
      `\nrecovery after random SIGKILLs: ${recovery.toFixed(1)} s from the last kill until all ${CLIPS} clips were in review ` +
        `(lock ${LOCK_SECONDS} s, longest encode ${oneEncode.toFixed(1)} s, claims per clip ${starts.join('/')}, ` +
        `seed ${seed}, kills at ${killedAt.map((t) => ((t - killedAt[0]!) / 1000).toFixed(1)).join(', ')} s)\n`,
    );
    // The queue hands a dead worker's job on within 1¼ lock times; then one encode. 5 s for the rest.
    expect(recovery).toBeLessThanOrEqual(LOCK_SECONDS * 1.25 + oneEncode + 5);
    expect(starts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(CLIPS + KILLS);
    for (const s of done) {
      expect(s.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(1);
      await expectOnlyRecordedOutputs(app.services, s, ['master', 'poster', 'preview']);
    }
  }, 480_000);
});

/** mulberry32: a small seeded generator, so a failing schedule can be run again. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
