import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GROUP_FILE_PREFIX } from '../../worker/ffmpeg/ffmpeg';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { expectOnlyRecordedOutputs, submitFile } from '../helpers/worker-env';
import { cleanWorkDir, jobFolders, loadSubmission, ownWorkDir, processesIn, running, workerProcesses } from '../helpers/worker-processes';
import { waitUntil } from '../helpers/wait-until';

/**
 * Fenced workers, as real processes: a worker whose event loop stalls past its lease (SIGSTOP; its
 * ffmpeg keeps encoding) is replaced and, when it wakes up, neither stores nor settles anything; an ffmpeg
 * left running by a worker killed outright is killed by the next worker's sweep.
 */
describe('fenced workers', () => {
  let app: TestApp;
  const workDir = ownWorkDir();
  const workers = workerProcesses(() => app);

  beforeAll(async () => {
    app = await startTestApp({ QUEUE_LOCK_SECONDS: '4', WORKER_CONCURRENCY: '1', WORK_DIR: workDir });
    await seedDemoCampaign(app.deps);
  });

  afterEach(async () => {
    await workers.stopAll();
    for (const pid of await processesIn(workDir)) process.kill(pid, 'SIGCONT'); // a held encode is let go
  });

  afterAll(async () => {
    await app.close();
    await cleanWorkDir(workDir);
  });

  jest.setTimeout(300_000);

  async function encodingBy(workerPid: number, intervalMs = 100): Promise<{ folder: string; ffmpeg: number[] }> {
    return waitUntil(async () => {
      const folder = (await jobFolders(workDir)).find((f) => f.workerPid === workerPid)?.path;
      // The encode (not the probe): the one run that writes into out/.
      const ffmpeg = folder ? await processesIn(`${folder}/out/`) : [];
      return folder && ffmpeg.length > 0 ? { folder, ffmpeg } : null;
    }, { timeoutMs: 120_000, intervalMs, what: `the encode of worker ${workerPid}` });
  }

  test('when a worker stalls past its lease and another takes the clip over, then only the second one stores and settles: one set of outputs, one processing_succeeded', async () => {
    // A clip of a few seconds: each encode is caught as soon as it runs (polled every 20 ms).
    const id = await submitFile(app, await FIXTURES.shortEncode!());
    const first = workers.start();
    const firstRun = await encodingBy(first.pid!, 20);
    first.kill('SIGSTOP'); // its event loop stalls; its ffmpeg, in a process group of its own, keeps encoding

    const second = workers.start();
    const taken = await waitUntil(async () => {
      const s = await loadSubmission(app, id);
      return s.history.filter((h) => h.transition === 'processing_started').length === 2 ? s : null;
    }, { timeoutMs: 60_000, what: 'the second worker to take the clip over' });
    const [firstLease, secondLease] = taken.history.filter((h) => h.transition === 'processing_started').map((h) => h.lease);
    expect(firstLease).not.toBe(secondLease);
    const secondRun = await encodingBy(second.pid!, 20);
    // Hold the second encode, so the first wakes up (once its own ffmpeg has finished) while the second still
    // holds the clip.
    for (const pid of secondRun.ffmpeg) process.kill(pid, 'SIGSTOP');
    await waitUntil(async () => (await processesIn(firstRun.folder)).length === 0, { timeoutMs: 180_000, what: "the first worker's ffmpeg to finish" });

    first.kill('SIGCONT');
    await waitUntil(async () => !(await jobFolders(workDir)).some((f) => f.workerPid === first.pid), { timeoutMs: 60_000, what: 'the woken worker to give up its job folder' });
    const meanwhile = await loadSubmission(app, id);
    expect(meanwhile.status).toBe('processing');
    expect(meanwhile.processing.lease?.id).toBe(secondLease);
    expect(meanwhile.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(0);
    expect(await app.services.storage.list(`outputs/${id}/${firstLease}/`)).toEqual([]);
    expect(first.exitCode).toBeNull(); // it carries on as a worker

    for (const pid of secondRun.ffmpeg) process.kill(pid, 'SIGCONT');
    const done = await waitUntil(async () => {
      const s = await loadSubmission(app, id);
      return s.status === 'in_review' ? s : null;
    }, { timeoutMs: 180_000, what: 'the clip in review' });
    const succeeded = done.history.filter((h) => h.transition === 'processing_succeeded');
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]!.lease).toBe(secondLease);
    await expectOnlyRecordedOutputs(app.services, done, ['master', 'poster', 'preview']);
  });

  test("when a worker is killed outright mid-encode, then the next worker's sweep kills the ffmpeg it left running, and the clip is processed once", async () => {
    // A clip of a few seconds, its encode stopped (SIGSTOP) as soon as it runs: caught mid-encode, and it cannot
    // end on its own by finishing its encode.
    const id = await submitFile(app, await FIXTURES.shortEncode!());
    const first = workers.start();
    const { folder, ffmpeg } = await encodingBy(first.pid!, 20);
    for (const pid of ffmpeg) process.kill(pid, 'SIGSTOP');
    // Caught so early, the worker may not have recorded its ffmpeg's group in the folder yet: the sweep knows only recorded groups.
    await waitUntil(async () => (await Promise.all(ffmpeg.map((pid) => stat(join(folder, `${GROUP_FILE_PREFIX}${pid}`)).then(() => true, () => false)))).every(Boolean), { timeoutMs: 10_000, intervalMs: 20, what: "the worker to record its ffmpeg's process group" });
    expect((await loadSubmission(app, id)).status).toBe('processing');
    await workers.kill(first, 'SIGKILL');
    // Orphaned: alive without its worker.
    for (const pid of ffmpeg) expect(await running(pid)).toBe(true);

    workers.start();
    await waitUntil(async () => (await Promise.all(ffmpeg.map(running))).every((alive) => !alive), { timeoutMs: 30_000, what: 'the orphaned ffmpeg to be killed' });
    const done = await waitUntil(async () => {
      const s = await loadSubmission(app, id);
      return s.status === 'in_review' ? s : null;
    }, { timeoutMs: 180_000, what: 'the clip in review' });
    expect(done.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(1);
    await expectOnlyRecordedOutputs(app.services, done, ['master', 'poster', 'preview']);
  });
});
