import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Submission } from '../../shared/submissions/submission.model';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { expectOnlyRecordedOutputs, submitFile } from '../helpers/worker-env';

const ROOT = join(__dirname, '..', '..');

/**
 * The worker as a real process (dist/worker/main.js, built by `npm test`'s setup), stopped in the middle
 * of an encode: killed outright, or asked to stop. Either way the clip ends processed exactly once.
 */
describe('a worker stopped mid-encode', () => {
  let app: TestApp;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    app = await startTestApp({ QUEUE_LOCK_SECONDS: '4', WORKER_CONCURRENCY: '1' });
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
  });

  function startWorker(): ChildProcess {
    const worker = spawn(process.execPath, [join(ROOT, 'dist', 'worker', 'main.js')], { env: app.env, stdio: ['ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'] });
    workers.push(worker);
    return worker;
  }

  async function load(id: string): Promise<Submission> {
    return (await app.services.db.submissions.findById(id).lean<Submission>())!;
  }

  async function waitFor(id: string, check: (s: Submission) => boolean, seconds: number): Promise<Submission> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const submission = await load(id);
      if (check(submission)) return submission;
      if (Date.now() > deadline) throw new Error(`timed out; status ${submission.status}, progress ${submission.processing.progress}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function expectProcessedOnce(id: string): Promise<Submission> {
    const done = await waitFor(id, (s) => s.status === 'in_review', 180);
    expect(done.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(1);
    await expectOnlyRecordedOutputs(app.services, done, ['poster', 'preview']);
    return done;
  }

  jest.setTimeout(300_000);

  test('when the worker is killed with SIGKILL mid-encode and a new one starts, then the clip ends with one set of outputs and one transition to review', async () => {
    const id = await submitFile(app, await FIXTURES.long!());
    const first = startWorker();
    await waitFor(id, (s) => s.status === 'processing' && s.processing.progress >= 15, 120);
    first.kill('SIGKILL');
    await once(first, 'exit');
    startWorker();
    const done = await expectProcessedOnce(id);
    expect(done.history.filter((h) => h.transition === 'processing_started').length).toBeGreaterThanOrEqual(2);
  });

  test('when the worker gets SIGTERM mid-encode, then it hands the job back, exits 0, and another worker finishes the clip', async () => {
    const id = await submitFile(app, await FIXTURES.long!());
    const first = startWorker();
    await waitFor(id, (s) => s.status === 'processing' && s.processing.progress >= 15, 120);
    first.kill('SIGTERM');
    const [code] = (await once(first, 'exit')) as [number | null];
    expect(code).toBe(0);
    const handedBack = await load(id);
    expect(handedBack.history.at(-1)).toMatchObject({ transition: 'requeued', by: 'worker' });
    startWorker();
    await expectProcessedOnce(id);
  });
});
