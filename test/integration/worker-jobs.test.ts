// The test plays an older version, which queued webhook jobs in the submissions queue: only bull itself can.
// eslint-disable-next-line no-restricted-imports
import Bull from 'bull';
import { Types } from 'mongoose';
import { createJobQueue, type JobQueue } from '../../shared/queue/queue';
import { startTestApp, testServices, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { cleanWorkDir, ownWorkDir, workerProcesses } from '../helpers/worker-processes';

/**
 * WORKER_JOBS on the real Redis: the webhook sender (deliver-webhook) and a media worker (all-but-webhooks) each take
 * only their own jobs, and leave the other's waiting; a webhook job queued in the old single queue is moved over.
 */
describe('workers that take some jobs only', () => {
  let prefix = '';
  beforeEach(() => {
    // Each test its own queues: the workers of one test stay open until the end.
    prefix = `t${process.pid}jobs${Date.now().toString(36)}`;
  });
  const queues: JobQueue[] = [];
  const open = () => {
    const queue = createJobQueue({ redisUrl: testServices().redisUrl, prefix, lockSeconds: 5 });
    queues.push(queue);
    return queue;
  };

  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
  });

  test('when only the webhook sender runs, then a processing job waits and a webhook is delivered; a media worker then takes the job', async () => {
    const sender = open();
    const delivered: string[] = [];
    void sender.process('deliver-webhook', 1, async (job) => {
      delivered.push(job.payload.deliveryId);
    });
    const producer = open();
    await producer.enqueue('process-submission', { submissionId: 'clip-1' });
    await producer.enqueue('deliver-webhook', { deliveryId: 'delivery-1' });

    await waitUntil(() => delivered.length === 1, { timeoutMs: 10_000, what: 'the webhook delivered' });
    expect(delivered).toEqual(['delivery-1']);
    // The processing job was queued first: on one shared queue the sender (one job at a time, oldest first) would have
    // taken it before the webhook, and failed it for want of a handler.
    expect(await producer.jobState('clip-1')).toBe('waiting');

    const media = open();
    const processed: string[] = [];
    void media.process('process-submission', 1, async (job) => {
      processed.push(job.payload.submissionId);
    });
    await waitUntil(() => processed.length === 1, { timeoutMs: 10_000, what: 'the processing job taken by the media worker' });
    expect(await producer.jobState('clip-1')).toBe('completed');
    expect(await producer.jobState('webhook-delivery-1')).toBe('completed');
  });

  test('when a webhook job sits in the submissions queue (queued before the split), then a media worker moves it to the sender', async () => {
    const old = new Bull('submissions', testServices().redisUrl, { prefix });
    await old.add('deliver-webhook', { deliveryId: 'delivery-old' }, { jobId: 'webhook-delivery-old' });
    await old.close();
    const delivered: string[] = [];
    void open().process('process-submission', 1, async () => undefined);
    void open().process('deliver-webhook', 1, async (job) => {
      delivered.push(job.payload.deliveryId);
    });
    await waitUntil(() => delivered.includes('delivery-old'), { timeoutMs: 10_000, what: 'the old webhook job delivered by the sender' });
  });

  test('when one process handles several job names at concurrency 1, then it runs one job at a time in all, not one per name', async () => {
    const worker = open();
    let running = 0;
    let most = 0;
    const done: string[] = [];
    const work = async (id: string) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 150));
      running -= 1;
      done.push(id);
    };
    void worker.process('process-submission', 1, (job) => work(job.payload.submissionId));
    void worker.process('release-submission', 1, (job) => work(`release-${job.payload.submissionId}`));
    void worker.process('takedown-submission', 1, (job) => work(`takedown-${job.payload.submissionId}`));
    const producer = open();
    for (let i = 0; i < 3; i += 1) {
      await producer.enqueue('process-submission', { submissionId: `clip-${i}` });
      await producer.enqueue('release-submission', { submissionId: `clip-${i}` });
      await producer.enqueue('takedown-submission', { submissionId: `clip-${i}` });
    }
    await waitUntil(() => done.length === 9, { timeoutMs: 20_000, what: 'the nine jobs done' });
    // bull adds up named handlers' concurrency: with one bull handler per name this ran three at once.
    expect(most).toBe(1);
    await expect(worker.process('verify-file', 2, async () => undefined)).rejects.toThrow(/one concurrency per queue/);
  });
});

describe('real worker processes with WORKER_JOBS', () => {
  let app: TestApp;
  const workers = workerProcesses(() => app);
  const workDir = ownWorkDir();

  beforeAll(async () => {
    app = await startTestApp({ WORK_DIR: workDir });
  });

  afterAll(async () => {
    await workers.stopAll();
    await app.close();
    await cleanWorkDir(workDir);
  });

  test('when a worker runs with WORKER_JOBS=deliver-webhook, then it takes a webhook job and leaves a processing job queued before it; one with all-but-webhooks takes that', async () => {
    // Ids of documents that do not exist: each handler finds nothing to do and the job completes.
    const submissionId = new Types.ObjectId().toString();
    const deliveryId = new Types.ObjectId().toString();
    await app.services.queue.enqueue('process-submission', { submissionId });
    await app.services.queue.enqueue('deliver-webhook', { deliveryId });

    const sender = workers.start({ WORKER_JOBS: 'deliver-webhook' });
    await waitUntil(async () => (await app.services.queue.jobState(`webhook-${deliveryId}`)) === 'completed', {
      timeoutMs: 30_000,
      what: 'the webhook job taken by the sender',
      seen: async () => ({ webhook: await app.services.queue.jobState(`webhook-${deliveryId}`), exit: sender.exitCode }),
    });
    expect(await app.services.queue.jobState(submissionId)).toBe('waiting');

    workers.start({ WORKER_JOBS: 'all-but-webhooks' });
    await waitUntil(async () => (await app.services.queue.jobState(submissionId)) === 'completed', { timeoutMs: 30_000, what: 'the processing job taken by the media worker' });
  }, 70_000);
});
